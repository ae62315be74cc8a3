"""Chains: the template teacher's all verify, a writer right half the time keeps only its right half, a run
resumes where it stopped, captions are labelled by setting, and a tiny LM writes seeded samples."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from steervis.data.heldout import HeldOut
from steervis.errors import SteervisError
from steervis.thinker.answers import chain_text
from steervis.thinker.chains import RECORDS, LMWriter, TemplateTeacher, read_records, write_chains
from steervis.thinker.questions import thinker_questions
from steervis.thinker.yield_ import chain_yield


def wrong(row) -> str:
    """An answer its question's rule refuses."""
    if row["answer"] in ("yes", "no"):
        return "no" if row["answer"] == "yes" else "yes"
    if row["options"] is not None and len(row["options"]):
        return next(o for o in row["options"] if o != row["answer"])
    return str(int(row["answer"]) + 1)


class HalfRight:
    """Sample k is right when k is even, wrong when odd; every third sample breaks the format as well.
    Records what it was asked (question ids and captions)."""

    name = "half-right"

    def __init__(self):
        self.asked, self.captions = [], []

    def write(self, rows, captions, n, seed):
        self.asked += [r["qid"] for r in rows]
        self.captions += list(captions)
        out = []
        for row in rows:
            texts = [chain_text(f"attempt {k}", row["answer"] if k % 2 == 0 else wrong(row))
                     for k in range(n)]
            out.append([t if k % 3 != 2 else t.replace("</answer>", "") for k, t in enumerate(texts)])
        return out


@pytest.fixture
def questions(crowd):
    return thinker_questions(crowd, n=18, held=HeldOut([]))


def test_the_template_teacher_writes_only_verified_chains(questions, tmp_path):
    records = write_chains(questions, tmp_path / "run", TemplateTeacher(), n=2)
    assert len(records) == len(questions)
    assert all(s["format_ok"] and s["verified"] for r in records for s in r["samples"])
    items = pd.read_parquet(tmp_path / "run" / "chains.parquet")
    assert len(items) == len(questions)  # the two identical chains of a question are one item
    assert set(items["image"]) <= set(questions["image"]) and (items["setting"] == "oracle").all()
    assert items["chain"].str.startswith("<think>").all() and items["chain"].str.endswith("</answer>").all()
    summary = chain_yield(records)
    assert summary["questions"][0] == summary["chains"][0] == summary["format"][0] == 100.0


def test_only_the_right_chains_are_kept(questions, tmp_path):
    records = write_chains(questions, tmp_path / "run", HalfRight(), n=4)
    items = pd.read_parquet(tmp_path / "run" / "chains.parquet")
    # samples 0 and 2 are right, but 2 has lost its closing tag: one chain a question survives
    assert len(items) == len(questions) and items["chain"].str.contains("attempt 0").all()
    truth = questions.set_index("qid")["answer"]
    assert all(f"<answer>{truth[q]}</answer>" in c for q, c in zip(items["qid"], items["chain"], strict=True))
    summary = chain_yield(records)
    assert summary["chains"][0] == 25.0 and summary["questions"][0] == 100.0 and summary["format"][0] == 75.0
    more = summary["by_type"]["more_than"]
    assert more["chance"] == 50.0 and more["chance_any"] == 93.8 and more["samples"] == 4
    assert more["chains"][1] <= 25.0 <= more["chains"][2]
    truths = questions[questions["type"] == "count_among"]["answer"]
    assert summary["by_type"]["count_among"]["majority"] == round(100 * truths.value_counts().iloc[0] / 3, 1)


def test_a_rerun_skips_questions_done_and_redoes_a_line_cut_by_a_kill(questions, tmp_path):
    out = tmp_path / "run"
    first = HalfRight()
    write_chains(questions.iloc[:10], out, first, n=2, chunk=4)
    assert len(first.asked) == 10
    with open(out / RECORDS, "a") as f:  # a kill while the next line was written
        f.write('{"qid": "' + questions["qid"][10] + '", "samp')
    again = HalfRight()
    records = write_chains(questions, out, again, n=2, chunk=4)
    assert again.asked == questions["qid"].tolist()[10:]  # the cut question is written again
    assert len(records) == len(questions) == len(read_records(out))
    assert [json.loads(line)["qid"] for line in (out / RECORDS).read_text().splitlines()] == \
        questions["qid"].tolist()
    later = HalfRight()
    write_chains(questions, out, later, n=2)
    assert later.asked == []
    with pytest.raises(SteervisError, match=r"other settings \(samples\): give another folder"):
        write_chains(questions, out, HalfRight(), n=3)
    with pytest.raises(SteervisError, match=r"other settings \(options\)"):
        write_chains(questions, out, TemplateTeacher(name="half-right", options={"temperature": 2}), n=2)


def test_captions_are_labelled_by_their_setting(questions, tmp_path):
    writer = HalfRight()
    write_chains(questions, tmp_path / "oracle", writer, n=1)
    assert writer.captions == questions["caption"].tolist()
    own = {int(s): f"the model's caption of scene {s}." for s in questions["scene"]}
    writer = HalfRight()
    records = write_chains(questions, tmp_path / "faithful", writer, n=1, captions=own, setting="faithful")
    assert writer.captions == [own[int(s)] for s in questions["scene"]]
    assert {r["setting"] for r in records} == {"faithful"} and records[0]["caption"].startswith("the model's")
    with pytest.raises(SteervisError, match="label it"):
        write_chains(questions, tmp_path / "x", HalfRight(), n=1, captions=own)
    with pytest.raises(SteervisError, match="needs its captions"):
        write_chains(questions, tmp_path / "y", HalfRight(), n=1, setting="faithful")
    with pytest.raises(SteervisError, match="No caption was given for scene"):
        write_chains(questions, tmp_path / "z", HalfRight(), n=1, captions={}, setting="faithful")


def test_a_tiny_lm_samples_seeded_chains_and_its_format_is_measured(questions, tmp_path):
    writer = LMWriter.load("tiny-llama", max_new_tokens=6)
    rows = questions.iloc[:2]
    first = write_chains(rows, tmp_path / "a", writer, n=3, seed=1)
    again = write_chains(rows, tmp_path / "b", writer, n=3, seed=1)
    texts = [[s["text"] for s in r["samples"]] for r in first]
    assert texts == [[s["text"] for s in r["samples"]] for r in again]  # seeded per question
    assert all(len(set(t)) > 1 for t in texts)  # sampled, not greedy
    # a random model never follows the format: nothing is kept, and the yield says so
    assert not any(s["format_ok"] for r in first for s in r["samples"])
    assert len(pd.read_parquet(tmp_path / "a" / "chains.parquet")) == 0
    assert chain_yield(first)["format"][0] == 0.0
    prompt = writer.lm.tokenizer.decode(writer.prompt_ids(rows["caption"][0], rows["question"][0]))
    assert rows["question"][0] in prompt and "<answer></answer>" in prompt and rows["caption"][0] in prompt
    # the reply is opened with <think> for the model, and its chains keep the opening
    assert prompt.endswith("<think>")
    assert all(s["text"].startswith("<think>") for r in first for s in r["samples"])
    plain = LMWriter(writer.lm, "tiny-llama", max_new_tokens=6, prefill=False)
    assert not plain.lm.tokenizer.decode(plain.prompt_ids("a cat.", "How many cats are there?")).endswith(">")
