"""A file's sha256 you can trust: remembered by (size, mtime, inode), recomputed when any of them changes.

A manifest's recorded sha256 is a claim about the bytes when it was written; an image edited since must not
keep its old description and features. So every hash goes through :func:`file_sha256`: a stat that matches
the one remembered for the path returns the remembered hash (one ``stat``), anything else reads and hashes the
file again, the way git and rsync decide what changed. The memory is a small SQLite table in the cache (safe
for several processes); a damaged one is set aside and simply rebuilt.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "a.bin"
>>> _ = path.write_bytes(b"abc")
>>> cache = HashCache(path.parent / "hashes.sqlite")
>>> cache.sha256(path)[:12]
'ba7816bf8f01'
>>> _ = path.write_bytes(b"abcd")  # edited: another size, another hash
>>> cache.sha256(path)[:12]
'88d4266fd4e6'
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from steervis.atomic import set_aside
from steervis.data.images import sha256_file

log = logging.getLogger(__name__)
# Seconds a writer waits for another process's transaction before giving up (then it only skips remembering).
BUSY_TIMEOUT_S = 10


def _stat_key(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ino


class HashCache:
    """``path → (size, mtime_ns, inode, sha256)`` in one SQLite file; thread-safe, several processes
    welcome."""

    def __init__(self, file: str | Path | None = None):
        if file is None:
            from steervis.paths import cache_dir

            file = cache_dir("hashes") / "files.sqlite"
        self.file = Path(file)
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._open()
        return db

    def _open(self) -> sqlite3.Connection:
        for attempt in range(2):
            try:
                db = sqlite3.connect(self.file, timeout=BUSY_TIMEOUT_S, isolation_level=None)
                # a cache: a lost write costs one rehash, not an fsync per file
                db.execute("PRAGMA synchronous=OFF")
                db.execute("CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime "
                           "INTEGER, inode INTEGER, sha256 TEXT)")
                self._local.inode = self.file.stat().st_ino
                return db
            except sqlite3.OperationalError:
                raise
            except sqlite3.DatabaseError as err:  # not a database (truncated, overwritten): start afresh
                if attempt:
                    raise
                set_aside(self.file, err, "hash cache")
        raise AssertionError("unreachable")

    def _query(self, sql: str, args: tuple) -> list[tuple]:
        """Run one statement; a damaged database is set aside (once, by whoever finds it) and rebuilt."""
        try:
            return self._db().execute(sql, args).fetchall()
        except sqlite3.OperationalError as err:  # busy or read-only: hashing still works, only memory is lost
            log.debug("hash cache unavailable (%s)", err)
            return []
        except sqlite3.DatabaseError as err:  # "database disk image is malformed"
            with contextlib.suppress(OSError):
                # not yet replaced by another
                if self.file.stat().st_ino == getattr(self._local, "inode", None):
                    set_aside(self.file, err, "hash cache")
            self._local.db = None
            return []

    def sha256(self, path: str | Path, claimed: str | None = None) -> str:
        """The sha256 of ``path``'s current bytes; ``claimed`` (e.g. a manifest's) is checked, never
        trusted."""
        path = Path(path).resolve()
        key = _stat_key(path)
        rows = self._query("SELECT size, mtime, inode, sha256 FROM files WHERE path = ?", (str(path),))
        if rows and tuple(rows[0][:3]) == key:
            return rows[0][3]
        digest = sha256_file(path)
        if claimed and claimed != digest:
            log.info("%s changed since its manifest was written: using its current content", path)
        self._query("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", (str(path), *key, digest))
        return digest


def file_sha256(path: str | Path, claimed: str | None = None, cache: HashCache | None = None) -> str:
    """The sha256 of ``path`` now, through the machine's hash cache (see :class:`HashCache`)."""
    return (cache or HashCache()).sha256(path, claimed)


def walk_files(root: str | Path, keep_link: Callable[[Path], bool] | None = None) -> list[Path]:
    """Every file under ``root``, following symlinks (each real folder once, so a link loop ends).

    ``keep_link(path)`` decides, for each symlink met (a folder or a file), whether to follow it; default:
    all.
    """
    seen: set[str] = set()
    out: list[Path] = []

    def kept(folder: str, name: str) -> bool:
        return (keep_link is None or not os.path.islink(os.path.join(folder, name))
                or keep_link(Path(folder) / name))

    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if kept(folder, d))
        out += [Path(folder) / name for name in sorted(files) if kept(folder, name)]
    return out
