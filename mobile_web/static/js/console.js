// The regulator console: sign in with an API key (kept in sessionStorage for this tab),
// the alert queue with filters, an alert's detail and timeline, the lifecycle actions, and
// live updates from the server-sent events stream, read with fetch() because EventSource
// cannot send the Authorization header.

import { ApiError, api, apiKey, authHeaders, day, el, moment, setApiKey } from "./api.js";
import { applyLabels, installSwitch, t } from "./i18n.js";

const state = { me: null, alerts: [], selected: null, stream: null, lastEventId: null };
const $ = (id) => document.getElementById(id);

async function signIn(key) {
  setApiKey(key);
  try {
    state.me = await api("/v1/me");
  } catch (err) {
    setApiKey(null);
    $("signin-error").textContent = err.message;
    return;
  }
  $("signin").hidden = true;
  $("desk").hidden = false;
  $("signout").hidden = false;
  $("who").textContent = `${state.me.name} (${state.me.role})`;
  const select = $("district");
  select.replaceChildren(el("option", { value: "", "data-i18n": "console.all" }, t("console.all")));
  for (const d of state.me.districts) select.append(el("option", { value: d }, d));
  await loadQueue();
  listen();
}

function filters() {
  const form = new FormData($("filters"));
  const params = new URLSearchParams({ limit: "200" });
  for (const [k, v] of form.entries()) if (v) params.set(k, v);
  return params;
}

async function loadQueue() {
  const page = await api(`/v1/alerts?${filters()}`);
  state.alerts = page.items;
  renderQueue();
  if (state.selected) await loadDetail(state.selected);
}

function renderQueue() {
  const body = $("queue");
  body.replaceChildren(
    ...state.alerts.map((a) =>
      el(
        "tr",
        {
          class: [a.overdue ? "overdue" : "", a.alert_id === state.selected ? "selected" : ""].join(" "),
          "data-alert-id": a.alert_id,
          "data-status": a.status,
          onclick: () => loadDetail(a.alert_id),
        },
        el("td", {}, a.alert_id.slice(0, 8)),
        el("td", {}, el("span", { class: `pill class-${a.class}` }, String(a.class))),
        el("td", {}, a.rule, el("div", { class: "muted small" }, a.source)),
        el("td", {}, a.premises_id),
        el("td", {}, t(`status.${a.status}`), a.escalation !== "none" ? el("div", { class: "flag" }, a.escalation) : ""),
        el("td", {}, moment(a.due_at), a.overdue ? el("div", { class: "flag" }, t("console.overdue")) : ""),
      ),
    ),
  );
}

// Attachments need the key, so they are fetched and shown as blob URLs; vision evidence
// falls back to the public (blurred) evidence endpoint. Nothing is shown if neither has it.
async function thumb(sha) {
  for (const [path, auth] of [
    [`/v1/attachments/${sha}`, true],
    [`/v1/public/evidence/${sha}`, false],
  ]) {
    try {
      const response = await fetch(path, { headers: auth ? authHeaders() : {} });
      const type = response.headers.get("content-type") || "";
      if (response.ok && type.startsWith("image/")) {
        return el("img", { src: URL.createObjectURL(await response.blob()), alt: sha.slice(0, 12), "data-sha256": sha });
      }
      if (response.ok) return el("a", { href: "#", "data-sha256": sha }, `${type} ${sha.slice(0, 12)}`);
    } catch (err) {
      // try the next source
    }
  }
  return null;
}

