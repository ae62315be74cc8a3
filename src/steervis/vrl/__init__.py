"""VRL (Yang et al., "Verbalized Representation Learning for Interpretable Few-Shot Generalization"): say in
words what tells classes apart and what one class shares, score every image on those sentences, and fit an
interpretable classifier on the scores. Every feature is a sentence a person can read and edit.

* :mod:`~steervis.vrl.criteria`: the :class:`Criterion` (a question or a contrast), parsing answers into
  criteria, merging duplicates, dropping criteria that name a class, the editable criteria file;
* :mod:`~steervis.vrl.verbalize`: pairs of shots, the :class:`Verbalizer` contract, "describe + text LM"
  (descriptions come from the caller as text), the class-names and shuffled controls;
* :mod:`~steervis.vrl.cache`: the verbalizer's answers kept under ``STEERVIS_HOME`` by one identity record,
  and a model's image × criterion scores kept per cell (the VLM mapping's);
* :mod:`~steervis.vrl.mapping`: image × criterion → the matcher's similarity, phrase embeddings cached;
* :mod:`~steervis.vrl.classifier`: logistic regression, a shallow tree, a small MLP (scikit-learn), chosen
  by cross-validation within the shots, and their readable view.

The evaluation floor runs it as the ``vrl`` method (:mod:`steervis.methods.vrl`), which reads descriptions
from the run's describer and images through the run's matcher. Names load lazily.

>>> from steervis.vrl import Criterion
>>> Criterion("striped fur", "contrast", "plain fur").question()
'Does the image show striped fur rather than plain fur?'
"""

from __future__ import annotations

from steervis.lazy import lazy_exports

_EXPORTS = {
    "Criterion": "steervis.vrl.criteria",
    "merge": "steervis.vrl.criteria",
    "drop_class_naming": "steervis.vrl.criteria",
    "parse_differences": "steervis.vrl.criteria",
    "parse_commonalities": "steervis.vrl.criteria",
    "read_criteria": "steervis.vrl.criteria",
    "write_criteria": "steervis.vrl.criteria",
    "Pair": "steervis.vrl.verbalize",
    "Verbalizer": "steervis.vrl.verbalize",
    "Verbalized": "steervis.vrl.verbalize",
    "DescribeThenLM": "steervis.vrl.verbalize",
    "ClassNamesLM": "steervis.vrl.verbalize",
    "draw_pairs": "steervis.vrl.verbalize",
    "class_name_pairs": "steervis.vrl.verbalize",
    "lm_asker": "steervis.vrl.verbalize",
    "verbalize": "steervis.vrl.verbalize",
    "shuffle_criteria": "steervis.vrl.verbalize",
    "CachedVerbalizer": "steervis.vrl.cache",
    "CachedScores": "steervis.vrl.cache",
    "CriterionMapper": "steervis.vrl.mapping",
    "FittedClassifier": "steervis.vrl.classifier",
    "fit_classifier": "steervis.vrl.classifier",
    "top_criteria": "steervis.vrl.classifier",
    "explain": "steervis.vrl.classifier",
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
