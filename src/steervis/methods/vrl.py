"""VRL as a method: the shots' descriptions → a text LM verbalizes criteria → the matcher scores every image
on them → an interpretable classifier on the scores (:mod:`steervis.vrl`).

Descriptions come from the run's describer (``MethodContext.describe_texts``) and image embeddings from the
run's cache, so VRL reads the same descriptions as describe-decide and the same embeddings as zero-shot.
``criteria=FILE`` fits on a criteria file instead of verbalizing (the one ``save`` writes, edited or not).
``verbalizer=vlm`` has a VLM (``vlm``, steervis' LLaVA) write the criteria from the two images of each pair,
``mapping=vlm`` scores each criterion by the VLM's log-odds of "yes" to its question
(:mod:`steervis.methods.vrl_vlm`). The verbalizer's answers and the VLM mapping's scores are cached under
``STEERVIS_HOME`` (:mod:`steervis.vrl.cache`): the shuffled control, another classifier or a rerun asks the
models nothing they have answered.

>>> clf = VRL(MethodContext(), lm="smollm2-135m-instruct").fit(train, classes)  # doctest: +SKIP
>>> print(clf.explain())  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from steervis.device import check_placement, precision_identity
from steervis.errors import SteervisError
from steervis.methods.base import Method, check_classes, check_labels

log = logging.getLogger(__name__)


VERBALIZERS = ("describe", "vlm")
MAPPINGS = ("matcher", "vlm")


@dataclass
class VRLOptions:
    matcher: str = "conse"  # scores images on the criteria
    lm: str = "smollm2-135m-instruct"  # writes the criteria from the pairs' descriptions
    classifier: str = "logreg"  # logreg, tree or mlp
    criteria: str | None = None  # a criteria file to fit on instead of verbalizing
    from_images: bool = True  # false: the class-names control (the LM reads class names, no image)
    shuffle: bool = False  # the shuffled control: the criteria's words shuffled across criteria
    super_categories: str | None = None  # a YAML file class → super-category; classes pair inside one
    pairs: int = 1  # image pairs per two classes and per class
    # 64 pairs: about a minute of a 135M LM on a laptop CPU, and more criteria than few shots can weigh; the
    # class-names control draws as many name pairs, so it is asked as often as the verbalizer it controls
    max_pairs: int = 64
    max_new_tokens: int = 48
    template: str = "{}"  # how the matcher reads a phrase: the phrase as written in the criteria file
    verbalizer: str = "describe"  # describe (descriptions + the text LM) or vlm (the VLM sees both images)
    mapping: str = "matcher"  # matcher (image-text similarity) or vlm (log P(yes) - log P(no) per question)
    vlm: str = "stage2"  # the VLM of verbalizer=vlm and mapping=vlm: steervis' LLaVA trained here
    seed: int = 0
    device: str = "auto"  # where its models run: auto, cpu, cuda, cuda:N
    dtype: str = "auto"  # their precision: auto, float32, bfloat16, float16

    def __post_init__(self) -> None:
        from steervis.vrl.classifier import KINDS

        check_placement(self)
        for name, value, known in (("verbalizer", self.verbalizer, VERBALIZERS),
                                   ("mapping", self.mapping, MAPPINGS)):
            if value not in known:
                raise SteervisError(f"vrl has no {name} {value!r}: choose one of {', '.join(known)}.")
        if self.classifier not in KINDS:
            raise SteervisError(f"vrl has no classifier {self.classifier!r}: choose one of "
                                f"{', '.join(KINDS)}.")


class VRL(Method):
    """Verbalized criteria scored by a matcher, then logistic regression, a tree or an MLP."""

    name = "vrl"
    Options = VRLOptions
    capabilities = frozenset({"diagnostics"})

    def __init__(self, context: Any = None, options: VRLOptions | None = None, **values: Any):
        super().__init__(context, options, **values)
        self.criteria_list: list[Any] = []
        self.fitted: Any = None
        self.facts: dict[str, Any] = {}
        self._shots: tuple[np.ndarray, np.ndarray] | None = None
        self._mapping: Any = None

    def _mapper(self) -> Any:
        """One mapper per method, so fit and predict embed each phrase once."""
        from steervis.vrl.mapping import CriterionMapper

        if self._mapping is None:
            matcher = self.context.matcher(self.matcher, self.device, self.dtype)
            self._mapping = CriterionMapper(matcher, self.template)
        return self._mapping

    def _scores(self, items: pd.DataFrame) -> np.ndarray:
        if self.mapping == "vlm":
            from steervis.methods.vrl_vlm import VLMMapper

            if self._mapping is None:
                vlm = self.context.vlm(self.vlm, self.device, self.dtype)
                self._mapping = VLMMapper(vlm, self.context, name=self.vlm,
                                          precision=precision_identity(self.device, self.dtype))
            return self._mapping.scores(items, self.criteria_list)
        images = self.context.image_embeddings(items, self.matcher, self.device, self.dtype)
        return self._mapper().scores(images, self.criteria_list)

    def _ask(self, questions: list[str]) -> list[str]:
        """The text LM's answers (the LM is loaded on the first miss of the verbalization cache only)."""
        from steervis.lm.model import LanguageModel
        from steervis.vrl.verbalize import lm_asker

        lm = LanguageModel(self.context.model(self.lm, "causal-lm", self.device, self.dtype))
        return lm_asker(lm, self.max_new_tokens)(questions)

    def _verbalize(self, train: pd.DataFrame) -> Any:
        from steervis.vrl import verbalize as v
        from steervis.vrl.cache import CachedVerbalizer, weights_identity

        super_of = _super_categories(self.super_categories)
        if self.from_images:
            pairs = v.draw_pairs(train["class"].tolist(), self.pairs, super_of, self.max_pairs, self.seed)
            verbalizer, settings, weights = self._image_verbalizer(train.reset_index(drop=True))
        else:
            pairs = v.class_name_pairs(self.classes, super_of, self.max_pairs, self.seed)
            verbalizer = v.ClassNamesLM(self._ask)
            settings = self._lm_settings(v.NAME_DIFFERENCE, v.NAME_COMMONALITY)
            weights = [weights_identity(self.lm)]
        settings["precision"] = precision_identity(self.device, self.dtype)
        return v.verbalize(CachedVerbalizer(verbalizer, settings, weights), pairs, self.classes)

    def _lm_settings(self, difference: str, commonality: str) -> dict[str, Any]:
        """What the text LM's answers depend on besides its weights and the questions (the cache's key)."""
        from steervis.vrl import verbalize as v

        return {"lm": self.lm, **v.asker_settings(self.max_new_tokens), "max_description_chars":
                v.MAX_DESCRIPTION_CHARS, "templates": {"difference": difference, "commonality": commonality}}

    def _image_verbalizer(self, shots: pd.DataFrame) -> tuple[Any, dict[str, Any], list[str]]:
        """The verbalizer that reads the shots, its settings and the identity of its weights."""
        from steervis.vrl import verbalize as v
        from steervis.vrl.cache import weights_identity

        if self.verbalizer == "vlm":
            from steervis.llava.trained import vlm_identity
            from steervis.methods import vrl_vlm

            said = vrl_vlm.VLMVerbalizer(lambda: self.context.vlm(self.vlm, self.device, self.dtype), shots,
                                         self.context, self.max_new_tokens)
            settings = {"vlm": self.vlm, "answer_prefix": v.ANSWER_PREFIX,
                        "max_new_tokens": said.max_new_tokens, "batch_size": said.batch_size,
                        "templates": {"difference": vrl_vlm.PAIR_DIFFERENCE,
                                      "commonality": vrl_vlm.PAIR_COMMONALITY}}
            return said, settings, [vlm_identity(self.vlm)]
        said = v.DescribeThenLM(self._ask, self.context.describe_texts(shots))
        return said, self._lm_settings(v.DIFFERENCE, v.COMMONALITY), [weights_identity(self.lm)]

    def _criteria(self, train: pd.DataFrame) -> list[Any]:
        from steervis.vrl.criteria import drop_class_naming, read_criteria
        from steervis.vrl.verbalize import shuffle_criteria

        if self.options.criteria:
            found, dropped = drop_class_naming(read_criteria(self.options.criteria), self.classes)
            self.facts.update(source=str(self.options.criteria))
        else:
            said = self._verbalize(train)
            found, dropped = said.criteria, said.dropped_share
            self.facts.update(source="verbalized", answers=len(said.answers))
        self.facts["dropped_naming_class"] = round(dropped, 4)
        if not found:
            raise SteervisError("VRL has no criterion left once those naming a class are dropped: use a "
                                "larger lm, or give criteria=FILE with one criterion per line.")
        return shuffle_criteria(found, self.seed) if self.shuffle else found

    def fit(self, train: pd.DataFrame, classes: list[str]) -> VRL:
        self.classes = check_classes(classes)
        labels = check_labels(train, self.classes)
        self.facts = {"no_shots": [c for c in self.classes if c not in set(train["class"])]}
        self.criteria_list = self._criteria(train)
        return self._fit_scores(self._scores(train), labels)

    def _fit_scores(self, x: np.ndarray, labels: np.ndarray, params: dict | None = None) -> VRL:
        from steervis.vrl.classifier import fit_classifier

        self._shots = (x, labels)
        self.fitted = fit_classifier(x, labels, self.classifier, self.seed, params)
        self.facts.update(criteria=len(self.criteria_list), selection=self.fitted.selection,
                          params=self.fitted.params, fallback=self.fitted.fallback)
        if self.fitted.fallback:
            log.warning("vrl: %s", self.fitted.fallback)
        return self

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray:
        # Classes without shots get probability 0: sklearn's columns scattered into the full class list.
        proba = np.zeros((len(items), len(self.classes)))
        proba[:, self.fitted.labels] = self.fitted.predict_proba(self._scores(items))
        return proba

    def diagnostics(self) -> dict[str, Any]:
        from steervis.vrl.classifier import top_criteria

        lines = [c.line() for c in self.criteria_list]
        # every criterion is kept in metrics.json: the features are the sentences a reader checks
        return {**self.facts, "top_criteria": top_criteria(self.fitted, lines, self.classes, top=3),
                "criteria_lines": lines}

    def explain(self, top: int = 5) -> str:
        """Per class, its top criteria and their weights (a tree's rules too)."""
        from steervis.vrl.classifier import explain

        return explain(self.fitted, [c.line() for c in self.criteria_list], self.classes, top)

    def save(self, directory: str | Path) -> Path:
        """``method.json``, ``criteria.txt`` (edit it and fit with ``criteria=``), the shots' criterion scores
        and the chosen hyperparameters: load refits on them, so nothing is pickled."""
        from steervis.vrl.criteria import write_criteria

        directory = super().save(directory)
        write_criteria(directory / "criteria.txt", self.criteria_list)
        np.savez(directory / "vrl_shots.npz", x=self._shots[0], y=self._shots[1])
        state = {key: self.facts.get(key) for key in ("params", "selection", "dropped_naming_class")}
        (directory / "vrl.json").write_text(json.dumps(state, indent=2))
        return directory

    def _load_state(self, directory: Path) -> None:
        from steervis.vrl.criteria import read_criteria

        self.criteria_list = read_criteria(directory / "criteria.txt")
        state = json.loads((directory / "vrl.json").read_text())
        shots = np.load(directory / "vrl_shots.npz", allow_pickle=False)
        self.facts = {"dropped_naming_class": state.get("dropped_naming_class")}
        self._fit_scores(shots["x"], shots["y"], state.get("params") or None)


def _super_categories(path: str | None) -> dict[str, str] | None:
    """The class → super-category map of a YAML file (None: all classes in one group)."""
    if not path:
        return None
    if not Path(path).is_file():
        raise SteervisError(f"Super-category file {path} does not exist.")
    found = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(found, dict):
        raise SteervisError(f"{path} must map each class to its super-category (class: super-category).")
    return {str(k): str(v) for k, v in found.items()}
