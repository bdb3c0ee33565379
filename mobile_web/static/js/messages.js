// The server's messages in the reader's language. An error answer is
// {error, detail, code, params} (docs/design.md, "Errors"): the code is translated with its
// parameters (catalog: i18n_messages.js); a code this page does not know, or an answer
// without one, shows the English `detail` as it came, marked as untranslated: never blank.
// Row and field problems (a CSV file's rows, a form's fields) carry a code each, the same.
// Alert descriptions are built here too, from the alert's logged fields.

import { ApiError, el } from "./api.js";
import { lang, t, tOr } from "./i18n.js";

const has = (key) => tOr(key, null) !== null;

const listOf = (items) => items.join(t("msg.list"));
const alternatives = (items) => items.join(t("msg.or"));

// A parameter as the sentence shows it: statuses, steps and roles in words, lists joined.
function shown(name, value) {
  if (Array.isArray(value)) {
    if (name === "allowed") return alternatives(value.map((v) => t(`status.${v}`)));
    if (name === "roles") return alternatives(value.map((v) => tOr(`msg.role.${v}`, v)));
    return listOf(value.map(String));
  }
  if (value === null || value === undefined) return "—";
  if (name === "status") return tOr(`status.${value}`, String(value));
  if (name === "step") return tOr(`msg.step.${value}`, String(value));
  if (name === "role") return tOr(`msg.role.${value}`, String(value));
  if (name === "column") return tOr(`field.${value}`, String(value));
  return String(value);
}

function said(code, params = {}) {
  const values = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, shown(k, v)]));
  let text = t(`msg.${code}`, values);
  if (params.entry !== undefined) text = t("msg.entry", { entry: params.entry }) + text;
  if (params.field !== undefined) text = `${params.field}: ${text}`;
  return text;
}

// The text of one coded message, or `fallback` (the English) when the code is unknown.
export function messageText(code, params, fallback) {
  if (code && has(`msg.${code}`)) return said(code, params || {});
  if (fallback) return lang() === "en" ? fallback : `${fallback} ${t("msg.fallback")}`;
  return "";
}

// One problem of a row or a field: {code, params, reason}.
export function problemText(problem) {
  return messageText(problem.code, problem.params, problem.reason) || String(problem.reason || "");
}

// What to show for a failed call: the translated message, its field problems appended.
export function errorText(err) {
  if (!(err instanceof ApiError)) return String((err && err.message) || err);
  const body = err.body && typeof err.body === "object" ? err.body : {};
  const main = messageText(body.code, body.params, typeof body.detail === "string" ? body.detail : "") || `HTTP ${err.status}`;
  const fields = Array.isArray(body.fields) && !body.rows ? body.fields : [];
  if (!fields.length || body.code === "record.rejected") return main;
  return [main, ...fields.map((f) => `${shown("column", String(f.field).split(".").pop())}: ${problemText(f)}`)].join(lang() === "en" ? "; " : "；");
}

// ------------------------------------------------------------------ alert descriptions

const num = (value, digits = 1) => {
  const n = Number(value);
  if (!Number.isFinite(n)) return null;
  return String(Math.round(n * 10 ** digits) / 10 ** digits);
};
const whole = (value) => num(value, 0);

function all(values) {
  return Object.values(values).every((v) => v !== null && v !== undefined) ? values : null;
}

const CYCLES = new Set(["reheating", "core_temperature", "dishwasher_rinse", "disinfection"]);

