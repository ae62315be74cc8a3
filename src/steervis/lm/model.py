"""The LM core's model handle: a causal LM (optionally LoRA-wrapped) plus the splicer that puts images into
it.

``LanguageModel`` turns a batch of :class:`~steervis.lm.batch.Prompt` into input embeddings (token embeddings,
with image embeddings spliced in where a splicer is given), runs the decoder, and applies the LM head only
where log-probs are needed (the head over a 49k vocabulary costs more than the whole 135M transformer when
applied to every position; measured in decide's training: 4 s vs 16-34 s a step).

>>> from steervis import zoo
>>> from steervis.lm.model import LanguageModel
>>> lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
>>> lm.encode("a cat", special=False) == lm.tokenizer("a cat", add_special_tokens=False).input_ids
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import torch

from steervis.errors import SteervisError
from steervis.lm.batch import Prompt, left_pad, positions


def cache_keyword(module: Any) -> str:
    """The keyword ``module``'s forward takes its KV cache by: ``cache`` in newer transformers 5 releases,
    ``past_key_values`` in earlier ones (a GPU machine may hold either)."""
    import inspect

    return "cache" if "cache" in inspect.signature(module.forward).parameters else "past_key_values"


HEAD_ROWS = 1024  # rows per LM-head chunk: a [1024, 49k] float32 block is 200 MB, bounded whatever the batch


class Splicer(Protocol):
    """Puts images into a batch: ``(token embeddings [b, t, h], ids [b, t], images) -> embeddings [b, t, h]``.

    Rows whose image is ``None`` are returned unchanged. A splicer may be trainable (LLaVA's projector); it is
    then a ``torch.nn.Module`` and the trainer optimises its parameters with the LM's.
    """

    def __call__(self, embeds: torch.Tensor, ids: torch.Tensor, images: Sequence[Any]) -> torch.Tensor: ...


class LanguageModel:
    """A causal LM, its tokenizer and (for images) a splicer.

    Args:
        causal_lm: Anything with ``.model`` (a transformers causal LM, possibly a peft model) and
            ``.tokenizer``.
        splicer: Turns prompt images into embeddings; ``None`` for text-only models.
        add_special_tokens: Let the tokenizer add BOS to prompts (off for chat-templated prompts).
        add_eos: End every candidate answer with EOS, so a class that is a prefix of another ("cat" vs
            "cat food") is scored as a whole answer, and training teaches the model to stop.
    """

    def __init__(self, causal_lm: Any, splicer: Splicer | None = None, add_special_tokens: bool = True,
                 add_eos: bool = True):
        self.model = causal_lm.model
        self.tokenizer = causal_lm.tokenizer
        self.name = getattr(causal_lm, "name", "")
        self.splicer = splicer
        self.add_special_tokens = add_special_tokens
        self.add_eos = add_eos
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.tokenizer.eos_token_id

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # --- tokens ---------------------------------------------------------------------------------------------
    def encode(self, text: str, special: bool | None = None) -> list[int]:
        """Token ids of ``text`` (``special``: add BOS; default: as configured for prompts)."""
        add = self.add_special_tokens if special is None else special
        return self.tokenizer(text, add_special_tokens=add).input_ids

    def prompt(self, text: str, image: Any = None) -> Prompt:
        return Prompt(self.encode(text), image)

    def encode_answer(self, answer: str) -> list[int]:
        """Answer tokens as teacher-forced after a prompt: tokenized on their own (with their leading space),
        which equals tokenizing prompt + answer whole for templates that end in a cue like "Answer:"."""
        ids = self.tokenizer(answer, add_special_tokens=False).input_ids
        if not ids:
            raise SteervisError(f"The answer {answer!r} has no tokens: class names must not be empty.")
        return ids + ([self.tokenizer.eos_token_id] if self.add_eos else [])

    # --- modules --------------------------------------------------------------------------------------------
    def base(self) -> Any:
        """The transformers model under any peft wrapper."""
        return self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model

    def decoder(self) -> Any:
        """The transformer stack without the LM head (its output is already normalised)."""
        return self.base().get_decoder()

    def embed(self, ids: torch.Tensor, images: Sequence[Any] | None = None) -> torch.Tensor:
        """Token embeddings of ``ids`` with the images spliced in."""
        embeds = self.model.get_input_embeddings()(ids.to(self.device))
        if images is not None and any(img is not None for img in images):
            if self.splicer is None:
                raise SteervisError(f"{self.name or 'This language model'} reads text only; give a vision-"
                                    "language model (steervis.llava) to pass images.")
            embeds = self.splicer(embeds, ids.to(self.device), list(images))
        return embeds

    def head_logprobs(self, hidden: torch.Tensor) -> torch.Tensor:
        """Log-softmax over the vocabulary for ``hidden`` ``[rows, h]`` (callers keep rows few)."""
        head = self.base().get_output_embeddings()
        logits = head(hidden).float()
        cap = getattr(self.base().config, "final_logit_softcapping", None)
        if cap:  # Gemma-style soft-capping, applied by the model's own forward too
            logits = torch.tanh(logits / cap) * cap
        return torch.log_softmax(logits, dim=-1)

    def gather_logprobs(self, hidden: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """``log p(tokens[i] | hidden[i])`` for rows of hidden states, the head applied in bounded chunks."""
        out = torch.empty(len(tokens), dtype=torch.float32, device=hidden.device)
        for start in range(0, len(tokens), HEAD_ROWS):
            block = self.head_logprobs(hidden[start : start + HEAD_ROWS])
            out[start : start + HEAD_ROWS] = block.gather(
                1, tokens[start : start + HEAD_ROWS, None]).squeeze(1)
        return out

    # --- passes ---------------------------------------------------------------------------------------------
    def prompt_pass(self, prompts: Sequence[Prompt],
                    cache: bool = True) -> tuple[Any, torch.Tensor, torch.Tensor]:
        """Left-padded prompts through the decoder once.

        Returns:
            ``(cache, last hidden state [b, h], attention mask [b, p])``.
        """
        from transformers import DynamicCache

        ids, mask = left_pad([p.ids for p in prompts], self.pad_id, device=self.device)
        embeds = self.embed(ids, [p.image for p in prompts])
        # A cache without the config: every layer keeps all its keys. Given the config, sliding-window layers
        # (Gemma 3: 512 tokens) drop keys beyond the window and refuse crop(), which the candidate tree needs.
        kv = DynamicCache() if cache else None
        decoder = self.decoder()
        out = decoder(inputs_embeds=embeds, attention_mask=mask, position_ids=positions(mask),
                      use_cache=cache, **{cache_keyword(decoder): kv})
        return kv, out.last_hidden_state[:, -1], mask  # the cache the pass filled in place

    def attention_mask(self, allowed: torch.Tensor, query_pos: torch.Tensor, key_pos: torch.Tensor,
                       dtype: torch.dtype = torch.float32) -> torch.Tensor | dict[str, torch.Tensor]:
        """Additive 4D mask(s) on the model's device from ``allowed`` ``[b, 1, q, k]`` (passed through
        unchanged).

        A sliding-window model also gets its window applied by positions (``query_pos`` ``[b, q]``,
        ``key_pos`` ``[b, k]``): one mask per attention type when its layers mix them (Gemma 3), else one
        windowed mask.
        """
        config = self.base().config
        window = getattr(config, "sliding_window", None)

        # in the embeddings' dtype: eager and sdpa kernels take it
        def additive(ok: torch.Tensor) -> torch.Tensor:
            zeros = torch.zeros(ok.shape, dtype=dtype, device=self.device)
            return zeros.masked_fill_(~ok.to(self.device), torch.finfo(dtype).min)

        if not window:
            return additive(allowed)
        near = (query_pos[:, None, :, None] - key_pos[:, None, None, :]) < window  # transformers' window rule
        windowed = additive(allowed & near)
        if "sliding_attention" in (getattr(config, "layer_types", None) or ()):
            return {"full_attention": additive(allowed), "sliding_attention": windowed}
        return windowed
