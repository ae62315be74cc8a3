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

from steervis.config import from_dict, partial_config
from steervis.device import check_placement
from steervis.errors import SteervisError
from steervis.ground.intervals import AP_RESAMPLES
from steervis.vllavo.describe.config import DescribeConfig

DEFAULT_METHODS = ["zeroshot", "linear-probe", "by-description", "description-probe", "zeroshot-llm",
                   "describe-decide"]
# The one-sentence answer to every older spelling of the runs.
RUNS_FORM = ("runs: [{label: describe-decide@react-pool, method: describe-decide, "
             "describe: {matcher: react-pool}}]")

# Describer settings a run changes on top of the evaluation's ``describe`` (None: the evaluation's value).
DescribeLayer = partial_config(DescribeConfig, "DescribeLayer")


@dataclass
class RunSpec:
    """One row of the table: a registered method, its options, and the descriptions it reads.

    Args:
        label: the row's name in tables, predictions and part files ("" = the method's name); unique.
        method: a registered method (``steervis evaluate --list-methods``).
        options: the method's options, checked against its ``Options`` dataclass (e.g. ``{C: 1.0}``).
        describe: describer settings this run changes on top of the evaluation's ``describe``.
        components: description parts this run reads (null = the evaluation's ``components``).
    """

    label: str = ""
    method: str = ""
    # options and describe are checked in __post_init__ (against the method's Options and DescribeLayer), so
    # an error names the run's label
    options: Any = field(default_factory=dict)
    describe: Any = field(default_factory=DescribeLayer)
    components: list[str] | None = None

    def __post_init__(self) -> None:
        from steervis.methods import METHODS, method_options

        if not self.method:
            raise SteervisError(f"A run has no method: {RUNS_FORM}.")
        self.label = self.label or self.method
        if self.options is None or isinstance(self.options, dict):
            self.options = method_options(self.method, self.options, where=f"runs.{self.label}.options.")
        elif not isinstance(self.options, METHODS.get(self.method).Options):
            raise SteervisError(f"Config value runs.{self.label}.options={self.options!r} must be a mapping "
                                "(e.g. {key: value}) of the method's options.")
        if self.describe is None or isinstance(self.describe, dict):
            self.describe = from_dict(DescribeLayer, self.describe, where=f"runs.{self.label}.describe.")
        elif not isinstance(self.describe, DescribeLayer):
            raise SteervisError(f"Config value runs.{self.label}.describe={self.describe!r} must be a "
                                "mapping (e.g. {matcher: react-pool}).")
        if getattr(self.options, "components", None) is not None:  # one source: the run's components
            raise SteervisError(f"runs.{self.label}.options.components: set `components` on the run "
                                "(beside options), or at the top of the evaluate config.")


@dataclass
class UDAConfig:
    source: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    rounds: int = 3  # VLLaVO's self-training rounds


@dataclass
class FewShotConfig:
    k: int = 4  # labelled images per class (VRL's few-shot setting)
    seeds: list[int] = field(default_factory=lambda: [0])  # one split per held-out domain and seed


@dataclass
class DetectionConfig:
    """The detection protocol: each grounder's COCO AP on one split, and a few scenes drawn per grounder.

    Args:
        grounders: grounders by name (``steervis ground --help``), hub ids, or trained folders as paths.
        scenes: a scenes split (test-seen, test-unseen, test-styles, train), read when ``coco`` is empty.
        coco: a COCO folder (images + annotations.json), read instead of the scenes when given.
        part: main (all but the last tenth), val (the last tenth: choose settings there) or all.
        images: the first N images of the part (0: all).
        threshold: keep boxes scoring above this (low: AP rewards recall).
        nms_iou: boxes of one phrase overlapping a better one by more than this IoU are dropped.
        bootstrap: resamples of the images for the 95-percent intervals of AP and AP50 (0: none).
        drawn: scenes drawn per grounder in the report, the same scenes for every grounder.
        draw_threshold: detections scoring above this are drawn.
        device / dtype: where the grounders run and in which precision.
    """

    grounders: list[str] = field(default_factory=lambda: ["glip", "crop"])
    scenes: str = "test-unseen"
    coco: str = ""
    part: str = "main"  # the validation tenth stays for choosing thresholds
    images: int = 0
    threshold: float = 0.05  # AP is measured over the whole score range: keep the low ones
    nms_iou: float = 0.5  # the usual detection NMS overlap, as `steervis ground eval`
    bootstrap: int = AP_RESAMPLES
    drawn: int = 6
    draw_threshold: float = 0.3  # a picture for a person: fewer, surer boxes than AP is measured at
    device: str = "auto"
    dtype: str = "auto"

    def __post_init__(self) -> None:
        check_placement(self)
        if not self.grounders:
            raise SteervisError("detection.grounders is empty: name at least one, e.g. "
                                "--set detection.grounders=[glip,crop].")


