"""The typed config of ``steervis evaluate`` (light to import: the CLI derives its flags from it).

>>> from steervis.config import load_config
>>> cfg = load_config(EvaluateConfig, preset="quick", overrides=["describe.matcher=tiny-clip"])
>>> cfg.protocol, cfg.held_out, cfg.describe.matcher
('dg', ['photo', 'sketch'], 'tiny-clip')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PureWindowsPath
from typing import Any

from steervis.config import from_dict
from steervis.errors import SteervisError
from steervis.vllavo.describe.config import DescribeConfig

DEFAULT_METHODS = ["zeroshot", "linear-probe", "by-description", "description-probe", "zeroshot-llm",
                   "describe-decide"]


@dataclass
class UDAConfig:
    source: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    rounds: int = 3  # VLLaVO's self-training rounds


@dataclass
class EvaluateConfig:
    """What ``steervis evaluate`` runs.

    Args:
        data: dataset root in <domain>/<class>/<image> layout; "" = the minidomains benchmark.
        protocol: a registered protocol: "dg" (leave one domain out) or "uda" (source → target self-training).
        methods: registered method names, run in this order on every split. ``METHOD@LABEL`` is a labelled
            variant: its own row, its ``method_options`` entry on top of METHOD's, and that entry may also set
            ``describe`` (overrides of the run's describer) and ``components``, e.g.
            ``describe-decide@react-pool: {describe: {matcher: react-pool}}``.
        method_options: per-method options, e.g. {"linear-probe": {"C": 1.0}}, each checked against that
            method's ``Options`` dataclass before anything runs.
        domains / classes: restrict the dataset ([] = everything).
        held_out: DG domains to hold out ([] = every domain).
        max_per_class: cap images per (domain, class), chosen by content hash ([] = 0 = no cap).
        components: description parts the language methods read ([] = all that exist); the one place this
            is set for a run (describe-decide's adapter card records it).
        describe: the describer every method shares (its values in YAML, e.g. {matcher: tiny-clip}).
        out: folder under which the run folder is created.
        name: the run folder's name inside ``out``: a plain folder name, no path separators or ``..``
            ("" = <protocol>-<config hash>, so the same config resumes the same folder).
        follow_links: also read symlinks in the data folder that lead outside it (links that stay inside it
            are always followed).
        gallery: number of mistakes shown per method in the report.
    """

    data: str = ""
    protocol: str = "dg"
    methods: list[str] = field(default_factory=lambda: list(DEFAULT_METHODS))
    method_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    domains: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    held_out: list[str] = field(default_factory=list)
    max_per_class: int = 0
    uda: UDAConfig = field(default_factory=UDAConfig)
    components: list[str] = field(default_factory=list)
    describe: DescribeConfig = field(default_factory=DescribeConfig)
    seed: int = 0
    out: str = "runs"
    name: str = ""
    gallery: int = 12
    follow_links: bool = False

    def __post_init__(self) -> None:
        if not self.methods:  # `--methods ''` must not quietly mean "every method" or "nothing"
            raise SteervisError("methods is empty: name at least one method (`steervis evaluate "
                                "--list-methods`).")
        check_run_name(self.name)
        if isinstance(self.describe, dict):  # EvaluateConfig(describe={"matcher": ...}) from Python
            self.describe = from_dict(DescribeConfig, self.describe, where="describe.")


def check_run_name(name: str) -> None:
    """A run name names one folder inside ``out``: ``../x``, ``a/b`` or ``/tmp/x`` would write elsewhere."""
    if not isinstance(name, str) or name == "":  # "" is the default: a name derived from the config
        return
    why = _not_a_folder_name(name)
    if why:
        raise SteervisError(f"Run name {name!r} must be a plain folder name inside --out ({why}): e.g. "
                            "--set name=ablation-1, and choose where runs go with --out.")


def _not_a_folder_name(name: str) -> str:
    """Why ``name`` is not one folder name ("" if it is)."""
    separators = [sep for sep in ("/", "\\") if sep in name]
    if separators:
        return f"it contains {separators[0]!r}, a path separator"
    if not name.strip():
        return "it is blank"
    if name.strip() in (".", ".."):
        return "it names the --out folder itself or its parent"
    if PureWindowsPath(name).drive:  # "C:x" is relative to drive C's working folder on Windows
        return "it names a drive"
    return ""
