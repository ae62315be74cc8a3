// steervis' page. Everything a model or a file name says is inserted with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { image: null, history: [], streamId: null, growth: [] };
window.steervis = state; // the browser test reads how the answer grew

function notice(text) {
  $("notice").textContent = text || "";
  $("notice").hidden = !text;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
  if (!response.ok) throw new Error(data.error || `The server answered ${response.status}.`);
  return data;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

// --- models -----------------------------------------------------------------------------------------
async function health() {
  const data = await api("/api/health");
  const list = $("models");
  list.replaceChildren();
  const failed = [];
  for (const [name, info] of Object.entries(data.models)) {
    const item = element("li", `${name}: ${info.state === "ready" ? info.model : info.state}`);
    item.dataset.state = info.state;
    if (info.message) {
      item.title = info.message;
      failed.push(`${name}: ${info.message}`);
    }
    list.append(item);
  }
  if (failed.length) notice(failed.join(" "));
  $("max-tokens").max = data.limits.max_new_tokens;
  if (!$("classes").value && data.classes.length) $("classes").value = data.classes.join(", ");
  const waiting = Object.values(data.models).some((m) => m.state === "loading");
  if (waiting) setTimeout(() => health().catch(() => {}), 1500);
}

// --- image ------------------------------------------------------------------------------------------
async function upload(file) {
  notice("");
  const response = await fetch("/api/images", {
    method: "POST", body: file, headers: { "X-Filename": encodeURIComponent(file.name || "") } });
  const data = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
  if (!response.ok) { notice(data.error); return; }
  state.image = data.id;
  $("preview").src = URL.createObjectURL(file);
  $("preview").hidden = false;
  $("drop-text").hidden = true;
  newConversation();
}

function needImage() {
  if (state.image) return true;
  notice("Choose an image first.");
  return false;
}

// --- chat -------------------------------------------------------------------------------------------
function newConversation() {
  state.history = [];
  $("transcript").replaceChildren();
  $("chat-meta").textContent = "";
}

async function send() {
  const message = $("message").value.trim();
  if (!message) return;
  notice("");
  $("transcript").append(element("div", message, "turn question"));
  const bubble = element("div", "", "turn answer");
  $("transcript").append(bubble);
  state.growth = [];
  $("send").disabled = true;
  $("stop").disabled = false;
  try {
    const ended = await stream(message, bubble);
    state.history.push([message, bubble.textContent]);
    $("message").value = "";
    if (ended) {
      const rate = ended.tokens / Math.max(ended.seconds, 1e-6);
      $("chat-meta").textContent = `${ended.tokens} tokens, first after ${ended.first_token_s.toFixed(2)} s, `
        + `${rate.toFixed(1)} tokens/s${ended.stopped ? " (stopped)" : ""}`;
    }
  } catch (err) {
    bubble.remove();
    notice(err.message);
  } finally {
    $("send").disabled = false;
    $("stop").disabled = true;
    state.streamId = null;
  }
}

async function stream(message, bubble) {
  const response = await fetch("/api/chat", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ message, image: state.image, history: state.history,
      temperature: Number($("temperature").value), max_tokens: Number($("max-tokens").value) }) });
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    throw new Error(data.error || `The server answered ${response.status}.`);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = parse(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
      if (event.kind === "start") {
        state.streamId = event.data.id;
        if (event.data.forgot) state.history = [];
      } else if (event.kind === "token") {
        bubble.textContent += event.data.text;
        state.growth.push(bubble.textContent.length);
        $("transcript").scrollTop = $("transcript").scrollHeight;
      } else if (event.kind === "error") {
        throw new Error(event.data.error);
      } else if (event.kind === "done") {
        return event.data;
      }
    }
  }
}

function parse(block) {
  const event = { kind: "message", data: {} };
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) event.kind = line.slice(7);
    else if (line.startsWith("data: ")) event.data = JSON.parse(line.slice(6));
  }
  return event;
}

async function stop() {
  if (state.streamId) await api(`/api/chat/${state.streamId}/stop`, {}).catch(() => {});
}

// --- classify and describe --------------------------------------------------------------------------
async function classify() {
  if (!needImage()) return;
  notice("");
  const classes = $("classes").value.split(",").map((c) => c.trim()).filter(Boolean);
  try {
    const data = await api("/api/classify", { image: state.image, classes });
    const rows = data.classes.map((row) => {
      const tr = element("tr");
      tr.dataset.p = String(row.p);
      const bar = element("span", undefined, "bar");
      bar.style.width = `${Math.round(row.p * 120)}px`;
      const cell = element("td");
      cell.append(bar, document.createTextNode(`${(row.p * 100).toFixed(1)} %`));
      tr.append(element("td", row.name), cell);
      return tr;
    });
    $("class-table").tBodies[0].replaceChildren(...rows);
    $("classify-method").textContent = `${data.method}: ${data.label}`;
    $("decider-text").textContent = data.description || "(this method reads no description)";
  } catch (err) { notice(err.message); }
}

async function describe() {
  if (!needImage()) return;
  notice("");
  try {
    const data = await api("/api/describe", { image: state.image });
    const parts = [];
    for (const key of ["tags", "attributes", "captions"]) {
      if (!data[key].length) continue;
      parts.push(element("h3", key));
      const list = element("ul");
      for (const item of data[key]) list.append(element("li", Array.isArray(item) ? item[0] : item));
      parts.push(list);
    }
    $("description").replaceChildren(...parts);
  } catch (err) { notice(err.message); }
}

// --- reports ----------------------------------------------------------------------------------------
async function listRuns() {
  const data = await api("/api/runs");
  $("runs-root").textContent = `runs root: ${data.root}`;
  const options = data.runs.map((run) => {
    const option = element("option", `${run.run} (${run.modified})`);
    option.value = run.run;
    return option;
  });
  $("runs").replaceChildren(element("option", "finished runs…"), ...options);
}

async function openRun(run) {
  if (!run) return;
  notice("");
  try {
    const data = await api(`/api/report?run=${encodeURIComponent(run)}`);
    $("report").src = data.url;
  } catch (err) { notice(err.message); }
}

// --- wiring -----------------------------------------------------------------------------------------
function showTab(name) {
  for (const tab of document.querySelectorAll(".tab")) {
    tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
  }
  for (const panel of document.querySelectorAll(".panel")) panel.hidden = panel.id !== name;
  if (name === "reports") listRuns().catch((err) => notice(err.message));
}

document.addEventListener("DOMContentLoaded", () => {
  for (const tab of document.querySelectorAll(".tab")) tab.onclick = () => showTab(tab.dataset.tab);
  $("file").onchange = () => { if ($("file").files[0]) upload($("file").files[0]); };
  const drop = $("drop");
  drop.ondragover = (e) => { e.preventDefault(); drop.classList.add("over"); };
  drop.ondragleave = () => drop.classList.remove("over");
  drop.ondrop = (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]);
  };
  $("send").onclick = send;
  $("message").onkeydown = (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); send(); } };
  $("stop").onclick = stop;
  $("new-chat").onclick = newConversation;
  $("temperature").oninput = () => { $("temperature-value").textContent = $("temperature").value; };
  $("run-classify").onclick = classify;
  $("run-describe").onclick = describe;
  $("runs").onchange = () => openRun($("runs").value);
  $("open-run").onclick = () => openRun($("run").value.trim());
  health().catch((err) => notice(err.message));
});
