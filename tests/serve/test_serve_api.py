"""The page's API on tiny random models, through FastAPI's test client: health, uploads, streamed multi-turn
chat, classify, describe and reports; and the same page with stub models where a behaviour needs a known
answer (a ``<script>`` in a model's output, a bounded upload folder, a model that is not built)."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from serve_stubs import SCRIPT, png, stub_loaders, tiny_config

from steervis.serve.app import create_app
from steervis.serve.config import ServeConfig


def sse(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


@pytest.fixture(scope="module")
def tiny(home, tmp_path_factory):
    app = create_app(tiny_config(runs=str(tmp_path_factory.mktemp("runs"))))
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def image(tiny):
    return tiny.post("/api/images", content=png()).json()["id"]


def test_health_shows_each_model_loading_then_ready(tiny):
    deadline = time.monotonic() + 300
    while (states := {n: m["state"] for n, m in tiny.get("/api/health").json()["models"].items()}) != {
            "chat": "ready", "classify": "ready", "describe": "ready"}:
        assert set(states.values()) <= {"loading", "ready"} and time.monotonic() < deadline, states
        time.sleep(0.5)
    health = tiny.get("/api/health").json()
    assert health["models"]["chat"]["model"] == "tiny-vlm" and health["classes"] == ["red", "green", "blue"]


def test_the_page_and_its_files_are_served_with_a_strict_policy(tiny):
    page = tiny.get("/")
    assert page.status_code == 200 and 'id="transcript"' in page.text and 'sandbox=""' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    script = tiny.get("/static/app.js").text
    assert "textContent" in script and "innerHTML" not in script
    assert tiny.get("/static/../app.py").status_code == 404


def test_an_upload_is_kept_once_by_content(tiny, image):
    again = tiny.post("/api/images", content=png(), headers={"X-Filename": "photo.png"}).json()
    assert again == {"id": image, "width": 32, "height": 24}
    server = tiny.app.state.server
    assert [p.name for p in server.uploads.files()].count(f"{image}.png") == 1


def test_chat_streams_the_models_greedy_answer_piece_by_piece(tiny, image):
    events = sse(tiny.post("/api/chat", json={"message": "What is it?", "image": image,
                                              "max_tokens": 12}).text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("token") >= 3
    text = "".join(data["text"] for kind, data in events if kind == "token")
    worker = tiny.app.state.server.workers["chat"]
    picture = tiny.app.state.server.uploads.get(image)[0]
    direct = worker.submit(lambda model: model.vlm.chat("What is it?", picture, max_new_tokens=12)).result()
    assert text.strip() == direct and events[-1][1]["tokens"] == 12 and not events[-1][1]["stopped"]


def test_temperature_samples_seeded_answers(tiny, image):
    def answer(**body):
        events = sse(tiny.post("/api/chat", json={"image": image, "max_tokens": 10, **body}).text)
        return "".join(data["text"] for kind, data in events if kind == "token")

    greedy = answer(message="What is it?")
    hot = [answer(message="What is it?", temperature=1.5, seed=s) for s in (3, 3, 4)]
    assert hot[0] == hot[1] and hot[0] != hot[2] and greedy not in hot


def test_a_second_turn_carries_the_first_into_the_prompt(tiny, image):
    worker, uploads = tiny.app.state.server.workers["chat"], tiny.app.state.server.uploads
    visual = (image, uploads.get(image)[0])

    def prompt_text(history):
        def job(model):
            prompt, _, forgot = model.prompt("And the colour?", history, visual, 10)
            return model.vlm.lm.tokenizer.decode(prompt.ids), forgot

        return worker.submit(job).result()

    alone, _ = prompt_text([])
    follow, forgot = prompt_text([("What is it?", "a red square")])
    assert not forgot and "a red square" in follow and "What is it?" in follow and "a red square" not in alone


def test_a_conversation_past_the_context_forgets_its_earlier_turns(tiny, image):
    history = [["why " * 300, "because " * 100]] * 3  # ~1,200 tokens: past tiny-llama's 1,024
    events = sse(tiny.post("/api/chat", json={"message": "And now?", "image": image, "history": history,
                                              "max_tokens": 4}).text)
    assert events[0] == ("start", {"id": events[0][1]["id"], "forgot": True}) and events[-1][0] == "done"
    alone = tiny.post("/api/chat", json={"message": "why " * 1000, "image": image})
    assert alone.status_code == 413 and "context" in alone.json()["error"]


def test_multi_turn_history_reaches_the_model(runs_root):
    with TestClient(create_app(ServeConfig(runs=str(runs_root)), loaders=stub_loaders())) as client:
        reply = client.post("/api/chat", json={"message": "colour?", "history": [["q1", "a1"], ["q2", "a2"]]})
        text = "".join(d["text"] for k, d in sse(reply.text) if k == "token")
        assert text == "you said colour? after 2 turns"


def test_classify_zero_shot_ranks_the_requested_classes(tiny, image):
    default = tiny.post("/api/classify", json={"image": image}).json()
    assert {row["name"] for row in default["classes"]} == {"red", "green", "blue"}
    own = tiny.post("/api/classify", json={"image": image, "classes": ["cat", " dog ", "cat", ""]}).json()
    probs = [row["p"] for row in own["classes"]]
    assert [row["name"] for row in own["classes"]] in (["cat", "dog"], ["dog", "cat"])
    assert probs == sorted(probs, reverse=True) and abs(sum(probs) - 1) < 1e-4
    assert own["label"] == own["classes"][0]["name"] and own["method"] == "zeroshot"
    one = tiny.post("/api/classify", json={"image": image, "classes": ["cat"]})
    assert one.status_code == 400 and "at least two classes" in one.json()["error"]


def test_describe_gives_tags_attributes_and_captions(tiny, image):
    found = tiny.post("/api/describe", json={"image": image}).json()
    assert found["tags"] and found["attributes"] and len(found["captions"]) == 3
    assert found["text"].startswith("Tags:\n- " + found["tags"][0][0])


def test_model_output_reaches_the_page_as_text(runs_root):
    app = create_app(ServeConfig(runs=str(runs_root)), loaders=stub_loaders(pieces=["<scr", "ipt>", SCRIPT]))
    with TestClient(app) as client:
        image = client.post("/api/images", content=png()).json()["id"]
        reply = client.post("/api/chat", json={"message": "hi", "image": image})
        assert reply.headers["content-type"].startswith("text/event-stream")
        tokens = [data["text"] for kind, data in sse(reply.text) if kind == "token"]
        assert "".join(tokens) == "<script>" + SCRIPT  # the exact characters, JSON-quoted in the stream
        assert client.post("/api/classify", json={"image": image}).json()["description"].endswith(SCRIPT)


def test_reports_of_finished_runs_open_sandboxed_and_nothing_else(runs_root):
    with TestClient(create_app(ServeConfig(runs=str(runs_root)), loaders=stub_loaders())) as client:
        runs = client.get("/api/runs").json()
        assert sorted(r["run"] for r in runs["runs"]) == ["dg-quick", "sweep/uda-a"]  # no killed, no escape
        url = client.get("/api/report", params={"run": "sweep/uda-a"}).json()["url"]
        report = client.get(url)
        assert report.status_code == 200 and "uda-a" in report.text
        assert report.headers["content-security-policy"] == "sandbox"
        assert client.get("/api/report", params={"run": "killed"}).status_code == 404
        assert client.get("/api/report", params={"run": "escape"}).status_code == 403
        assert client.get("/runs/escape/report.html").status_code == 403


def test_uploads_stay_bounded_and_are_deleted_at_shutdown(runs_root):
    app = create_app(ServeConfig(runs=str(runs_root), uploads_kept=3), loaders=stub_loaders())
    with TestClient(app) as client:
        ids = [client.post("/api/images", content=png(colour=(k, 0, 0))).json()["id"] for k in range(5)]
        folder = app.state.server.uploads.folder
        assert sorted(p.stem for p in folder.iterdir()) == sorted(ids[2:])
        gone = client.post("/api/chat", json={"message": "hi", "image": ids[0]})
        assert gone.status_code == 404 and "upload it again" in gone.json()["error"]
    assert not folder.exists()


def test_a_model_not_built_is_one_sentence_saying_how_to_build_it(tmp_home, runs_root):
    config = ServeConfig(runs=str(runs_root), vlm="stage2")
    loaders = {k: v for k, v in stub_loaders().items() if k != "chat"}
    with TestClient(create_app(config, loaders=loaders)) as c:
        reply = c.post("/api/chat", json={"message": "hi"})
        assert reply.status_code == 503 and "steervis vlm train --stage 2" in reply.json()["error"]
        chat = c.get("/api/health").json()["models"]["chat"]
        assert chat["state"] == "failed" and "steervis vlm train" in chat["message"]
        assert c.post("/api/classify", json={"image": c.post("/api/images", content=png()).json()["id"]}
                      ).status_code == 200  # the other models serve on
