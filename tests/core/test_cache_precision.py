"""A matcher's cached embeddings are kept per precision: a bfloat16 matcher never reads what a float32 one
wrote (nor the reverse), while float32 stores keep the names they had before precisions were recorded."""

from __future__ import annotations

import numpy as np

from steervis.matchers.features import in_matcher_precision, text_features
from steervis.matchers.text_cache import DISK_CACHE_MIN_TEXTS, cached_text_embeddings


class _Matcher:
    """Embeds every text as a constant that says which precision computed it."""

    name = text_name = "stub"

    def __init__(self, precision: str, value: float):
        self.precision, self.value = precision, value

    def encode_texts(self, texts):
        return np.full((len(texts), 4), self.value, dtype=np.float32)


def test_float32_names_are_unchanged_and_other_precisions_are_appended():
    assert in_matcher_precision("text-conse", {"a": 1}, _Matcher("float32", 0)) == ("text-conse", {"a": 1})
    name, config = in_matcher_precision("text-conse", {"a": 1}, _Matcher("bfloat16", 0))
    assert name == "text-conse-bfloat16" and config == {"a": 1, "precision": "bfloat16"}


def test_bfloat16_text_embeddings_never_come_from_the_float32_cache(tmp_home):
    texts = [f"text {i}" for i in range(DISK_CACHE_MIN_TEXTS)]
    for cached in (text_features, cached_text_embeddings):
        kwargs = {"progress": False} if cached is text_features else {}
        assert (cached(_Matcher("float32", 1.0), texts, **kwargs) == 1).all()
        assert (cached(_Matcher("bfloat16", 2.0), texts, **kwargs) == 2).all()
        assert (cached(_Matcher("float32", 3.0), texts, **kwargs) == 1).all()  # its own cache, read back
