"""The hash cache: a remembered hash only while (size, mtime, inode) hold; a damaged cache is set aside."""

from __future__ import annotations

import logging

from steervis.data.hashes import HashCache, walk_files
from steervis.data.images import sha256_file


def test_a_damaged_hash_cache_is_set_aside_and_rebuilt(tmp_path, caplog):
    image = tmp_path / "a.bin"
    image.write_bytes(b"pixels")
    db = tmp_path / "files.sqlite"
    HashCache(db).sha256(image)
    db.write_bytes(db.read_bytes()[:100] + b"\0garbage" * 50)  # a truncated / overwritten database
    with caplog.at_level(logging.WARNING):
        assert HashCache(db).sha256(image) == sha256_file(image)
        assert HashCache(db).sha256(image) == sha256_file(image)
    assert (tmp_path / "files.sqlite.corrupt").exists() and "damaged" in caplog.text


def test_walk_files_follows_symlinked_folders_once(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "x.png").write_bytes(b"x")
    (tmp_path / "top").mkdir()
    (tmp_path / "top" / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "top" / "again").symlink_to(tmp_path / "top", target_is_directory=True)  # a loop
    assert [p.name for p in walk_files(tmp_path / "top")] == ["x.png"]
