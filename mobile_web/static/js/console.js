// The regulator console: sign in with an API key (kept in sessionStorage for this tab),
// the alert queue with filters, an alert's detail and timeline, the lifecycle actions, and
// live updates from the server-sent events stream, read with fetch() because EventSource
// cannot send the Authorization header. Premises are shown by name and times in their zone,
// both from the alert answers themselves (no list of every premises is fetched at sign-in:
// a regulator may supervise thousands); an alert offers only
// the steps its status allows (traceability/alerts/lifecycle.py); the screens for
// inspections and grades are in regulator_forms.js.

import { api, apiKey, authHeaders, el, setApiKey } from "./api.js";
import "./desk_labels.js";
import { applyLabels, installSwitch, t, tOr } from "./i18n.js";
import { alertDescription, errorText } from "./messages.js";
import { alertMoment } from "./plain.js";
import { installRegulatorForms } from "./regulator_forms.js";

const state = {
  me: null,
  alerts: [],
  selected: null,
  stream: null,
  lastEventId: null,
  live: false,
  // The last step's outcome, shown again when the detail pane is rebuilt (a reload of the
  // queue, a live update) until another alert is opened.
  flash: null,
};
const $ = (id) => document.getElementById(id);

// The lifecycle's steps (traceability/alerts/lifecycle.py): the statuses each may start
// from, who may take it, and whether it needs a note.
const STEPS = [
  { path: "acknowledge", label: "action.acknowledge", from: ["open"], by: ["regulator", "restaurant"], note: false },
  { path: "request-rectification", label: "action.request", from: ["open", "acknowledged"], by: ["regulator"], note: true },
  { path: "close", label: "action.close", from: ["rectification_submitted"], by: ["regulator"], note: false },
  { path: "reopen", label: "action.reopen", from: ["rectification_submitted", "closed"], by: ["regulator"], note: true },
];

function stepsFor(alert) {
  const role = state.me ? state.me.role : "";
  return STEPS.filter((s) => s.from.includes(alert.status) && s.by.includes(role));
}

// The name the alert answer carries; the id for premises the registry does not know.
function premisesName(alert) {
  return alert.premises_name || alert.premises_id;
}

function setLive(on) {
  state.live = on;
  const live = $("live");
  live.className = on ? "live on" : "live off";
  live.dataset.state = on ? "on" : "off";
  live.textContent = t(on ? "console.live.on" : "console.live.off");
}