async function loadDetail(alertId) {
  state.selected = alertId;
  renderQueue();
  const box = $("detail");
  let detail;
  try {
    detail = await api(`/v1/alerts/${encodeURIComponent(alertId)}`);
  } catch (err) {
    box.replaceChildren(el("p", { class: "errors" }, err.message));
    return;
  }
  const a = detail.alert || detail;
  const thumbs = el("div", { class: "thumbs" });
  const note = el("textarea", { id: "note", rows: 2, cols: 40, placeholder: t("console.note") });
  const message = el("p", { id: "action-result", role: "status" });
  const act = (label, path, needsNote) =>
    el(
      "button",
      {
        type: "button",
        "data-action": path,
        onclick: async () => {
          const text = note.value.trim();
          if (needsNote && !text) {
            message.className = "errors";
            message.textContent = `${t("console.note")}?`;
            return;
          }
          try {
            await api(`/v1/alerts/${encodeURIComponent(alertId)}/${path}`, {
              method: "POST",
              json: text ? { note: text } : {},
            });
            message.className = "okmsg";
            message.textContent = "✓";
            await loadQueue();
          } catch (err) {
            message.className = "errors";
            message.textContent = err instanceof ApiError ? err.message : String(err);
          }
        },
      },
      label,
    );
  box.replaceChildren(
    el("h2", {}, t("console.detail")),
    el("div", { class: "row" }, el("span", { class: `pill class-${a.class}` }, `${t("class")} ${a.class}`), el("span", { class: `pill status ${a.status}`, id: "detail-status", "data-status": a.status }, t(`status.${a.status}`)), a.overdue ? el("span", { class: "flag" }, t("console.overdue")) : ""),
    el("p", {}, a.detail),
    el("div", { class: "muted small" }, `${a.premises_id} · ${a.subject} · ${a.rule} · ${a.source}`),
    el("div", { class: "muted small" }, `${t("alerts.opened")} ${moment(a.opened_at)} · ${t("alerts.due")} ${moment(a.due_at)}`),
    el("h2", {}, t("console.timeline")),
    el(
      "ol",
      { class: "timeline" },
      el("li", {}, `${moment(a.started_at)} · breach `, el("a", { href: detail.breach ? detail.breach.proof : a.proof }, "proof")),
      (detail.timeline || []).map((s) =>
        el(
          "li",
          {},
          `${moment(s.at)} · ${t(`status.${s.to_status}`)} · ${s.actor}`,
          s.note ? ` — ${s.note}` : "",
          s.evidence_sha256.length ? ` · ${t("alerts.evidence")} ×${s.evidence_sha256.length}` : "",
          " ",
          el("a", { href: s.proof }, "proof"),
        ),
      ),
      detail.recovery ? el("li", {}, `${moment(detail.recovery.at)} · recovery`) : "",
    ),
    thumbs,
    note,
    el(
      "div",
      { class: "actions" },
      act(t("action.acknowledge"), "acknowledge", false),
      act(t("action.request"), "request-rectification", true),
      act(t("action.close"), "close", false),
      act(t("action.reopen"), "reopen", true),
    ),
    message,
  );
  const hashes = new Set((detail.timeline || []).flatMap((s) => s.evidence_sha256));
  try {
    const breach = await api(`/v1/proofs/${encodeURIComponent(a.breach_event_id)}`, { auth: false });
    const found = breach.event.payload.evidence_sha256;
    for (const h of Array.isArray(found) ? found : found ? [found] : []) hashes.add(h);
  } catch (err) {
    // the timeline's evidence is still shown
  }
  for (const sha of hashes) {
    const img = await thumb(sha);
    if (img) thumbs.append(img);
  }
}

// Read the SSE stream with fetch; reconnect with Last-Event-ID after the server ends it.
async function listen() {
  const live = $("live");
  let failures = 0;
  while (apiKey() && failures < 20) {
    const controller = new AbortController();
    state.stream = controller;
    try {
      const headers = { ...authHeaders(), Accept: "text/event-stream" };
      if (state.lastEventId) headers["Last-Event-ID"] = state.lastEventId;
      const response = await fetch("/v1/alerts/stream", { headers, signal: controller.signal });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      live.className = "live on";
      live.textContent = t("console.live");
      failures = 0;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          await onMessage(block);
        }
      }
    } catch (err) {
      failures += 1;
    }
    live.className = "live off";
    live.textContent = t("console.live.off");
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** failures, 30000)));
  }
}

async function onMessage(block) {
  let data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("id:")) state.lastEventId = line.slice(3).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
  }
  if (!data) return;
  const message = JSON.parse(data);
  const live = $("live");
  live.dataset.lastAlert = message.alert.alert_id;
  live.dataset.lastStatus = message.alert.status;
  await loadQueue();
}

$("signin").addEventListener("submit", (event) => {
  event.preventDefault();
  signIn($("api-key").value.trim());
});
$("filters").addEventListener("change", () => loadQueue());
$("signout").addEventListener("click", () => {
  setApiKey(null);
  if (state.stream) state.stream.abort();
  location.reload();
});
installSwitch($("lang"), () => {
  if (state.me) {
    renderQueue();
    if (state.selected) loadDetail(state.selected);
  }
});
applyLabels();
if (apiKey()) signIn(apiKey());