// The sentence of an alert from its logged fields: {rule, measurements, started_at}, with
// `moment(iso)` formatting a time in the premises' zone, and `text` its logged description
// (the rules without numbers name their supplier or inspection items there). null when the
// rule has no sentence here or its logged fields lack what the sentence needs.
export function alertSentence(fields, moment, text = fields && fields.detail) {
  const m = (fields && fields.measurements) || {};
  const rule = fields && fields.rule;
  if (!rule) return null;
  if (["cold_holding", "frozen", "sample_retention"].includes(rule)) {
    const v = all({ max: num(m.max_celsius), limit: num(m.limit_celsius), minutes: whole(m.minutes_out) });
    if (!v) return null;
    const allowed = whole(m.tolerance_minutes);
    return t(`alert.say.${rule}`, v) + (allowed !== null ? t("alert.say.tolerance", { tolerance: allowed }) : "");
  }
  if (rule === "hot_holding") {
    const v = all({ min: num(m.min_celsius), limit: num(m.limit_celsius), minutes: whole(m.minutes_out) });
    if (!v) return null;
    const allowed = whole(m.tolerance_minutes);
    return t("alert.say.hot_holding", v) + (allowed !== null ? t("alert.say.tolerance", { tolerance: allowed }) : "");
  }
  if (rule === "danger_zone") {
    const v = all({ minutes: whole(m.minutes_out), limit: whole(m.limit_minutes), min: num(m.min_celsius) });
    return v && t("alert.say.danger_zone", v);
  }
  if (rule === "chemical_sanitising") {
    const v = all({ minutes: whole(m.minutes_out), min: whole(m.min_mg_per_l), max: whole(m.max_mg_per_l) });
    return v && t("alert.say.chemical_sanitising", v);
  }
  if (rule === "cooling") {
    const stage = whole(m.stage);
    const target = stage === "1" ? num(m.stage1_celsius) : num(m.stage2_celsius);
    const v = all({ stage, target, minutes: whole(m.minutes_since_start), lowest: num(m.lowest_celsius) });
    return v && t("alert.say.cooling", v);
  }
  if (CYCLES.has(rule)) {
    const v = all({ what: t(`alert.say.what.${rule}`), peak: num(m.peak_celsius), target: num(m.target_celsius) });
    if (!v) return null;
    const hold = whole(m.hold_seconds);
    const held = whole(m.held_seconds);
    return t("alert.say.cycle", v) + (hold !== null && held !== null && Number(hold) > 0 ? t("alert.say.cycle.hold", { hold, held }) : "");
  }
  if (rule === "sample_underweight") {
    const v = all({ weight: num(m.weight_g), min: num(m.minimum_g) });
    return v && t("alert.say.sample_underweight", v);
  }
  if (rule === "sample_kept_too_short") {
    const v = all({ kept: num(m.kept_hours), min: num(m.minimum_hours) });
    return v && t("alert.say.sample_kept_too_short", v);
  }
  if (rule === "health_certificate_invalid") {
    const v = all({ count: whole(m.handlers_without_certificate) });
    return v && t("alert.say.health_certificate_invalid", v);
  }
  if (rule === "lot_past_shelf_life") {
    const v = all({ days: whole(m.days_past) });
    return v && t("alert.say.lot_past_shelf_life", v);
  }
  if (rule === "disinfection_below_minimum") {
    const v = all({ minutes: num(m.duration_min) });
    return v && t("alert.say.disinfection_below_minimum", v);
  }
  if (rule === "morning_check_missing" || rule === "sample_retention_missing") {
    // The alert starts at the deadline that was missed (traceability/records/checks.py).
    return fields.started_at ? t(`alert.say.${rule}`, { deadline: moment(fields.started_at) }) : null;
  }
  if (rule === "probe_silent") {
    const v = all({ minutes: whole(m.minutes_silent), limit: whole(m.silent_minutes) });
    return v ? t("alert.say.probe_silent", v) : t("alert.say.probe_silent.plain");
  }
  if (rule === "camera_offline") {
    const v = all({ minutes: whole(m.offline_minutes) });
    return v ? t("alert.say.camera_offline", v) : t("alert.say.camera_offline.plain");
  }
  if (rule === "unattended_flame") {
    const v = all({ minutes: whole(m.unattended_minutes) });
    return v ? t("alert.say.unattended_flame", v) : t("alert.say.unattended_flame.plain");
  }
  if (rule === "supplier_certificate_expired") return supplierSentence(text);
  if (rule === "inspection_key_item" || rule === "inspection_violation") return inspectionSentence(rule, text);
  // A rule with nothing to measure (most camera rules): one fixed sentence.
  return FIXED.has(rule) ? t(`alert.say.${rule}`) : null;
}