@dataclass
class EvaluateConfig:
    """What ``steervis evaluate`` runs.

    Args:
        data: dataset root in <domain>/<class>/<image> layout; "" = the minidomains benchmark.
        protocol: a registered protocol: "dg" (leave one domain out), "uda" (source → target self-training),
            "few-shot" (``few_shot.k`` images per class from the other domains, per seed) or "detection"
            (the COCO AP of ``detection.grounders`` on a scenes split or a COCO folder; ``runs`` unused).
        runs: the rows, run in this order on every split; each a label, a registered method, its options,
            describer settings on top of ``describe``, and description parts, e.g.
            ``{label: describe-decide@react-pool, method: describe-decide, describe: {matcher: react-pool}}``.
        domains / classes: restrict the dataset ([] = everything).
        held_out: DG and few-shot domains to hold out ([] = every domain).
        max_per_class: cap images per (domain, class), chosen by content hash ([] = 0 = no cap).
        components: description parts the language methods read ([] = all that exist); a run may set its
            own (describe-decide's adapter card records what it read).
        describe: the describer every run shares (its values in YAML, e.g. {matcher: tiny-clip}).
        out: folder under which the run folder is created.
        name: the run folder's name inside ``out``: a plain folder name, no path separators or ``..``
            ("" = <protocol>-<config hash>, so the same config resumes the same folder).
        follow_links: also read symlinks in the data folder that lead outside it (links that stay inside it
            are always followed).
        gallery: number of mistakes shown per method in the report.
    """

    data: str = ""
    protocol: str = "dg"
    runs: list[RunSpec] = field(default_factory=lambda: [RunSpec(method=m) for m in DEFAULT_METHODS])
    domains: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    held_out: list[str] = field(default_factory=list)
    max_per_class: int = 0
    uda: UDAConfig = field(default_factory=UDAConfig)
    few_shot: FewShotConfig = field(default_factory=FewShotConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    components: list[str] = field(default_factory=list)
    describe: DescribeConfig = field(default_factory=DescribeConfig)
    seed: int = 0
    out: str = "runs"
    name: str = ""
    gallery: int = 12
    follow_links: bool = False

    def __post_init__(self) -> None:
        if not self.runs:  # an empty list must not quietly mean "every method" or "nothing"
            raise SteervisError("runs is empty: name at least one run, e.g. runs: [{method: zeroshot}] "
                                "(`steervis evaluate --list-methods`).")
        self.reject_old_spelling({"runs": self.runs})  # EvaluateConfig(runs=["zeroshot"]) from Python
        self.runs = [from_dict(RunSpec, r, where="runs.") if isinstance(r, dict) else r for r in self.runs]
        labels = [r.label for r in self.runs]
        twice = sorted({label for label in labels if labels.count(label) > 1})
        if twice:
            raise SteervisError(f"Two runs are labelled {twice[0]!r}: give each run its own label.")
        check_run_name(self.name)
        if isinstance(self.describe, dict):  # EvaluateConfig(describe={"matcher": ...}) from Python
            self.describe = from_dict(DescribeConfig, self.describe, where="describe.")
        if isinstance(self.few_shot, dict):
            self.few_shot = from_dict(FewShotConfig, self.few_shot, where="few_shot.")
        if isinstance(self.detection, dict):
            self.detection = from_dict(DetectionConfig, self.detection, where="detection.")

    @staticmethod
    def reject_old_spelling(data: dict[str, Any], where: str = "") -> None:
        """``methods`` / ``method_options`` and ``METHOD@LABEL`` strings are one list of runs now."""
        for key in ("methods", "method_options"):
            if key in data:
                raise SteervisError(f"{where}{key} is now `runs`, a list of runs, each a label (default: its "
                                    f"method), method, options, describe and components, e.g. {RUNS_FORM}.")
        runs = data.get("runs")
        for run in runs if isinstance(runs, list) else []:  # another kind of value: the type check says so
            if isinstance(run, str):
                method, _, label = run.partition("@")
                new = f"{{label: {run}, method: {method}}}" if label else f"{{method: {run}}}"
                raise SteervisError(f"{where}runs entry {run!r} is a name, not a run: write {new}, as in "
                                    f"{RUNS_FORM}.")


def select_runs(cfg: EvaluateConfig, labels: list[str]) -> EvaluateConfig:
    """Only the runs with these labels, in this order; a registered method name that labels no run becomes a
    run of that method with its default options (``--runs zeroshot,react``)."""
    import difflib
    from dataclasses import replace

    from steervis.methods import METHODS

    by_label = {r.label: r for r in cfg.runs}
    chosen = []
    for label in labels:
        if label in by_label:
            chosen.append(by_label[label])
        elif label in METHODS.names():
            chosen.append(RunSpec(method=label))
        else:
            close = difflib.get_close_matches(label, [*by_label, *METHODS.names()], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise SteervisError(f"--runs {label}: no run has this label and no method this name.{hint} "
                                f"A new run goes in the config, e.g. {RUNS_FORM}.")
    return replace(cfg, runs=chosen)


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
