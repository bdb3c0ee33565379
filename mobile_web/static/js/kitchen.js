// The restaurant's pages: sign in with an API key, a form for each of the seven record
// types (kitchen_forms.js) posting to the records API, CSV upload with its template,
// column legend and the report of every problem of a file, and open alerts with a
// rectification form (photo to the attachments API, then the rectification with its hash).
// A record that raises an alert says so at once and the alert list is reloaded. An alert's
// times are shown in the premises' zone, with its offset, as the console shows them.

import { api, apiKey, el, setApiKey } from "./api.js";
import "./desk_labels.js";
import { applyLabels, installSwitch, t, tOr } from "./i18n.js";
import { FORMS, buildForm, localDay, recordOf, showFieldErrors } from "./kitchen_forms.js";
import { alertDescription, errorText, problemText } from "./messages.js";
import { alertMoment } from "./plain.js";

const $ = (id) => document.getElementById(id);
const state = { me: null, premises: null, raised: [] };
const DAILY = ["morning_check", "sample_retention", "disinfection", "self_inspection"];

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
  await $("premises").preselectSole(); // premises_picker.js: a single premises is picked
  await refresh();
}

function csvType() {
  return new FormData($("csv")).get("record_type");
}

async function refresh() {
  state.premises = $("premises").value;
  for (const section of document.querySelectorAll(".needs-premises")) section.hidden = !state.premises;
  if (!state.premises) return;
  $("template").href = `/v1/records/csv-templates/${csvType()}`;
  await Promise.all([loadToday(), loadAlerts(), loadLegend()]);
}

async function loadToday() {
  const day = localDay();
  const page = await api(`/v1/premises/${encodeURIComponent(state.premises)}/records?from=${day}&to=${day}&limit=200`);
  const done = new Set(page.items.map((r) => r.record_type));
  $("today").replaceChildren(
    ...DAILY.map((type) =>
      el("li", { "data-record-type": type, "data-done": done.has(type) }, done.has(type) ? "✓ " : "○ ", t(`type.${type}`)),
    ),
  );
}

async function uploadFile(file) {
  const stored = await api(`/v1/premises/${encodeURIComponent(state.premises)}/attachments`, {
    method: "POST",
    body: await file.arrayBuffer(),
    headers: { "Content-Type": file.type || "application/octet-stream" },
  });
  return stored.sha256;
}

function ruleTitle(alert) {
  return tOr(`rule.${alert.rule}`, alert.rule);
}

// Say at once which alerts a submission raised (class, what, due), then reload the list.
async function showRaised(box, alertIds) {
  if (!alertIds.length) {
    box.replaceChildren();
    return;
  }
  const alerts = await Promise.all(
    alertIds.map((id) => api(`/v1/alerts/${encodeURIComponent(id)}`).then((d) => d.alert || d, () => ({ alert_id: id, rule: "", class: "?" }))),
  );
  state.raised = alerts.map((a) => a.alert_id);
  box.replaceChildren(
    el(
      "div",
      { class: "banner bad raised-alert", role: "alert", "data-alerts": alertIds.join(" ") },
      el("strong", {}, "⚠ ", t("kitchen.alert.raised")),
      el(
        "ul",
        {},
        alerts.map((a) => {
          const moment = alertMoment(a);
          return el(
            "li",
            { "data-alert-id": a.alert_id, "data-rule": a.rule },
            el("span", { class: `pill class-${a.class}` }, `${t("class")} ${a.class}`),
            " ",
            ruleTitle(a),
            a.due_at ? el("span", { class: "small", "data-role": "due" }, ` · ${t("alerts.due")} ${moment(a.due_at)}`) : "",
            a.detail ? alertDescription({ ...a, ...(a.breach || {}) }, moment) : "",
          );
        }),
      ),
    ),
  );
  await loadAlerts();
}

async function submitRecord(event) {
  event.preventDefault();
  const form = event.target;
  const result = form.querySelector(".result");
  const raised = form.querySelector(".raised");
  result.className = "result";
  result.textContent = t("loading");
  try {
    const { type, record } = await recordOf(form, uploadFile);
    const logged = await api(`/v1/premises/${encodeURIComponent(state.premises)}/records`, {
      method: "POST",
      json: { record_type: type, record },
    });
    showFieldErrors(form, []);
    result.className = "result okmsg";
    result.textContent = `✓ ${t("kitchen.saved")} #${logged.leaf_index}`;
    await Promise.all([showRaised(raised, logged.alerts_opened || []), loadToday()]);
  } catch (err) {
    const fields = (err.body && err.body.fields) || [];
    const unplaced = showFieldErrors(form, fields);
    result.className = "result errors";
    result.textContent = fields.length ? [t("kitchen.fix"), ...unplaced].join(" ") : errorText(err);
    raised.replaceChildren();
  }
}

function columnLabel(column) {
  return `${tOr(`field.${column}`, column)} (${column})`;
}

