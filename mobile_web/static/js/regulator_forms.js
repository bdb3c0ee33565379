// The regulator's screens for recording an official inspection and deciding an annual
// grade. Each shows the server's preview of what will be logged (the event's payload, the
// result or grade it follows from, the alert a failed key item opens) before anything is
// stored; the confirm button works only on the previewed form, and any edit asks for a new
// preview. The rules themselves are the server's (traceability/inspections/grades.py).

import { ApiError, api, el } from "./api.js";
import { t } from "./i18n.js";
import { errorText as messageOf } from "./messages.js";
import { gradeReason, localMoment } from "./plain.js";

const $ = (id) => document.getElementById(id);
const pad = (n) => String(n).padStart(2, "0");

function today() {
  const now = new Date();
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function message(node, ok, text) {
  node.className = ok ? "okmsg" : "errors";
  node.textContent = text;
}

function errorText(err) {
  if (err instanceof ApiError && err.body && Array.isArray(err.body.detail)) {
    return err.body.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  }
  return messageOf(err);
}

function itemRow(item = {}) {
  const row = el(
    "div",
    { class: "item-row" },
    el("label", {}, el("span", { "data-i18n": "inspect.item" }, t("inspect.item")), el("input", { name: "item", value: item.item || "", required: true, autocomplete: "off" })),
    el("label", {}, el("input", { type: "checkbox", name: "passed", checked: item.passed !== false }), " ", el("span", { "data-i18n": "inspect.passed" }, t("inspect.passed"))),
    el("label", {}, el("input", { type: "checkbox", name: "key", checked: !!item.key }), " ", el("span", { "data-i18n": "inspect.key" }, t("inspect.key"))),
    el("label", {}, el("span", { "data-i18n": "inspect.finding" }, t("inspect.finding")), el("input", { name: "finding", value: item.finding || "", autocomplete: "off" })),
  );
  row.append(el("button", { type: "button", class: "secondary", onclick: () => { row.remove(); stale("inspect"); }, "data-i18n": "kitchen.remove" }, t("kitchen.remove")));
  return row;
}

function inspection() {
  const form = $("inspect-form");
  const data = new FormData(form);
  const findings = String(data.get("findings") || "").trim();
  return {
    premisesId: data.get("premises_id"),
    body: {
      inspected_on: data.get("inspected_on"),
      score: data.get("score") === "" ? null : Number(data.get("score")),
      findings: findings || null,
      items: [...$("inspect-items").querySelectorAll(".item-row")]
        .map((row) => {
          const finding = row.querySelector("[name=finding]").value.trim();
          return {
            item: row.querySelector("[name=item]").value.trim(),
            passed: row.querySelector("[name=passed]").checked,
            key: row.querySelector("[name=key]").checked,
            ...(finding ? { finding } : {}),
          };
        })
        .filter((i) => i.item),
    },
  };
}

const previewed = { inspect: null, grade: null };

// The premises a form's picker chose, named with its zone, without a list of every
// premises: {name, zone}; the id and UTC if the picker holds no such choice.
function chosen(form, premisesId) {
  const picked = form.querySelector("premises-picker").premises;
  if (!picked || picked.premises_id !== premisesId) return { name: premisesId, zone: "UTC" };
  return { name: picked.name, zone: picked.timezone || "UTC" };
}

function stale(which) {
  if (!previewed[which]) return;
  previewed[which] = null;
  $(`${which}-submit`).disabled = true;
  const box = $(`${which}-preview`);
  box.classList.add("stale");
  box.prepend(el("p", { class: "errors", "data-stale": "" }, t("inspect.stale")));
}

function payloadBlock(payload) {
  return el("details", { open: true }, el("summary", {}, t("inspect.will_log")), el("pre", { "data-role": "payload" }, JSON.stringify(payload, null, 2)));
}

async function previewInspection(event) {
  event.preventDefault();
  const { premisesId, body } = inspection();
  const { name } = chosen($("inspect-form"), premisesId);
  const box = $("inspect-preview");
  const result = $("inspect-result");
  result.textContent = "";
  try {
    const plan = await api(`/v1/regulator/premises/${encodeURIComponent(premisesId)}/inspections/preview`, { method: "POST", json: body });
    previewed.inspect = { premisesId, body };
    box.hidden = false;
    box.classList.remove("stale");
    box.replaceChildren(
      el("div", { "data-role": "inspect-premises" }, `${name} · ${body.inspected_on}`),
      el("div", {}, `${t("inspect.result")}: `, el("span", { class: "verdict", "data-result": plan.result }, t(`result.${plan.result}`))),
      plan.alert
        ? el("p", { class: "flag", "data-alert-class": plan.alert.class }, t("inspect.alert", { class: plan.alert.class, items: plan.alert.key_items_failed.join("; ") }))
        : el("p", { class: "muted" }, t("inspect.no_alert")),
      payloadBlock(plan.payload),
    );
    $("inspect-submit").disabled = false;
  } catch (err) {
    previewed.inspect = null;
    box.hidden = true;
    $("inspect-submit").disabled = true;
    message(result, false, errorText(err));
  }
}

async function recordInspection(onLogged) {
  const plan = previewed.inspect;
  if (!plan) return;
  const result = $("inspect-result");
  $("inspect-submit").disabled = true;
  try {
    const logged = await api(`/v1/regulator/premises/${encodeURIComponent(plan.premisesId)}/inspections`, { method: "POST", json: plan.body });
    previewed.inspect = null;
    const text = t("inspect.recorded", { leaf: logged.leaf_index, result: t(`result.${logged.result}`) });
    message(result, true, logged.alert_id ? `${text} · ${t("inspect.alert_opened", { id: logged.alert_id.slice(0, 8) })}` : text);
    result.dataset.eventId = logged.event_id;
    await onLogged();
  } catch (err) {
    $("inspect-submit").disabled = false;
    message(result, false, errorText(err));
  }
}

async function previewGrade(event) {
  event.preventDefault();
  const data = new FormData($("grade-form"));
  const premisesId = data.get("premises_id");
  const { name, zone } = chosen($("grade-form"), premisesId);
  const year = data.get("year");
  const box = $("grade-preview");
  const result = $("grade-result");
  result.textContent = "";
  try {
    const plan = await api(`/v1/regulator/premises/${encodeURIComponent(premisesId)}/grades/${encodeURIComponent(year)}/preview`);
    previewed.grade = { premisesId, year };
    box.hidden = false;
    box.classList.remove("stale");
    box.replaceChildren(
      el("div", { "data-role": "grade-premises" }, `${name} · ${year} · ${t("gradeform.will_be")}: `, el("span", { class: "verdict", "data-grade": plan.grade || "" }, plan.grade || t("gradeform.no_grade"))),
      el("p", { class: "small" }, `${t("gradeform.reason")}: ${gradeReason(plan.reason) || plan.reason}`),
      el("div", { class: "small" }, t("gradeform.based_on")),
      plan.inspections.length
        ? el("ul", { class: "small" }, plan.inspections.map((i) => el("li", {}, `${i.inspected_on} · ${t("inspection.score")} ${i.score} · ${t(`result.${i.result}`)}`)))
        : el("p", { class: "muted small" }, t("gradeform.none_inspections")),
      plan.replaces ? el("p", { class: "warn small" }, t("gradeform.replaces", { at: localMoment(plan.replaces.decided_at, zone), grade: plan.replaces.grade || t("gradeform.no_grade") })) : "",
      payloadBlock(plan.payload),
    );
    $("grade-submit").disabled = false;
  } catch (err) {
    previewed.grade = null;
    box.hidden = true;
    $("grade-submit").disabled = true;
    message(result, false, errorText(err));
  }
}

async function decideGrade(onLogged) {
  const plan = previewed.grade;
  if (!plan) return;
  const result = $("grade-result");
  $("grade-submit").disabled = true;
  try {
    const logged = await api(`/v1/regulator/premises/${encodeURIComponent(plan.premisesId)}/grades/${encodeURIComponent(plan.year)}`, { method: "POST" });
    previewed.grade = null;
    message(result, true, t("gradeform.decided", { leaf: logged.leaf_index, grade: logged.grade || t("gradeform.no_grade") }));
    result.dataset.eventId = logged.event_id;
    await onLogged();
  } catch (err) {
    $("grade-submit").disabled = false;
    message(result, false, errorText(err));
  }
}

// Wire the two screens once (their premises pickers search by themselves:
// premises_picker.js); `onLogged` reloads the alert queue (a failed key item opens an alert).
export function installRegulatorForms({ onLogged }) {
  const form = $("inspect-form");
  form.elements.inspected_on.value = today();
  $("grade-form").elements.year.value = String(new Date().getFullYear());
  if (!$("inspect-items").children.length) $("inspect-items").append(itemRow());
  $("inspect-add").onclick = () => {
    $("inspect-items").append(itemRow());
    stale("inspect");
  };
  form.onsubmit = previewInspection;
  form.oninput = () => stale("inspect");
  form.onchange = () => stale("inspect");
  $("inspect-submit").onclick = () => recordInspection(onLogged);
  $("grade-form").onsubmit = previewGrade;
  $("grade-form").oninput = () => stale("grade");
  $("grade-form").onchange = () => stale("grade");
  $("grade-submit").onclick = () => decideGrade(onLogged);
}
