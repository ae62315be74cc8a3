"""Exact class scoring: every prompt (and its image) read once, every candidate answer over the cached prefix.

The candidates are packed into one row after the prompt as a prefix tree: each distinct proper prefix of an
answer is one position, attending to the prompt and to its own ancestors only (a custom 4D attention mask,
which transformers passes through unchanged). The first answer token is read from the prompt's last position,
the last one never needs to be fed. So scoring k classes costs one prompt pass plus one short pass over about
``sum(len(answer) - 1)`` tokens, with no copy of the KV cache (copying it per class cost twice the prompt
pass).

``reduction``: ``mean`` (VLLaVO's and VLMClassifier's default: long class names are not penalised per token),
``sum``, or ``calibrated``: the mean score divided by the class prior, VLMClassifier's correction for a model
that favours some names whatever the image. The prior comes from :func:`estimate_prior` on *training* inputs
and is stored with the model, so one image's answer never depends on the other images it is predicted with.

>>> from steervis import zoo
>>> from steervis.lm.model import LanguageModel, cache_keyword
>>> lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
>>> probs = score(lm, [lm.prompt("Which animal barks?\\nAnswer:")], [" cat", " dog"])
>>> probs.shape, round(float(probs.sum()), 4)
((1, 2), 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from steervis.errors import SteervisError
from steervis.lm.batch import Prompt, positions
from steervis.lm.config import REDUCTIONS
from steervis.lm.model import LanguageModel, cache_keyword

MAX_TOKENS = 4096  # prompt rows × tree positions per pass: bounds the attention block and the hidden states
PRIOR_FLOOR = 1e-6  # a class the training inputs never favour still gets a finite calibration term


@dataclass
class CandidateTree:
    """Candidates' token lists as a prefix tree of input positions.

    Attributes:
        tokens: Input token of each node (node = distinct proper prefix of some candidate; its last token).
        depth: Offset of each node after the prompt.
        ancestors: ``[n, n]`` bool, ``ancestors[i, j]``: node j is node i or one of its ancestors.
        pair_node: For every (candidate, token ≥ 1), the node whose output predicts that token.
        pair_token: The token predicted there.
        pair_candidate: Which candidate the pair belongs to.
    """

    candidates: list[list[int]]
    tokens: list[int]
    depth: list[int]
    ancestors: torch.Tensor
    pair_node: torch.Tensor
    pair_token: torch.Tensor
    pair_candidate: torch.Tensor

    @classmethod
    def build(cls, candidates: Sequence[Sequence[int]], device: torch.device | str = "cpu") -> CandidateTree:
        """The tree of ``candidates``, its tensors made on ``device`` (the model's)."""
        index: dict[tuple[int, ...], int] = {}
        tokens, depth, parent = [], [], []
        pair_node, pair_token, pair_cand = [], [], []
        for k, cand in enumerate(candidates):
            for j in range(1, len(cand)):
                prefix = tuple(cand[:j])
                if prefix not in index:
                    index[prefix] = len(tokens)
                    tokens.append(cand[j - 1])
                    depth.append(j - 1)
                    parent.append(index[prefix[:-1]] if j > 1 else -1)
                pair_node.append(index[prefix])
                pair_token.append(cand[j])
                pair_cand.append(k)
        n = len(tokens)
        rows = [[False] * n for _ in range(n)]
        for i in range(n):
            j = i
            while j >= 0:
                rows[i][j] = True
                j = parent[j]
        ancestors = torch.tensor(rows, dtype=torch.bool, device=device).reshape(n, n)
        as_long = lambda xs: torch.tensor(xs, dtype=torch.long, device=device)  # noqa: E731
        return cls([list(c) for c in candidates], tokens, depth, ancestors, as_long(pair_node),
                   as_long(pair_token), as_long(pair_cand))

    @property
    def size(self) -> int:
        return len(self.tokens)


def _groups(candidates: list[list[int]], max_nodes: int,
            device: torch.device | str = "cpu") -> list[tuple[int, CandidateTree]]:
    """Consecutive candidate groups whose trees fit ``max_nodes`` positions: ``(first index, tree)``."""
    groups, start, prefixes = [], 0, set()
    for k, cand in enumerate(candidates):
        new = {tuple(cand[:j]) for j in range(1, len(cand))} - prefixes
        if prefixes and len(prefixes) + len(new) > max_nodes:
            groups.append((start, CandidateTree.build(candidates[start:k], device)))
            start, prefixes = k, set()
            new = {tuple(cand[:j]) for j in range(1, len(cand))}
        prefixes |= new
    groups.append((start, CandidateTree.build(candidates[start:], device)))
    return groups


def _tree_pass(lm: LanguageModel, tree: CandidateTree, cache: object, mask: torch.Tensor) -> torch.Tensor:
    """Feed the tree after each cached prompt; log-prob of every (candidate, token ≥ 1) pair:
    ``[b, pairs]``."""
    b, p, n = mask.shape[0], mask.shape[1], tree.size
    device = lm.device
    ids = torch.tensor(tree.tokens, dtype=torch.long, device=device).expand(b, n)
    pos = mask.sum(-1, keepdim=True) + torch.tensor(tree.depth, dtype=torch.long, device=device).unsqueeze(0)
    allowed = torch.cat([mask.bool()[:, None, None, :].expand(b, 1, n, p),
                         tree.ancestors[None, None].expand(b, 1, n, n)], dim=-1)
    embeds = lm.embed(ids)
    attn = lm.attention_mask(allowed, pos, torch.cat([positions(mask), pos], dim=-1), embeds.dtype)
    decoder = lm.decoder()
    out = decoder(inputs_embeds=embeds, attention_mask=attn, position_ids=pos, use_cache=True,
                  **{cache_keyword(decoder): cache})
    hidden = out.last_hidden_state  # [b, n, h]
    rows = (torch.arange(b, device=device)[:, None] * n + tree.pair_node[None]).reshape(-1)
    tokens = tree.pair_token.repeat(b)
    return lm.gather_logprobs(hidden.reshape(b * n, -1)[rows], tokens).view(b, -1)


@torch.inference_mode()
def loglik(lm: LanguageModel, prompts: Sequence[Prompt], answers: Sequence[str], batch_size: int = 8,
           max_tokens: int = MAX_TOKENS) -> tuple[np.ndarray, np.ndarray]:
    """Summed log-prob of every answer after every prompt, and each answer's token count.

    Returns:
        ``(sums [n, k], lengths [k])``.
    """
    candidates = [lm.encode_answer(a) for a in answers]
    return loglik_ids(lm, prompts, candidates, batch_size, max_tokens), np.array([len(c) for c in candidates])


@torch.inference_mode()
def loglik_ids(lm: LanguageModel, prompts: Sequence[Prompt], candidates: Sequence[Sequence[int]],
               batch_size: int = 8, max_tokens: int = MAX_TOKENS) -> np.ndarray:
    """Summed log-prob of every candidate (token ids, each at least one) after every prompt: ``[n, k]``."""
    candidates = [list(c) for c in candidates]
    sums = np.zeros((len(prompts), len(candidates)), dtype=np.float64)
    groups = _groups(candidates, max_tokens, lm.device)
    per_pass = max(1, min(batch_size, max_tokens // max(1, max(t.size for _, t in groups))))
    firsts = torch.tensor([c[0] for c in candidates], dtype=torch.long, device=lm.device)
    for start in range(0, len(prompts), per_pass):
        batch = list(prompts[start : start + per_pass])
        cache, last, mask = lm.prompt_pass(batch, cache=any(t.size for _, t in groups))
        part = lm.head_logprobs(last)[:, firsts].double()  # every answer's first token
        for first, tree in groups:
            if tree.size:
                pairs = _tree_pass(lm, tree, cache, mask).double()
                cols = tree.pair_candidate + first
                part.index_add_(1, cols, pairs)
                cache.crop(-tree.size)  # drop this group's positions before the next group
        sums[start : start + len(batch)] = part.cpu().numpy()
    return sums


def reduce_scores(sums: np.ndarray, lengths: np.ndarray, reduction: str = "mean",
                  prior: Sequence[float] | None = None) -> np.ndarray:
    """Probabilities over candidates from summed log-probs: softmax of mean / sum / prior-calibrated mean."""
    if reduction not in REDUCTIONS:
        raise SteervisError(f"reduction={reduction!r} must be one of: {', '.join(REDUCTIONS)}.")
    scores = sums if reduction == "sum" else sums / lengths
    if reduction == "calibrated":
        if prior is None:
            raise SteervisError("reduction='calibrated' needs the class prior estimated at fit time "
                                "(estimate_prior on training inputs); this model has none. Refit it.")
        prior = np.asarray(prior, dtype=np.float64)
        if prior.shape != (sums.shape[1],):
            raise SteervisError(f"The stored class prior has {prior.size} entries for {sums.shape[1]} "
                                "classes.")
        scores = _log_softmax(scores) - np.log(np.maximum(prior, PRIOR_FLOOR))
    return np.exp(_log_softmax(scores)).astype(np.float32)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def estimate_prior(lm: LanguageModel, prompts: Sequence[Prompt], answers: Sequence[str],
                   batch_size: int = 8) -> list[float]:
    """The class prior for ``calibrated``: mean probability (mean reduction) of each answer over ``prompts``,
    which must be training inputs, never the inputs being predicted."""
    if not prompts:
        raise SteervisError("Estimating the class prior needs at least one training input.")
    sums, lengths = loglik(lm, prompts, answers, batch_size=batch_size)
    probs = reduce_scores(sums, lengths, "mean").astype(np.float64).mean(axis=0)
    return (probs / probs.sum()).tolist()


def score(lm: LanguageModel, prompts: Sequence[Prompt], answers: Sequence[str], reduction: str = "mean",
          prior: Sequence[float] | None = None, batch_size: int = 8) -> np.ndarray:
    """Probabilities over ``answers`` for each prompt; ``[len(prompts), len(answers)]``, rows sum to 1."""
    if not answers:
        raise SteervisError("The class list is empty: give at least two class names.")
    if reduction not in REDUCTIONS:
        raise SteervisError(f"reduction={reduction!r} must be one of: {', '.join(REDUCTIONS)}.")
    if not prompts:
        return np.zeros((0, len(answers)), dtype=np.float32)
    sums, lengths = loglik(lm, prompts, answers, batch_size=batch_size)
    return reduce_scores(sums, lengths, reduction, prior)