async function signIn(key) {
  setApiKey(key);
  try {
    state.me = await api("/v1/me");
  } catch (err) {
    setApiKey(null);
    $("signin-error").textContent = errorText(err);
    return;
  }
  $("signin").hidden = true;
  $("desk").hidden = false;
  $("signout").hidden = false;
  $("who").textContent = `${state.me.name} (${state.me.role})`;
  const select = $("district");
  select.replaceChildren(el("option", { value: "", "data-i18n": "console.all" }, t("console.all")));
  for (const d of state.me.districts) select.append(el("option", { value: d }, d));
  // Only a regulator records inspections and grades; its pickers search its districts.
  $("inspect").hidden = $("grade").hidden = state.me.role !== "regulator";
  installRegulatorForms({ onLogged: loadQueue });
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
          onclick: () => {
            if (state.selected !== a.alert_id) state.flash = null;
            loadDetail(a.alert_id);
          },
        },
        el("td", { class: "cell-id" }, a.alert_id.slice(0, 8)),
        el("td", {}, el("span", { class: `pill class-${a.class}` }, String(a.class))),
        el("td", {}, tOr(`rule.${a.rule}`, a.rule), el("div", { class: "muted small" }, tOr(`source.${a.source}`, a.source))),
        el("td", { "data-premises-id": a.premises_id, title: a.premises_id }, premisesName(a)),
        el("td", {}, t(`status.${a.status}`), a.escalation !== "none" ? el("div", { class: "flag" }, a.escalation) : ""),
        el("td", {}, alertMoment(a)(a.due_at), a.overdue ? el("div", { class: "flag" }, t("console.overdue")) : ""),
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
    box.replaceChildren(el("p", { class: "errors" }, errorText(err)));
    return;
  }
  const a = detail.alert || detail;
  const thumbs = el("div", { class: "thumbs" });
  const note = el("textarea", { id: "note", rows: 2, placeholder: t("console.note") });
  const flash = state.flash && state.flash.alertId === alertId ? state.flash : null;
  const message = el("p", { id: "action-result", role: "status", class: flash ? (flash.ok ? "okmsg" : "errors") : "" }, flash ? flash.text : "");
  const remember = (ok, text) => {
    state.flash = { alertId, ok, text };
    message.className = ok ? "okmsg" : "errors";
    message.textContent = text;
  };
  const act = (step) =>
    el(
      "button",
      {
        type: "button",
        "data-action": step.path,
        onclick: async () => {
          const text = note.value.trim();
          if (step.note && !text) {
            remember(false, `${t("console.note")}?`);
            return;
          }
          try {
            await api(`/v1/alerts/${encodeURIComponent(alertId)}/${step.path}`, {
              method: "POST",
              json: text ? { note: text } : {},
            });
            remember(true, t("console.done", { action: t(step.label) }));
            await loadQueue();
          } catch (err) {
            remember(false, errorText(err));
          }
        },
      },
      t(step.label),
    );
  const steps = stepsFor(a);
  const at = alertMoment(a);
  box.replaceChildren(
    el("h2", {}, t("console.detail")),
    el("div", { class: "row" }, el("span", { class: `pill class-${a.class}` }, `${t("class")} ${a.class}`), el("span", { class: `pill status ${a.status}`, id: "detail-status", "data-status": a.status }, t(`status.${a.status}`)), a.overdue ? el("span", { class: "flag" }, t("console.overdue")) : ""),
    el("h3", {}, tOr(`rule.${a.rule}`, a.rule)),
    alertDescription({ ...a, ...(detail.breach || {}) }, at),
    el("div", { class: "muted small" }, `${premisesName(a)} · ${a.premises_id} · ${a.rule} · ${tOr(`source.${a.source}`, a.source)}`),
    el("div", { class: "muted small", "data-role": "detail-times" }, `${t("alerts.opened")} ${at(a.opened_at)} · ${t("alerts.due")} ${at(a.due_at)}`),
    el("h2", {}, t("console.timeline")),
    el(
      "ol",
      { class: "timeline" },
      el("li", {}, `${at(a.started_at)} · ${t("console.breach")} `, el("a", { href: detail.breach ? detail.breach.proof : a.proof }, t("console.proof"))),
      (detail.timeline || []).map((s) =>
        el(
          "li",
          {},
          `${at(s.at)} · ${t(`status.${s.to_status}`)} · ${s.actor}`,
          s.note ? ` — ${s.note}` : "",
          s.evidence_sha256.length ? ` · ${t("alerts.evidence")} ×${s.evidence_sha256.length}` : "",
          " ",
          el("a", { href: s.proof }, t("console.proof")),
        ),
      ),
      detail.recovery ? el("li", {}, `${at(detail.recovery.at)} · ${t("console.recovery")}`) : "",
    ),
    thumbs,
    steps.length ? note : "",
    el(
      "div",
      { class: "actions" },
      steps.length
        ? steps.map(act)
        : el("span", { class: "muted small", "data-role": "no-actions" }, t(state.me && state.me.role === "regulator" ? "console.waiting" : "console.readonly")),
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
  let failures = 0;
  while (apiKey() && failures < 20) {
    const controller = new AbortController();
    state.stream = controller;
    try {
      const headers = { ...authHeaders(), Accept: "text/event-stream" };
      if (state.lastEventId) headers["Last-Event-ID"] = state.lastEventId;
      const response = await fetch("/v1/alerts/stream", { headers, signal: controller.signal });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      setLive(true);
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
    setLive(false);
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
  setLive(state.live);
  if (state.me) {
    renderQueue();
    if (state.selected) loadDetail(state.selected);
  }
});
applyLabels();
if (apiKey()) signIn(apiKey());
