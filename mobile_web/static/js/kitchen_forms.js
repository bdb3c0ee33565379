// The kitchen's forms, one per record type (traceability/records/schemas.py), built from
// the field lists below: labels come from desk_labels.js ("field.<name>"), so the same
// words name a field in the form, in an error and in the CSV legend.

import { el } from "./api.js";
import { t } from "./i18n.js";
import { problemText } from "./messages.js";
import { zoneParts } from "./plain.js";

const MEALS = ["breakfast", "lunch", "dinner", "other"];

// kind: text | number | integer | date | datetime | choice | bool | list | file | rows
export const FORMS = [
  {
    type: "morning_check",
    fields: [
      { name: "date", kind: "date", required: true },
      { name: "checked_at", kind: "datetime" },
      { name: "checked_by", kind: "text" },
      {
        name: "staff",
        kind: "rows",
        required: true,
        note: "kitchen.staff.note",
        columns: [
          { name: "name", kind: "text", required: true },
          { name: "health_certificate_expiry", kind: "date" },
          { name: "excluded_reason", kind: "choice", choices: ["", "fever", "diarrhoea", "skin_wound", "throat_infection", "other"] },
        ],
      },
    ],
  },
  {
    type: "purchase_inspection",
    fields: [
      { name: "date", kind: "date", required: true },
      { name: "supplier", kind: "text", required: true },
      { name: "supplier_licence", kind: "text", required: true },
      { name: "supplier_certificate_expiry", kind: "date", required: true },
      { name: "product", kind: "text", required: true },
      { name: "gtin", kind: "text", pattern: "[0-9]{8,14}" },
      { name: "lot_code", kind: "text", required: true },
      { name: "quantity", kind: "number", required: true },
      { name: "unit", kind: "text", required: true, value: "kg" },
      { name: "production_date", kind: "date" },
      { name: "shelf_life_days", kind: "integer" },
      { name: "certificate_sha256", kind: "file" },
      { name: "reference_document_type", kind: "text" },
      { name: "reference_document_number", kind: "text" },
      { name: "receiver", kind: "text", required: true },
    ],
  },
  {
    type: "sample_retention",
    fields: [
      { name: "date", kind: "date", required: true },
      { name: "dish", kind: "text", required: true },
      { name: "meal", kind: "choice", choices: MEALS, required: true, value: "lunch" },
      { name: "weight_g", kind: "number", required: true, value: "150" },
      { name: "time_in", kind: "datetime", required: true },
      { name: "removed_at", kind: "datetime" },
      { name: "fridge", kind: "text", required: true },
      { name: "person", kind: "text", required: true },
    ],
  },
  {
    type: "disinfection",
    fields: [
      { name: "date", kind: "date", required: true },
      { name: "items", kind: "list", required: true },
      { name: "method", kind: "choice", choices: ["steam", "heat", "chemical", "uv"], required: true },
      { name: "temperature_c", kind: "number" },
      { name: "concentration_mg_l", kind: "number" },
      { name: "duration_min", kind: "number", required: true },
      { name: "started_at", kind: "datetime" },
      { name: "person", kind: "text" },
    ],
  },
  {
    type: "additive_use",
    fields: [
      { name: "date", kind: "date", required: true },
      { name: "additive", kind: "text", required: true },
      { name: "batch", kind: "text", required: true },
      { name: "food", kind: "text", required: true },
      { name: "amount_g", kind: "number", required: true },
      { name: "max_g", kind: "number" },
      { name: "weighed", kind: "bool", value: true },
      { name: "used_at", kind: "datetime", required: true },
      { name: "person", kind: "text", required: true },
    ],
  },
  {
    type: "waste_oil",
    fields: [
      { name: "date", kind: "date", required: true },
      { name: "oil_type", kind: "choice", choices: ["frying_oil", "grease_trap", "other"], required: true },
      { name: "quantity", kind: "number", required: true },
      { name: "unit", kind: "choice", choices: ["kg", "L"], required: true },
      { name: "collector", kind: "text", required: true },
      { name: "collector_licence", kind: "text", required: true },
      { name: "collected_at", kind: "datetime", required: true },
      { name: "person", kind: "text" },
    ],
  },
  {
    type: "self_inspection",
    fields: [
      { name: "date", kind: "date", required: true },
      {
        name: "items",
        kind: "rows",
        required: true,
        note: "kitchen.self.no_risk",
        columns: [
          { name: "item", kind: "text", required: true },
          { name: "ok", kind: "bool", value: true },
          { name: "finding", kind: "text" },
        ],
      },
      { name: "person", kind: "text" },
    ],
  },
];

