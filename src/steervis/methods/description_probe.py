"""Description probe: TF-IDF of the rendered descriptions → logistic regression. No LM, no image features.

A diagnostic for describe-decide: it reads exactly the text the LM reads, so the gap between the two says how
much the finetuned LM adds over the words themselves, and its accuracy bounds what a text route gets from a
given describer.

>>> clf = DescriptionProbe(MethodContext()).fit(train, classes)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from steervis.methods.base import check_classes, check_labels
from steervis.methods.context import MethodContext


class DescriptionProbe:
    """Word and word-bigram TF-IDF (sublinear) → L2-regularised multinomial logistic regression."""

    name = "description-probe"

    def __init__(self, context: MethodContext, C: float = 10.0, seed: int = 0):  # noqa: N803 (sklearn's name)
        # C=10: TF-IDF rows are unit-norm and sparse, so the weights need far weaker regularisation than features.
        self.context, self.C, self.seed = context, C, seed
        self.classes: list[str] = []
        self.model = None

    def fit(self, train: pd.DataFrame, classes: list[str]) -> DescriptionProbe:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        self.classes = check_classes(classes)
        labels = check_labels(train, self.classes)
        # Section headers ("Tags:", "Attributes:") are in every description and carry nothing: dropped by max_df.
        self.model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_df=0.9),
                                   LogisticRegression(C=self.C, max_iter=2000, random_state=self.seed))
        self.model.fit(self.context.describe_texts(train), labels)
        return self

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray:
        proba = np.zeros((len(items), len(self.classes)))
        proba[:, self.model.classes_] = self.model.predict_proba(self.context.describe_texts(items))
        return proba


def factory(context: MethodContext, **options) -> DescriptionProbe:
    return DescriptionProbe(context, **options)
