"""Description probe: TF-IDF of the rendered descriptions → logistic regression. No LM, no image features.

A diagnostic for describe-decide: it reads exactly the text the LM reads, so the gap between the two says how
much the finetuned LM adds over the words themselves, and its accuracy bounds what a text route gets from a
given describer.

>>> clf = DescriptionProbe(MethodContext()).fit(train, classes)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from steervis.methods.base import Method, check_classes, check_labels


@dataclass
class DescriptionProbeOptions:
    # C=10: TF-IDF rows are unit-norm and sparse, so the weights need far weaker regularisation than features.
    C: float = 10.0  # noqa: N815 (sklearn's name)
    seed: int = 0


class DescriptionProbe(Method):
    """Word and word-bigram TF-IDF (sublinear) → L2-regularised multinomial logistic regression."""

    name = "description-probe"
    Options = DescriptionProbeOptions
    model = None

    def fit(self, train: pd.DataFrame, classes: list[str]) -> DescriptionProbe:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        self.classes = check_classes(classes)
        labels = check_labels(train, self.classes)
        self.model = make_pipeline(_vectorizer(),
                                   LogisticRegression(C=self.C, max_iter=2000, random_state=self.seed))
        self.model.fit(self.context.describe_texts(train), labels)
        return self

    def predict_proba(self, items: pd.DataFrame) -> np.ndarray:
        proba = np.zeros((len(items), len(self.classes)))
        proba[:, self.model.classes_] = self.model.predict_proba(self.context.describe_texts(items))
        return proba

    def save(self, directory: str | Path) -> Path:
        """``method.json`` + the vocabulary (JSON) + idf and logistic-regression arrays (npz): no pickle."""
        directory = super().save(directory)
        tfidf, logreg = self.model[0], self.model[1]
        vocab = {word: int(i) for word, i in tfidf.vocabulary_.items()}
        (directory / "vocabulary.json").write_text(json.dumps(vocab, ensure_ascii=False))
        np.savez(directory / "description_probe.npz", idf=tfidf.idf_, coef=logreg.coef_,
                 intercept=logreg.intercept_, seen=logreg.classes_)
        return directory

    def _load_state(self, directory: Path) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        arrays = np.load(directory / "description_probe.npz", allow_pickle=False)
        tfidf = _vectorizer()
        tfidf.vocabulary_ = json.loads((directory / "vocabulary.json").read_text())
        tfidf.idf_ = arrays["idf"]
        logreg = LogisticRegression(C=self.C, max_iter=2000, random_state=self.seed)
        logreg.coef_, logreg.intercept_, logreg.classes_ = arrays["coef"], arrays["intercept"], arrays["seen"]
        logreg.n_features_in_ = len(tfidf.vocabulary_)
        self.model = make_pipeline(tfidf, logreg)


def _vectorizer():
    from sklearn.feature_extraction.text import TfidfVectorizer

    # Section headers ("Tags:", "Attributes:") are in every description and carry nothing: dropped by max_df.
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_df=0.9)