// Rules whose sentence takes no parameter (traceability/cameras, kitchen_vision: the
// tamper checks, the pest check, and the observation rules named by what was seen).
export const FIXED = new Set([
  "camera_covered",
  "camera_moved",
  "camera_defocused",
  "pest_suspected",
  "pest_seen",
  "rat",
  "no_hat",
  "no_mask",
  "work_clothes_mismatch",
  "cigarette",
  "smoking",
  "phone",
  "bin_open",
]);

// Parts of a logged description the code writes in one fixed form (the sentence is
// built from the logged text itself; a text in another form gets no sentence).
// traceability/records/checks.py: "lot L of 'P' was received on D from 'S', whose
// certificate expired on E" (product and supplier as Python reprs).
const SUPPLIER = /^lot (\S+) of (['"])(.*?)\2 was received on (\d{4}-\d{2}-\d{2}) from (['"])(.*)\5, whose certificate expired on (\d{4}-\d{2}-\d{2})/;

function supplierSentence(text) {
  const found = SUPPLIER.exec(String(text || ""));
  if (!found) return null;
  const [, lot, , product, received, , supplier, expired] = found;
  return t("alert.say.supplier_certificate_expired", { supplier, expired, product, lot, received });
}

// traceability/inspections: "official inspection on D by ORG (event E): key item(s) failed:
// a; b; violation(s): c; d", or, imported, "inspection on D by A (event E, imported):
// violation(s) c; d". The items are the inspector's own names; codes stay codes.
const INSPECTION = /^(?:official )?inspection on (\d{4}-\d{2}-\d{2}) by .*? \(event [^)]*\): (.*)$/s;
const KEY_ITEMS = /^key item\(s\) failed: (.*?)(?:; violation\(s\): (.*))?$/s;
const VIOLATIONS = /^violation\(s\):? (.*)$/s;

function inspectionSentence(rule, text) {
  const found = INSPECTION.exec(String(text || ""));
  if (!found) return null;
  const [, date, rest] = found;
  const split = (list) => list.split("; ").filter(Boolean);
  const key = KEY_ITEMS.exec(rest);
  if (rule === "inspection_key_item") {
    if (!key) return null;
    const said = t("alert.say.inspection_key_item", { date, items: listOf(split(key[1])) });
    return key[2] ? said + t("alert.say.inspection.also", { codes: listOf(split(key[2])) }) : said;
  }
  const violations = VIOLATIONS.exec(rest);
  return violations ? t("alert.say.inspection_violation", { date, codes: listOf(split(violations[1])) }) : null;
}

// An alert's description as the desks show it: the sentence in the reader's language, and
// the rule's English text as it was logged, folded away below it; when no sentence can be
// built, the logged text alone, labelled as such. `fields`: {rule, measurements,
// started_at, detail}; `moment(iso)` formats a time in the premises' zone.
export function alertDescription(fields, moment, logged = fields.detail) {
  const sentence = alertSentence(fields, moment, logged);
  const original = logged
    ? el("details", { class: "small muted", "data-role": "alert-logged" }, el("summary", {}, t("alert.as_logged")), logged)
    : "";
  if (sentence) return el("div", { "data-role": "alert-description", "data-localised": "true" }, el("p", { "data-role": "alert-sentence" }, sentence), original);
  return el(
    "div",
    { "data-role": "alert-description", "data-localised": "false" },
    el("p", { class: "small", "data-role": "alert-logged" }, el("span", { class: "muted" }, `${t("alert.as_logged")}: `), logged || "—"),
  );
}