const pad = (n) => String(n).padStart(2, "0");

// The wall clock of a zone at `when`: {day: "YYYY-MM-DD", minute: "YYYY-MM-DDTHH:MM"}. The
// kitchen's "today" and its forms' defaults are the premises' day, not the browser's: a
// manager abroad, or a tablet set to another zone, sees and logs the premises' day (the
// server judges "today" and reads datetime-local in the premises' zone too). Without a zone
// (or with one the browser does not know), the browser's own clock.
export function zoneClock(timeZone, when = new Date()) {
  if (timeZone) {
    try {
      const parts = zoneParts(when, timeZone);
      const day = `${parts.year}-${parts.month}-${parts.day}`;
      return { day, minute: `${day}T${parts.hour}:${parts.minute}` };
    } catch {
      // an unknown zone: the browser's clock below
    }
  }
  const day = `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}`;
  return { day, minute: `${day}T${pad(when.getHours())}:${pad(when.getMinutes())}` };
}

// Set the forms' default day and time to the premises' clock; a value the user typed
// (one that is not the last default) is kept.
export function setClock(form, timeZone) {
  const { day, minute } = zoneClock(timeZone);
  for (const input of form.querySelectorAll("input[data-default]")) {
    const value = input.type === "date" ? day : minute;
    if (input.value === input.dataset.default) input.value = value;
    input.dataset.default = value;
  }
}

function labelled(name, control, required) {
  return el(
    "label",
    { "data-field": name },
    el("span", {}, el("span", { "data-i18n": `field.${name}` }, t(`field.${name}`)), required ? " *" : ""),
    control,
    el("span", { class: "field-error errors small", role: "alert" }),
  );
}

function control(field, prefix = "") {
  const name = prefix + field.name;
  switch (field.kind) {
    case "choice":
      return el(
        "select",
        { name, required: field.required },
        field.choices.map((c) =>
          el("option", { value: c, selected: c === field.value, "data-i18n": `choice.${c || "none"}` }, t(`choice.${c || "none"}`)),
        ),
      );
    case "bool":
      return el("input", { type: "checkbox", name, checked: field.value === true });
    case "number":
    case "integer":
      return el("input", { type: "number", name, required: field.required, step: field.kind === "integer" ? "1" : "any", value: field.value ?? "", inputmode: "decimal" });
    case "date":
      return field.name === "date"
        ? el("input", { type: "date", name, required: field.required, value: zoneClock().day, "data-default": zoneClock().day })
        : el("input", { type: "date", name, required: field.required, value: "" });
    case "datetime":
      return field.required
        ? el("input", { type: "datetime-local", name, required: true, value: zoneClock().minute, "data-default": zoneClock().minute })
        : el("input", { type: "datetime-local", name, required: false, value: "" });
    case "file":
      return el("input", { type: "file", name, accept: "image/jpeg,image/png,image/webp,application/pdf" });
    default:
      return el("input", { name, required: field.required, value: field.value ?? "", pattern: field.pattern, autocomplete: "off" });
  }
}

function rowOf(field) {
  const row = el("div", { class: "item-row", "data-row": field.name });
  for (const column of field.columns) row.append(labelled(column.name, control(column), column.required));
  row.append(
    el("button", { type: "button", class: "secondary small-button", onclick: () => row.remove(), "data-i18n": "kitchen.remove" }, t("kitchen.remove")),
  );
  return row;
}