async function loadLegend() {
  const type = csvType();
  let legend;
  try {
    legend = await api(`/v1/records/csv-templates/${type}/legend`, { auth: false });
  } catch (err) {
    $("legend").replaceChildren(el("tr", {}, el("td", { colspan: 4, class: "errors" }, errorText(err))));
    return;
  }
  $("legend").replaceChildren(
    ...legend.columns.map((c) =>
      el(
        "tr",
        { "data-column": c.column },
        el("td", {}, el("code", {}, c.column)),
        el("td", {}, tOr(`field.${c.column}`, c.column), " ", el("span", { class: c.required ? "flag small" : "muted small" }, t(c.required ? "kitchen.csv.required" : "kitchen.csv.optional"))),
        el(
          "td",
          {},
          t(`kind.${c.kind}`),
          c.choices.length ? `: ${c.choices.map((v) => `${v} (${tOr(`choice.${v}`, v)})`).join(", ")}` : "",
        ),
        el("td", {}, c.example ? el("code", {}, c.example) : ""),
      ),
    ),
  );
}

async function uploadCsv(event) {
  event.preventDefault();
  const form = new FormData($("csv"));
  const file = form.get("file");
  const box = $("csv-result");
  box.replaceChildren(t("loading"));
  try {
    const answer = await api(
      `/v1/premises/${encodeURIComponent(state.premises)}/records/csv?record_type=${encodeURIComponent(form.get("record_type"))}`,
      { method: "POST", body: await file.arrayBuffer(), headers: { "Content-Type": "text/csv" } },
    );
    const raised = el("div", { class: "raised" });
    box.replaceChildren(el("p", { class: "okmsg", id: "csv-ok" }, t("kitchen.csv.ok", { count: answer.accepted })), raised);
    await Promise.all([showRaised(raised, (answer.records || []).flatMap((r) => r.alerts_opened || [])), loadToday()]);
  } catch (err) {
    const rows = (err.body && err.body.rows) || [];
    box.replaceChildren(
      el("p", { class: "errors" }, rows.length ? t("kitchen.csv.problems", { count: rows.length }) : errorText(err)),
      el(
        "ul",
        { class: "errors", id: "csv-errors" },
        rows.map((r) => {
          const column = r.column ? columnLabel(r.column) : "—";
          const text =
            r.value !== null && r.value !== undefined && r.value !== ""
              ? t("kitchen.csv.rows.value", { row: r.row, column, value: r.value, reason: problemText(r) })
              : t("kitchen.csv.rows", { row: r.row, column, reason: problemText(r) });
          return el("li", { "data-row": r.row, "data-column": r.column || "" }, text);
        }),
      ),
    );
  }
}

// An open alert's description in the page's language, from its breach's logged numbers
// (the alert's detail call); the logged English is shown until that answer arrives.
function describe(alert, moment) {
  const slot = el("div", { class: "small", "data-role": "alert-slot" }, alert.detail);
  api(`/v1/alerts/${encodeURIComponent(alert.alert_id)}`).then(
    (d) => slot.replaceChildren(alertDescription({ ...alert, ...(d.breach || {}) }, moment, alert.detail)),
    () => slot.replaceChildren(alertDescription(alert, moment, alert.detail)),
  );
  return slot;
}

async function loadAlerts() {
  const page = await api(`/v1/alerts?premises_id=${encodeURIComponent(state.premises)}&limit=100`);
  const open = page.items.filter((a) => a.status !== "closed");
  $("alerts").replaceChildren(
    ...open.map((a) => {
      const note = el("textarea", { name: "note", rows: 2, required: true, placeholder: t("console.note") });
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
          const sha = await uploadFile(photo.files[0]);
          await api(`/v1/alerts/${a.alert_id}/rectification`, {
            method: "POST",
            json: { note: note.value.trim(), evidence_sha256: [sha] },
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
      const moment = alertMoment(a);
      return el(
        "li",
        { "data-alert-id": a.alert_id, "data-status": a.status, class: [a.overdue ? "overdue" : "", state.raised.includes(a.alert_id) ? "new" : ""].join(" ") },
        el(
          "div",
          { class: "row" },
          el("span", { class: `pill class-${a.class}` }, `${t("class")} ${a.class}`),
          el("strong", {}, ruleTitle(a)),
          el("span", { class: "pill" }, t(`status.${a.status}`)),
          a.overdue ? el("span", { class: "flag" }, t("console.overdue")) : "",
        ),
        describe(a, moment),
        el("div", { class: "muted small", "data-role": "alert-times" }, `${t("alerts.opened")} ${moment(a.opened_at)} · ${t("alerts.due")} ${moment(a.due_at)}`),
        canRectify ? form : "",
      );
    }),
  );
  if (!open.length) $("alerts").append(el("li", { class: "muted" }, t("none")));
}

function buildForms() {
  $("forms").replaceChildren(
    ...FORMS.map((spec) => {
      const form = buildForm(spec);
      form.addEventListener("submit", submitRecord);
      return el(
        "details",
        { "data-record-type": spec.type },
        el("summary", { "data-i18n": `type.${spec.type}` }, t(`type.${spec.type}`)),
        form,
      );
    }),
  );
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
$("csv").querySelector("select[name=record_type]").addEventListener("change", () => {
  $("template").href = `/v1/records/csv-templates/${csvType()}`;
  loadLegend();
});
buildForms();
installSwitch($("lang"), () => {
  if (state.me) refresh();
});
applyLabels();
if (apiKey()) signIn(apiKey());
