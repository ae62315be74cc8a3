"""The VLM-classification methods: how generated answers become class probabilities, on a scripted VLM."""

import numpy as np
import pandas as pd

from steervis.methods import build_method
from steervis.methods.vlm import closed_question, first_named

CLASSES = ["cat", "dog", "ice", "ice cream"]


class ScriptedVLM:
    """Answers from a list; records the questions it was asked."""

    image_processor = object()  # the pixel path: images come from the context

    def __init__(self, answers):
        self.answers, self.questions = answers, []

    def visual(self, images):
        return images

    def ask(self, images, questions, **options):
        self.questions += questions
        return self.answers[: len(images)]


class Context:
    progress = False

    def __init__(self, vlm):
        self._vlm = vlm
        self.images = type("Images", (), {"get": staticmethod(lambda sha, path: path)})()

    def vlm(self, name, device="auto", dtype="auto"):
        return self._vlm


def _items(n):
    return pd.DataFrame({"sha256": [f"{i}" for i in range(n)], "path": [f"p{i}.png" for i in range(n)]})


def test_first_named_orders_by_mention_and_prefers_the_longer_name():
    assert first_named("A dog chasing a cat.", CLASSES) == [1, 0]
    assert first_named("Some ice cream.", CLASSES) == [3]  # "ice" inside "ice cream" is not a second class
    assert first_named("a bicycle", CLASSES) == []


def test_open_generation_maps_answers_and_reports_how():
    answers = ["It is a dog.", "a cat and a dog", "cats", "Dogg"]
    method = build_method("vlm-generate", Context(ScriptedVLM(answers)), {"snap": True})
    proba = method.fit(None, CLASSES).predict_proba(_items(4))
    assert proba.argmax(1).tolist() == [1, 0, 0, 1]  # the first named; else the nearest by edit distance
    assert np.allclose(proba.sum(1), 1) and set(np.unique(proba)) <= {0.0, 1.0}
    diag = method.diagnostics()
    assert (diag["named_one"], diag["named_several"], diag["named_none"]) == (2, 1, 1)  # "cats" names cat
    assert diag["examples"][0] == ["It is a dog.", "dog"]


def test_closed_generation_lists_the_options_and_a_several_class_answer_is_no_answer():
    vlm = ScriptedVLM(["dog", "cat or dog", "bicycle"])
    method = build_method("vlm-generate-closed", Context(vlm), {"snap": False})
    proba = method.fit(None, CLASSES).predict_proba(_items(3))
    assert vlm.questions[0] == closed_question(CLASSES, method.question, method.format_prompt)
    assert "Choose one of: cat, dog, ice, ice cream." in vlm.questions[0]
    assert proba[0].tolist() == [0, 1, 0, 0]
    # several named; nothing named, no snap
    assert np.allclose(proba[1], 0.25) and np.allclose(proba[2], 0.25)
    assert method.diagnostics()["several_rate"] == round(1 / 3, 4)


def test_the_harness_keeps_a_methods_diagnostics_in_its_run_info():
    from steervis.eval.config import EvaluateConfig
    from steervis.eval.harness import run_method
    from steervis.eval.protocols import Split

    context = Context(ScriptedVLM(["cat and dog", "dog"]))
    context.has_descriptions = lambda: False
    test = _items(2).assign(domain="d", **{"class": ["cat", "dog"]})
    rows, info = run_method("vlm-generate-closed", Split("d", test.iloc[:0], test), CLASSES, context,
                            EvaluateConfig(), {"snap": False})
    assert info["diagnostics"]["named_several"] == 1 and rows["pred"].tolist()[1] == "dog"
