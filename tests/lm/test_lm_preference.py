"""DPO on the LM core: the loss equals its formula computed row by row, training moves the margin, resumes."""

import pytest
import torch

from steervis import zoo
from steervis.errors import SteervisError
from steervis.lm.adapters import add_lora
from steervis.lm.config import DPOSettings, LoraSettings, TrainSettings
from steervis.lm.model import LanguageModel
from steervis.lm.preference import DPOLoss, PreferencePair
from steervis.lm.resume import run_fingerprint
from steervis.lm.train import CHECKPOINT_FILE, _Trainable, train


def tiny_lm(perturb: bool = True) -> LanguageModel:
    lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
    lm.model = add_lora(lm.model, LoraSettings(dropout=0.0), seed=0)
    if perturb:  # a fresh adapter's B is zero: move it, so the policy and its reference differ
        torch.manual_seed(1)
        with torch.no_grad():
            for name, param in lm.model.named_parameters():
                if "lora_B" in name:
                    param.normal_(std=0.3)
    return lm


def pairs(lm: LanguageModel) -> list[PreferencePair]:
    rows = [("Describe the image:", " a red ball on grass", " a blue car and a dog"),
            ("What is shown?", " two cats", " a tall house with three windows"),
            ("Explain what is depicted.", " a moon", " a sun"),
            ("Say what you see.", " a green tree", " an orange fish")]
    return [PreferencePair.from_prompt(lm.encode(p), lm.encode_answer(c), lm.encode_answer(r))
            for p, c, r in rows]


def answer_logprob(lm: LanguageModel, prompt: list[int], answer: list[int]) -> torch.Tensor:
    """Summed log-prob of ``answer`` after ``prompt``: one unpadded row through the model's own forward."""
    logits = lm.model(input_ids=torch.tensor([prompt + answer])).logits[0].float()
    logp = torch.log_softmax(logits[len(prompt) - 1 : -1], dim=-1)
    return logp.gather(1, torch.tensor(answer)[:, None]).sum()


def direct_loss(lm: LanguageModel, items: list[PreferencePair], beta: float, alpha: float):
    terms, nll, tokens, refs = [], 0.0, 0, []
    for p in items:
        prompt = p.chosen.ids[: len(p.chosen.ids) - p.chosen.answer_tokens]
        chosen, rejected = p.chosen.ids[len(prompt):], p.rejected.ids[len(prompt):]
        pc, pr = answer_logprob(lm, prompt, chosen), answer_logprob(lm, prompt, rejected)
        with lm.model.disable_adapter():
            rc, rr = answer_logprob(lm, prompt, chosen), answer_logprob(lm, prompt, rejected)
        refs.append((float(pc - rc), float(pr - rr)))
        terms.append(-torch.nn.functional.logsigmoid(beta * ((pc - rc) - (pr - rr))))
        nll, tokens = nll - pc, tokens + len(chosen)
    return torch.stack(terms).mean() + alpha * nll / tokens, refs


def test_dpo_loss_equals_the_direct_formula_with_a_distinct_reference():
    lm = tiny_lm()
    items = pairs(lm)
    settings = DPOSettings(beta=0.5, alpha=0.7)
    objective = DPOLoss(settings)
    with torch.no_grad():
        batch = objective.collate(items, lm.pad_id)
        fast, parts = _Trainable(lm, objective)(batch, objective.normaliser(items))
        want, refs = direct_loss(lm, items, settings.beta, settings.alpha)
    assert all(abs(c) > 1e-3 and abs(r) > 1e-3 for c, r in refs)  # the reference is not the policy
    assert abs(fast.item() - want.item()) < 1e-4
    margins = [settings.beta * (c - r) for c, r in refs]
    assert abs(float(parts["reward_margin"]) - sum(margins) / len(margins)) < 1e-4
    assert float(parts["reward_accuracy"]) == sum(m > 0 for m in margins) / len(margins)


def policy_margin(lm: LanguageModel, items: list[PreferencePair]) -> float:
    """Mean over pairs of log p(chosen) - log p(rejected) under the policy."""
    with torch.no_grad():
        out = []
        for p in items:
            prompt = p.chosen.ids[: len(p.chosen.ids) - p.chosen.answer_tokens]
            out.append(float(answer_logprob(lm, prompt, p.chosen.ids[len(prompt):])
                             - answer_logprob(lm, prompt, p.rejected.ids[len(prompt):])))
    return sum(out) / len(out)


def test_a_few_dpo_steps_raise_the_chosen_minus_rejected_margin():
    lm = tiny_lm(perturb=False)
    items = pairs(lm)
    before = policy_margin(lm, items)
    result = train(lm, lambda epoch: items, TrainSettings(epochs=4, batch_size=2, lr=3e-2, warmup=0.0),
                   progress=False, objective=DPOLoss(DPOSettings(beta=0.5, alpha=0.0)))
    assert policy_margin(lm, items) > before + 0.25  # tiny-llama moves slowly: 13.50 → 13.96 nats
    margins = result.metrics["reward_margin"]  # beta × (policy - reference) margin, per step
    assert len(margins) == result.steps == 8 and margins[0] == 0.0  # the adapter starts as the reference
    assert sum(margins[-2:]) > sum(margins[:2]) and "reward_margin_last" in result.summary()


def test_dpo_refuses_a_model_without_an_adapter():
    lm = LanguageModel(zoo.load("tiny-llama", kind="causal-lm"))
    for param in lm.model.parameters():
        param.requires_grad_(False)
    lm.model.lm_head.weight.requires_grad_(True)
    with pytest.raises(SteervisError, match="LoRA"):
        train(lm, lambda epoch: pairs(lm), TrainSettings(epochs=1), progress=False, objective=DPOLoss())


def test_a_killed_dpo_run_resumes_to_the_same_losses_and_metrics(tmp_path):
    settings = TrainSettings(epochs=3, batch_size=2, lr=5e-3, checkpoint_every=2)
    items = pairs(tiny_lm(perturb=False))
    full = train(tiny_lm(), lambda e: items, settings, progress=False, objective=DPOLoss())

    class Killed(Exception):
        pass

    def dying(epoch):
        if epoch == 2:
            raise Killed
        return items

    with pytest.raises(Killed):
        train(tiny_lm(), dying, settings, progress=False, checkpoint=tmp_path, objective=DPOLoss())
    assert (tmp_path / CHECKPOINT_FILE).exists()
    resumed = train(tiny_lm(), lambda e: items, settings, progress=False, checkpoint=tmp_path,
                    objective=DPOLoss())
    assert resumed.resumed_from == 4
    torch.testing.assert_close(resumed.losses, full.losses, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(resumed.metrics, full.metrics, rtol=1e-5, atol=1e-6)


def test_the_run_fingerprint_names_the_objective_and_its_settings():
    lm = tiny_lm(perturb=False)
    items, settings, module = pairs(lm), TrainSettings(), _Trainable(lm)
    names = {run_fingerprint(items, settings, module, DPOLoss(DPOSettings(beta=b))) for b in (0.1, 0.2)}
    assert len(names) == 2
