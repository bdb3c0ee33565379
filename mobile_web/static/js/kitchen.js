// The restaurant's pages: sign in with an API key, today's checklist as forms posting to
// the records API, CSV upload with the row-by-row error report, and open alerts with a
// rectification form (photo to the attachments API, then the rectification with its hash).

import { ApiError, api, apiKey, el, moment, setApiKey } from "./api.js";
import { applyLabels, installSwitch, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const state = { me: null, premises: null };

function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function errorText(err) {
  if (!(err instanceof ApiError)) return String(err.message || err);
  return err.message;
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
  const select = $("premises");
  select.replaceChildren(...(state.me.premises || []).map((p) => el("option", { value: p }, p)));
  state.premises = select.value;
  await refresh();
}

async function refresh() {
  state.premises = $("premises").value;
  if (!state.premises) return;
  $("template").href = `/v1/records/csv-templates/${new FormData($("csv")).get("record_type")}`;
  await Promise.all([loadToday(), loadAlerts()]);
}

async function loadToday() {
  const day = today();
  const page = await api(`/v1/premises/${state.premises}/records?from=${day}&to=${day}&limit=200`);
  const done = new Set(page.items.map((r) => r.record_type));
  $("today").replaceChildren(
    ...[
      ["morning_check", "kitchen.morning"],
      ["sample_retention", "kitchen.samples"],
      ["disinfection", "kitchen.disinfection"],
    ].map(([type, label]) =>
      el("li", { "data-record-type": type, "data-done": done.has(type) }, done.has(type) ? "✓ " : "○ ", t(label)),
    ),
  );
}

function recordFrom(form) {
  const data = Object.fromEntries(new FormData(form).entries());
  const type = form.dataset.recordType;
  const record = { date: today() };
  for (const [k, v] of Object.entries(data)) if (v !== "") record[k] = v;
  if (type === "morning_check") {
    record.staff = data.staff
      .split("\n")
      .map((line) => line.split(",").map((s) => s.trim()))
      .filter(([name]) => name)
      .map(([name, expiry]) => (expiry ? { name, health_certificate_expiry: expiry } : { name }));
  }
  if (type === "sample_retention") {
    record.weight_g = Number(data.weight_g);
    record.time_in = new Date(data.time_in).toISOString();
  }
  if (type === "disinfection") {
    record.items = data.items.split(";").map((s) => s.trim()).filter(Boolean);
    for (const k of ["temperature_c", "concentration_mg_l", "duration_min"]) {
      if (data[k] !== "" && data[k] !== undefined) record[k] = Number(data[k]);
    }
  }
  return { type, record };
}

async function submitRecord(event) {
  event.preventDefault();
  const form = event.target;
  const result = form.querySelector(".result");
  const { type, record } = recordFrom(form);
  try {
    const logged = await api(`/v1/premises/${state.premises}/records`, {
      method: "POST",
      json: { record_type: type, record },
    });
    result.className = "result okmsg";
    result.textContent = `✓ ${t("kitchen.saved")} #${logged.leaf_index}`;
    await loadToday();
  } catch (err) {
    result.className = "result errors";
    result.textContent = errorText(err);
  }
}

async function uploadCsv(event) {
  event.preventDefault();
  const form = new FormData($("csv"));
  const file = form.get("file");
  const box = $("csv-result");
  box.replaceChildren(t("loading"));
  try {
    const answer = await api(
      `/v1/premises/${state.premises}/records/csv?record_type=${encodeURIComponent(form.get("record_type"))}`,
      { method: "POST", body: await file.arrayBuffer(), headers: { "Content-Type": "text/csv" } },
    );
    box.replaceChildren(el("p", { class: "okmsg", id: "csv-ok" }, t("kitchen.csv.ok", { count: answer.accepted })));
    await loadToday();
  } catch (err) {
    const rows = (err.body && err.body.rows) || [];
    box.replaceChildren(
      el("p", { class: "errors" }, errorText(err)),
      el(
        "ul",
        { class: "errors", id: "csv-errors" },
        rows.map((r) =>
          el("li", { "data-row": r.row, "data-column": r.column || "" }, t("kitchen.csv.rows", { row: r.row, column: r.column || "—", reason: r.reason })),
        ),
      ),
    );
  }
}

async function loadAlerts() {
  const page = await api(`/v1/alerts?premises_id=${encodeURIComponent(state.premises)}&limit=100`);
  const open = page.items.filter((a) => a.status !== "closed");
  $("alerts").replaceChildren(
    ...(open.length ? open : []).map((a) => {
      const note = el("textarea", { name: "note", rows: 2, cols: 32, required: true, placeholder: t("console.note") });
      const photo = el("input", { type: "file", name: "photo", accept: "image/jpeg,image/png,image/webp,application/pdf", required: true });
      const result = el("span", { class: "result", role: "status" });
      const form = el(
        "form",
        { class: "rectify" },
        el("label", {}, el("span", {}, t("console.note")), note),
        el("label", {}, el("span", {}, t("kitchen.photo")), photo),
        el("button", { type: "submit" }, t("kitchen.rectify")),
        " ",
        result,
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          const file = photo.files[0];
          const stored = await api(`/v1/premises/${state.premises}/attachments`, {
            method: "POST",
            body: await file.arrayBuffer(),
            headers: { "Content-Type": file.type || "application/octet-stream" },
          });
          await api(`/v1/alerts/${a.alert_id}/rectification`, {
            method: "POST",
            json: { note: note.value.trim(), evidence_sha256: [stored.sha256] },
          });
          result.className = "result okmsg";
          result.textContent = "✓";
          await loadAlerts();
        } catch (err) {
          result.className = "result errors";
          result.textContent = errorText(err);
        }
      });
      const canRectify = ["open", "acknowledged", "rectification_requested"].includes(a.status);
      return el(
        "li",
        { "data-alert-id": a.alert_id, "data-status": a.status, class: a.overdue ? "overdue" : "" },
        el("div", { class: "row" }, el("span", { class: `pill class-${a.class}` }, `${t("class")} ${a.class}`), el("span", { class: "pill" }, t(`status.${a.status}`)), a.overdue ? el("span", { class: "flag" }, t("console.overdue")) : ""),
        el("div", {}, a.detail),
        el("div", { class: "muted small" }, `${t("alerts.opened")} ${moment(a.opened_at)} · ${t("alerts.due")} ${moment(a.due_at)}`),
        canRectify ? form : "",
      );
    }),
  );
  if (!open.length) $("alerts").append(el("li", { class: "muted" }, t("none")));
}

$("signin").addEventListener("submit", (event) => {
  event.preventDefault();
  signIn($("api-key").value.trim());
});
$("signout").addEventListener("click", () => {
  setApiKey(null);
  location.reload();
});
$("premises").addEventListener("change", refresh);
$("csv").addEventListener("submit", uploadCsv);
$("csv").addEventListener("change", () => {
  $("template").href = `/v1/records/csv-templates/${new FormData($("csv")).get("record_type")}`;
});
for (const form of document.querySelectorAll("form[data-record-type]")) {
  form.addEventListener("submit", submitRecord);
}
installSwitch($("lang"), () => {
  if (state.me) refresh();
});
applyLabels();
if (apiKey()) signIn(apiKey());