export function buildForm(spec) {
  const form = el("form", { id: `form-${spec.type}`, "data-record-type": spec.type, novalidate: true });
  for (const field of spec.fields) {
    if (field.kind === "rows") {
      const rows = el("div", { class: "rows", "data-rows": field.name }, rowOf(field));
      form.append(
        el(
          "fieldset",
          { "data-field": field.name },
          el("legend", { "data-i18n": `field.${field.name}` }, t(`field.${field.name}`)),
          field.note ? el("p", { class: "muted small", "data-i18n": field.note }, t(field.note)) : "",
          rows,
          el("button", { type: "button", class: "secondary", onclick: () => rows.append(rowOf(field)), "data-i18n": "kitchen.add" }, t("kitchen.add")),
          el("span", { class: "field-error errors small", role: "alert" }),
        ),
      );
    } else {
      form.append(labelled(field.name, control(field), field.required));
    }
  }
  form.append(
    el("button", { type: "submit", "data-i18n": "submit" }, t("submit")),
    " ",
    el("span", { class: "result", role: "status" }),
    el("div", { class: "raised" }),
  );
  return form;
}

function valueOf(field, input) {
  if (!input) return undefined;
  if (field.kind === "bool") return input.checked;
  const text = input.value.trim();
  if (text === "") return undefined;
  if (field.kind === "number") return Number(text);
  if (field.kind === "integer") return Number.parseInt(text, 10);
  if (field.kind === "list") return text.split(/[;；\n]/).map((s) => s.trim()).filter(Boolean);
  // datetime-local has no zone: the server reads it as the premises' local time.
  return text;
}

// The record as the API takes it; `upload(file)` stores a photo and gives its SHA-256.
export async function recordOf(form, upload) {
  const spec = FORMS.find((f) => f.type === form.dataset.recordType);
  const record = {};
  for (const field of spec.fields) {
    if (field.kind === "rows") {
      record[field.name] = [...form.querySelectorAll(`[data-rows=${field.name}] .item-row`)]
        .map((row) => {
          const item = {};
          for (const column of field.columns) {
            const value = valueOf(column, row.querySelector(`[name=${column.name}]`));
            if (value !== undefined) item[column.name] = value;
          }
          return item;
        })
        .filter((item) => Object.keys(item).some((k) => typeof item[k] === "string"));
      continue;
    }
    const input = form.querySelector(`[name=${field.name}]`);
    if (field.kind === "file") {
      if (input.files.length) record[field.name] = await upload(input.files[0]);
      continue;
    }
    const value = valueOf(field, input);
    if (value !== undefined) record[field.name] = value;
  }
  if (spec.type === "self_inspection") record.no_risk_found = record.items.every((i) => i.ok);
  return { type: spec.type, record };
}

// Show the API's field errors next to their fields ("staff.1.name": the second row's name).
export function showFieldErrors(form, fields) {
  for (const box of form.querySelectorAll(".field-error")) box.textContent = "";
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  const unplaced = [];
  for (const problem of fields) {
    const { field } = problem;
    const reason = problemText(problem);
    const [top, index, sub] = field.split(".");
    let holder = form.querySelector(`:scope > [data-field=${CSS.escape(top)}]`);
    if (holder && index !== undefined && sub !== undefined) {
      const row = holder.querySelectorAll(".item-row")[Number(index)];
      holder = row ? row.querySelector(`[data-field=${CSS.escape(sub)}]`) : holder;
    }
    const name = sub || top;
    const text = t("kitchen.field.error", { field: t(`field.${name}`), reason });
    if (!holder) {
      unplaced.push(text);
      continue;
    }
    holder.setAttribute("aria-invalid", "true");
    const box = holder.querySelector(":scope > .field-error");
    box.textContent = box.textContent ? `${box.textContent}; ${reason}` : text;
  }
  return unplaced;
}
