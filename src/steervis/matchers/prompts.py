"""Prompt sets that embed class names: the describer's one template, or CLIP's ensemble over the styles.

Zero-shot matching averages each class's embedding over ``STYLE_TEMPLATES`` (CLIP's prompt-ensembling recipe);
the describer ranks its class tags with the set ``DescribeConfig.class_prompts`` names, so with ``styles`` the
first class tag is exactly the zero-shot answer of the same matcher.

>>> from steervis.matchers.prompts import CLASS_PROMPTS, class_embeddings
>>> CLASS_PROMPTS.names()
['styles', 'template']
>>> import numpy as np
>>> encode = lambda texts: np.array([[len(t), 1.0] for t in texts])  # a stand-in text tower
>>> class_embeddings(["cat", "horse"], ("{}",), encode).astype(float).round(3).tolist()  # unit rows
[[0.949, 0.316], [0.981, 0.196]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from steervis.registry import Registry

# Styles that appear across the benchmark's domains; averaging over them is CLIP's prompt-ensembling recipe.
STYLE_TEMPLATES = (
    "a photo of a {}.",
    "a drawing of a {}.",
    "a sketch of a {}.",
    "a cartoon {}.",
    "a clipart of a {}.",
    "an emoji of a {}.",
    "a painting of a {}.",
    "a black and white drawing of a {}.",
)

CLASS_PROMPTS = Registry("class prompt set")
# () stands for the describer's own prompt_template, so the set follows that field.
CLASS_PROMPTS.register("template", (), help="the describer's prompt_template alone: one prompt per class")
CLASS_PROMPTS.register("styles", STYLE_TEMPLATES,
                       help="the mean over 8 style templates, as zero-shot matches (photo, drawing, emoji, "
                       "...)")


def class_embeddings(classes: Sequence[str], templates: Sequence[str],
                     encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Each class's prompt embeddings (``encode``: texts → [n, d]) averaged over ``templates``, renormalised:
    [k, d]."""
    prompts = [t.format(c) for c in classes for t in templates]
    emb = np.asarray(encode(prompts), dtype=np.float32).reshape(len(classes), len(templates), -1).mean(axis=1)
    return emb / np.linalg.norm(emb, axis=1, keepdims=True)
