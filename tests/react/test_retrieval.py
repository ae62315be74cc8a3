"""Retrieval and REACT customization on small synthetic data: index recall, the gate."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from steervis.errors import SteervisError
from steervis.matchers.index import VectorIndex, recall_at_k
from steervis.react.gated_head import GatedResidualHead
from steervis.react.retrieve import names_class, retrieve
from steervis.react.train_head import ReactSettings, apply_head, contrastive_loss, customize


def clustered(n=2000, clusters=40, dim=32, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    return (centres[rng.integers(0, clusters, n)] + 0.3 * rng.normal(size=(n, dim))).astype(np.float32)


def test_hnsw_finds_what_exact_search_finds_and_survives_a_save(tmp_path):
    rows = clustered()
    ids = [f"r{i}" for i in range(len(rows))]
    hnsw, exact = VectorIndex.build(rows, ids), VectorIndex.build(rows, ids, kind="exact")
    queries = clustered(50, seed=1)
    assert recall_at_k(hnsw, exact, queries, 50) > 0.95
    loaded = VectorIndex.load(hnsw.save(tmp_path / "ix"))
    assert loaded.search(queries, 5)[1] == hnsw.search(queries, 5)[1]
    (tmp_path / "ix" / "index.faiss").write_bytes(b"broken")
    with pytest.raises(SteervisError, match="rebuild"):
        VectorIndex.load(tmp_path / "ix")


def test_the_gated_head_starts_as_the_base_and_training_opens_the_gate():
    rng = np.random.default_rng(0)
    n, d, f = 256, 16, 24
    texts = rng.normal(size=(n // 4, d))
    ids = np.repeat(np.arange(n // 4), 4)  # four images per text, like skin-tone variants
    pooled = np.concatenate([texts[ids], rng.normal(size=(n, f - d))], axis=1) + 0.1 * rng.normal(size=(n, f))
    base = rng.normal(size=(n, d))
    base /= np.linalg.norm(base, axis=1, keepdims=True)  # a unit-norm base matcher that knows nothing
    text_emb = texts[ids] / np.linalg.norm(texts[ids], axis=1, keepdims=True)
    head0 = GatedResidualHead(f, d, 32)
    np.testing.assert_allclose(apply_head(head0, base, pooled), apply_head(None, base, pooled), atol=1e-6)
    head, losses = customize(base, pooled, text_emb, ids,
                             ReactSettings(epochs=40, hidden=32, batch_size=64, lr=1e-2), progress=False)
    assert head.gate.item() != 0 and losses[-1] < losses[0]
    own = lambda emb: (ids[(emb @ text_emb.T).argmax(1)] == ids).mean()  # noqa: E731
    assert own(apply_head(head, base, pooled)) > own(apply_head(None, base, pooled)) + 0.3


def test_every_same_text_pair_is_a_positive():
    x = torch.nn.functional.normalize(torch.eye(3), dim=-1)
    twin = contrastive_loss(x, x[[0, 0, 2]], np.array([0, 0, 2]), 0.1)
    assert torch.isfinite(twin)


class WordMatcher:
    """A stand-in matcher: bag-of-words vectors, so retrieval can be checked without real weights."""

    name = "words"
    VOCAB = ["dog", "cat", "car", "moon", "photo", "drawing", "emoji", "sketch"]

    def encode_texts(self, texts):
        out = np.array([[t.lower().count(w) for w in self.VOCAB] for t in texts], dtype=np.float32) + 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_t2t_retrieval_returns_pairs_that_name_the_class(tmp_home):
    texts = ["a drawing of a dog", "an emoji of a cat", "a car", "the moon", "dog and dog",
             "a cat sketch"] * 3
    frame = pd.DataFrame({"text": texts, "path": [f"x{i}.png" for i in range(len(texts))],
                          "sha256": [f"{i:064d}" for i in range(len(texts))]})
    pairs = retrieve(["dog", "cat"], k=3, matcher=WordMatcher(), pool=(frame, "h"), progress=False)
    assert set(pairs["class"]) == {"dog", "cat"} and (pairs.groupby("class").size() == 3).all()
    assert pairs["names_class"].all()
    with pytest.raises(SteervisError, match="class list is empty"):
        retrieve([" "], matcher=WordMatcher(), pool=(frame, "h"))
    assert names_class("Dogs at play", "dog") and not names_class("hotdog", "dog")


def test_demo_describes_with_the_best_built_describer(tmp_home):
    from steervis.commands.demo import best_built_describer
    from steervis.react.matchers import react_pool_dir

    name, settings, missing = best_built_describer()
    assert (name, settings) == ("conse", {}) and missing and missing[0].startswith("react-pool")
    react_pool_dir().mkdir(parents=True)
    (react_pool_dir() / "card.json").write_text("{}")
    name, settings, missing = best_built_describer()
    assert name == "react-pool" and settings["matcher"] == "react-pool" and not missing
    assert settings["pool_captions"] and settings["class_prompts"] == "styles"  # the best row of the DG table


class CountingTexts:
    """A text tower that counts what it embeds (as a real one, it is cached on disk)."""

    name = "counting/texts"

    def __init__(self):
        self.seen = 0

    def encode_texts(self, texts):
        self.seen += len(texts)
        return np.stack([[len(t), t.count("1")] for t in texts]).astype(np.float32)


def test_long_text_lists_are_embedded_once_per_text_and_an_edited_list_embeds_only_its_new_texts(tmp_home):
    from steervis.matchers.features import text_features
    from steervis.matchers.text_cache import DISK_CACHE_MIN_TEXTS, cached_text_embeddings

    tower, texts = CountingTexts(), [f"text {i}" for i in range(DISK_CACHE_MIN_TEXTS)]
    first = cached_text_embeddings(tower, texts)
    edited = [*texts[1:], "a new text"]
    again = cached_text_embeddings(tower, edited)
    assert tower.seen == len(texts) + 1 and (again[:-1] == first[1:]).all()
    [store] = (tmp_home / "describe" / "text-embeddings").glob("counting--texts-*")
    assert json.loads((store / "identity.json").read_text())["kind"] == "text-embeddings"
    assert text_features(tower, ["x1", "x1", "y"], progress=False)[:, 1].tolist() == [1, 1, 0]
    assert tower.seen == len(texts) + 3  # the pool's text features: each distinct text once
