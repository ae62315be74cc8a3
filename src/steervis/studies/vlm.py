"""VLMClassifier's (Zhang et al.) two analyses on a VLM: the label-space sweep and probing the VLM's hidden
state.

* ``vlm-sweep``: accuracy of vlm-score and of the matcher's zero-shot at 2, 5, 10, 20, 34 classes, on the same
  images (each size: ``draws`` seeded class subsets, the images of those classes), with 95 % intervals and the
  paired difference. After the open question a class's score does not depend on which other classes compete
  (the image and question are read once, each name is scored over that prefix; the matcher's similarities are
  per class too), so one pass over every class gives every subset exactly.
* ``vlm-probe``: leave-one-domain-out logistic regression (linear-probe's recipe) on the LM's last hidden
  state at the image prompt vs on the vision features it was given (the tower's tokens, flattened), beside
  linear-probe's efficientnet-lite0 pooled features.

    steervis study vlm-sweep --set model=stage2 --set draws=5
    steervis study vlm-probe --set model=stage2

>>> from steervis.studies.vlm import subsets
>>> [len(s) for s in subsets(34, [2, 34], draws=3, seed=0)[2]]
[2, 2, 2]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from steervis.stats import accuracy_ci, paired_difference_ci, percent

SIZES = (2, 5, 10, 20, 34)  # VLMClassifier's sweep, up to minidomains' 34 classes


def subsets(n_classes: int, sizes: list[int] | tuple[int, ...], draws: int,
            seed: int) -> dict[int, list[list[int]]]:
    """Seeded class subsets per size; the full label space is drawn once."""
    rng = np.random.default_rng(seed)
    return {k: [sorted(rng.choice(n_classes, k, replace=False).tolist())
                for _ in range(draws if k < n_classes else 1)]
            for k in sizes}


def _frame(data: str | None, limit: int | None, seed: int) -> Any:
    from steervis.data import load_folder, minidomains_root

    frame = load_folder(data or minidomains_root(), progress=False).frame
    if limit and len(frame) > limit:
        frame = frame.sample(n=limit, random_state=seed).sort_index()
    return frame.reset_index(drop=True)


def vlm_sweep(model: str = "stage2", matcher: str = "conse", sizes: list[int] | tuple[int, ...] = SIZES,
              draws: int = 5, reduction: str = "mean", data: str | None = None, limit: int | None = None,
              seed: int = 0, batch_size: int = 8, question: str | None = None) -> dict[str, Any]:
    """``steervis study vlm-sweep``: vlm-score vs the matcher's zero-shot per label-space size, same
    images."""
    from steervis.errors import SteervisError
    from steervis.llava.model import CLASSIFY_QUESTION
    from steervis.lm.scoring import loglik, reduce_scores
    from steervis.matchers.prompts import STYLE_TEMPLATES, class_embeddings
    from steervis.methods.context import MethodContext
    from steervis.methods.vlm import image_inputs

    frame = _frame(data, limit, seed)
    classes = sorted(frame["class"].unique())
    too_big = [k for k in sizes if not 2 <= k <= len(classes)]
    if too_big:
        raise SteervisError(f"sizes {too_big}: each size must be between 2 and the {len(classes)} classes.")
    ctx = MethodContext(progress=False)
    vlm = ctx.vlm(model)
    prompts = vlm.prompts([question or CLASSIFY_QUESTION] * len(frame), image_inputs(vlm, frame, ctx))
    sums, lengths = loglik(vlm.lm, prompts, classes, batch_size=batch_size)  # every class once per image
    sims = ctx.image_embeddings(frame, matcher) @ class_embeddings(classes, STYLE_TEMPLATES,
                                                                   ctx.matcher(matcher).encode_texts).T
    truth = frame["class"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    out: dict[str, Any] = {"model": str(model), "matcher": matcher, "reduction": reduction,
                           "images": len(frame), "draws": draws, "sizes": {}}
    for k, draws_k in subsets(len(classes), sizes, draws, seed).items():
        vlm_ok, match_ok = [], []
        for subset in draws_k:
            rows = np.isin(truth, subset)
            local = np.searchsorted(subset, truth[rows])  # the label's index within the sorted subset
            probs = reduce_scores(sums[rows][:, subset], lengths[subset], reduction)
            vlm_ok.append(probs.argmax(1) == local)
            match_ok.append(sims[rows][:, subset].argmax(1) == local)
        v, m = np.concatenate(vlm_ok), np.concatenate(match_ok)
        out["sizes"][str(k)] = {"items": int(v.size), "chance": round(100 / k, 1),
                                "vlm_score": percent(accuracy_ci(v)), "matcher": percent(accuracy_ci(m)),
                                "vlm - matcher": percent(paired_difference_ci(v, m))}
    return out


def vision_features(vlm: Any, inputs: list[Any]) -> np.ndarray:
    """What the LM was given about each image: the tower's tokens flattened (steervis' LLaVA), or a hub
    Llava's projected image features averaged over its tokens."""
    import torch

    if vlm.image_processor is None:
        return torch.stack(inputs).flatten(1).float().cpu().numpy()
    llava = vlm.lm.splicer.llava
    with torch.inference_mode():
        pixels = torch.stack(inputs).to(device=llava.device, dtype=llava.dtype)
        feats = llava.get_image_features(pixel_values=pixels).pooler_output
    return torch.stack([f.float().mean(0) for f in feats]).cpu().numpy()


def probe_dg(features: np.ndarray, frame: Any, C: float = 0.1, seed: int = 0) -> dict[str, Any]:  # noqa: N803
    """Leave-one-domain-out accuracy of a standardised logistic regression (linear-probe's recipe)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    domains = sorted(frame["domain"].unique())
    labels, out = frame["class"].to_numpy(), {}
    for domain in domains:
        test = (frame["domain"] == domain).to_numpy()
        model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000, random_state=seed))
        model.fit(features[~test], labels[~test])
        out[domain] = percent(accuracy_ci(model.predict(features[test]) == labels[test]))
    out["mean"] = round(float(np.mean([out[d][0] for d in domains])), 1)
    return out


def vlm_probe(model: str = "stage2", data: str | None = None, limit: int | None = None, seed: int = 0,
              C: float = 0.1, batch_size: int = 8,  # noqa: N803
              question: str | None = None) -> dict[str, Any]:
    """``steervis study vlm-probe``: DG probes on the LM's last hidden state, its vision input, and
    efficientnet-lite0's pooled features (the linear-probe method's), same images and folds."""
    from steervis.llava.model import CLASSIFY_QUESTION
    from steervis.methods.context import MethodContext
    from steervis.methods.vlm import image_inputs

    frame = _frame(data, limit, seed)
    ctx = MethodContext(progress=False)
    vlm = ctx.vlm(model)
    inputs = image_inputs(vlm, frame, ctx)
    features = {"lm_last_hidden": vlm.last_hidden(inputs, question or CLASSIFY_QUESTION,
                                                  batch_size=batch_size),
                "vision_input": vision_features(vlm, inputs),
                "efficientnet_pooled": ctx.image_features(frame)}
    out: dict[str, Any] = {"model": str(model), "images": len(frame), "C": C,
                           "dims": {k: int(v.shape[1]) for k, v in features.items()}}
    for name, feats in features.items():
        out[name] = probe_dg(feats, frame, C=C, seed=seed)
    return out
