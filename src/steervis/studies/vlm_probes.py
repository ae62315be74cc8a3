"""Colour probes along steervis' LLaVA: the tower's tokens, the projector's output and every few LM layers at
the image positions, each read by the same logistic regression (``steervis study vlm-diagnose``'s ``probe``).

A probe trained on N training images and tested on the validation images says how much of the shape's colour
a layer still holds in linearly readable form; where it drops, the information is lost.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PROBE_C = 0.1  # linear-probe's regularisation: the same probe on every layer
LM_LAYERS = 4  # hidden states probed at about this many evenly spaced LM layers (plus the embeddings)


def tower_tokens(vlm: Any, rows: list[tuple[int, str, str]], split: str) -> list[Any]:
    """The cached tower tokens of ``rows``' images (``(image id, question, answer)``) of an easy-vqa split."""
    from steervis.data.images import sha256_file
    from steervis.llava import easyvqa
    from steervis.llava.tower import FeatureCache

    paths = easyvqa.paths(split)
    files = [paths[i] for i, _, _ in rows]
    return FeatureCache(vlm.tower).features([sha256_file(f) for f in files], files)


def _labelled(split: str, images: int | None, seed: int) -> tuple[list[int], list[str]]:
    """Ids of ``split``'s images whose colour their questions state (``images`` seeded ones), and colours."""
    from steervis.llava import easyvqa
    from steervis.llava.easyvqa import image_colour

    qa = easyvqa.questions(split)
    ids = [int(i) for i in np.random.default_rng(seed).permutation(sorted(qa))]
    pairs = [(i, image_colour(qa[i])) for i in ids]
    pairs = [(i, c) for i, c in pairs if c is not None][: images or None]
    return [i for i, _ in pairs], [c for _, c in pairs]


def _layers(vlm: Any, visuals: list[Any], batch_size: int = 32) -> dict[str, np.ndarray]:
    """Flattened ``[n, tokens × width]`` features per place: tower tokens, projector output, LM layers."""
    import torch

    from steervis.lm.batch import left_pad, positions

    lm = vlm.lm
    prompts = vlm.prompts(["what color is the shape?"] * len(visuals), visuals)
    n_layers = lm.base().config.num_hidden_layers
    chosen = sorted({0, *np.linspace(n_layers // LM_LAYERS, n_layers, LM_LAYERS).astype(int).tolist()})
    out: dict[str, list[np.ndarray]] = {"tower tokens": [], "projector output": []}
    out.update({f"LM layer {k}": [] for k in chosen})
    with torch.inference_mode():
        for start in range(0, len(prompts), batch_size):
            batch, vis = prompts[start : start + batch_size], visuals[start : start + batch_size]
            ids, mask = left_pad([p.ids for p in batch], lm.pad_id, device=lm.device)
            hidden = lm.decoder()(inputs_embeds=lm.embed(ids, [p.image for p in batch]), attention_mask=mask,
                                  position_ids=positions(mask), output_hidden_states=True).hidden_states
            at_image = ids == vlm.image_id
            out["tower tokens"].append(torch.stack(vis).flatten(1).numpy())
            out["projector output"].append(hidden[0][at_image].reshape(len(batch), -1).float().cpu().numpy())
            for k in chosen:
                out[f"LM layer {k}"].append(hidden[k][at_image].reshape(len(batch), -1).float().cpu().numpy())
    return {name: np.concatenate(parts) for name, parts in out.items()}


def colour_probes(vlm: Any, images: int, seed: int = 0, val_images: int | None = None) -> dict[str, Any]:
    """Validation accuracy (95 % interval) of a colour probe at each place, trained on ``images`` training
    images and tested on ``val_images`` seeded validation images (``None``: all)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from steervis.stats import accuracy_ci, percent

    train_ids, train_y = _labelled("train", images, seed)
    val_ids, val_y = _labelled("val", val_images, seed)
    train_x = _layers(vlm, tower_tokens(vlm, [(i, "", "") for i in train_ids], "train"))
    val_x = _layers(vlm, tower_tokens(vlm, [(i, "", "") for i in val_ids], "val"))
    out: dict[str, Any] = {"train_images": len(train_ids), "val_images": len(val_ids)}
    for name in train_x:
        regression = LogisticRegression(C=PROBE_C, max_iter=3000, random_state=seed)
        probe = make_pipeline(StandardScaler(), regression)
        probe.fit(train_x[name], train_y)
        out[name] = percent(accuracy_ci(probe.predict(val_x[name]) == np.array(val_y)))
    return out
