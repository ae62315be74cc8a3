"""STIC's training on the tiny steervis LLaVA (opened by name through the zoo): the pairs become the very
sequences LLaVA trains on, the reference is the model that wrote the pairs, DPO moves the margin, and the
saved model loads by its folder."""

import torch

from steervis.lm.adapters import add_lora
from steervis.lm.config import DPOSettings, LoraSettings, TrainSettings
from steervis.lm.preference import DPOLoss, sequence_logprobs
from steervis.stic.config import SticConfig
from steervis.stic.pairs import PLAIN_PROMPT, Pair
from steervis.stic.train import fresh_adapter, preference_pairs, train_stic
from steervis.zoo.vlms import open_vlm


def pairs_of(root) -> list[Pair]:
    texts = [("a red apple and a dog", "a cat, a moon and a blue car"), ("a yellow moon", "two green dogs"),
             ("two green apples and a black cat", "a red kite"), ("a brown dog and a moon", "a purple cat")]
    return [Pair(str(root / f"images/{i:06d}.png"), "scene", i, c, r, "prompt", "")
            for i, (c, r) in enumerate(texts)]


def test_a_pair_is_the_plain_prompt_on_the_clean_image_with_two_answers(tiny_vlm, toy_scenes):
    from steervis.llava.conversation import encode_turns, template

    [item] = preference_pairs(tiny_vlm, pairs_of(toy_scenes)[:1])
    answers = {"chosen": "a red apple and a dog", "rejected": "a cat, a moon and a blue car"}
    for example, answer in ((item.chosen, answers["chosen"]), (item.rejected, answers["rejected"])):
        ids, targets = encode_turns(tiny_vlm.lm.tokenizer, template(tiny_vlm.config.template),
                                    [(f"<image>\n{PLAIN_PROMPT}", answer)], tiny_vlm.image_tokens,
                                    tiny_vlm.image_id)
        end = max(i for i, t in enumerate(targets) if t != -100) + 1  # a turn's separator follows, unlearnt
        assert (example.ids, example.targets) == (ids[:end], targets[:end])  # what LLaVA's stage 2 learns
    assert item.chosen.image is item.rejected.image and item.chosen.image.shape[0] == tiny_vlm.image_tokens


def logits(vlm, ids):
    return vlm.lm.model(inputs_embeds=vlm.lm.embed(torch.tensor([ids]))).logits


def test_the_reference_is_the_model_that_wrote_the_pairs(tiny_vlm):
    vlm = tiny_vlm
    vlm.lm.model = add_lora(vlm.lm.model, LoraSettings(dropout=0.0), seed=0)  # a stage-2-like adapter
    with torch.no_grad():
        for name, param in vlm.lm.model.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.5)
        ids = vlm.lm.encode("a red apple on a table")
        before = logits(vlm, ids)
        fresh_adapter(vlm, SticConfig())
        after = logits(vlm, ids)
        with vlm.lm.model.disable_adapter():
            reference = logits(vlm, ids)
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(reference, before, rtol=1e-4, atol=1e-4)  # the old adapter is merged in
    trainable = [n for n, p in vlm.lm.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert not any(p.requires_grad for p in vlm.lm.splicer.parameters())


def margin(vlm, items) -> float:
    """Mean over pairs of log p(chosen) - log p(rejected)."""
    with torch.no_grad():
        logp = sequence_logprobs(vlm.lm, DPOLoss().collate(items, vlm.lm.pad_id))
    half = len(items)
    return float((logp[:half] - logp[half:]).mean())


def test_stic_training_raises_the_margin_and_saves_a_loadable_model(tiny_vlm, toy_scenes, tmp_path):
    pairs = pairs_of(toy_scenes) + [Pair(str(toy_scenes / "images/000004.png"), "scene", 4, "a cat", "a cat",
                                         "jitter", PLAIN_PROMPT)]
    items = preference_pairs(tiny_vlm, pairs[:4])
    before = margin(tiny_vlm, items)
    projector = {k: v.clone() for k, v in tiny_vlm.lm.splicer.projector.state_dict().items()}
    cfg = SticConfig(model="tiny-vlm", train=TrainSettings(epochs=4, batch_size=2, lr=5e-2, warmup=0.0),
                     lora=LoraSettings(dropout=0.0), dpo=DPOSettings(beta=0.5, alpha=0.0))
    _, result = train_stic(tiny_vlm, pairs, cfg, out=tmp_path / "stic", progress=False)
    assert result.steps == 8 and len(result.metrics["reward_margin"]) == 8  # the identical pair left out
    loaded = open_vlm(str(tmp_path / "stic"))
    assert margin(loaded, preference_pairs(loaded, pairs[:4])) > before + 0.2
    for key, value in loaded.lm.splicer.projector.state_dict().items():
        torch.testing.assert_close(value, projector[key])  # only the adapter learnt
    stage = loaded.stages["stic"]
    assert stage["data"] == {"pairs": 4, "origin": {"scene": 4}, "how": {"prompt": 4},
                             "identical_left_out": 1}
    assert not (tmp_path / "stic.checkpoint").exists()
