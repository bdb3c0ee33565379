// What a page shows, derived only from verified event payloads (docs/public-record.md), and
// where the server's record (its projection tables) says otherwise. Pure functions: the
// page calls them once every event an item stands on has verified.
//
// Each `derive*` returns the fact the page renders; each `compare*` returns a list of
// "field: the record says X, the log says Y" strings, empty when the record is true.

// traceability/alerts/raising.py RECTIFY_WITHIN: hours to rectify, by alert class.
export const RECTIFY_HOURS = { 1: 72, 2: 240, 3: 720 };

// JSON with object keys sorted and undefined as null, so that key order never matters.
function sorted(value) {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return value.map(sorted);
  if (typeof value === "object") {
    const out = {};
    for (const k of Object.keys(value).sort()) out[k] = sorted(value[k]);
    return out;
  }
  return value;
}

function same(a, b) {
  if (typeof a === "number" && typeof b === "number") return Math.abs(a - b) < 1e-9;
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}

function differ(out, field, claimed, logged) {
  if (!same(claimed, logged)) {
    out.push(`${field}: the record says ${JSON.stringify(claimed ?? null)}, the log says ${JSON.stringify(logged ?? null)}`);
  }
}

// An instant as the log writes it ("YYYY-MM-DDTHH:MM:SS.ffffffZ") plus whole hours, keeping
// the microseconds exactly (a JavaScript Date only holds milliseconds).
export function addHours(text, hours) {
  const found = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$/.exec(String(text));
  if (!found) return null;
  const at = new Date(new Date(found[1] + "Z").getTime() + hours * 3600 * 1000);
  return at.toISOString().slice(0, 19) + (found[2] || ".000000") + "Z";
}

function belongs(out, event, kind, subject) {
  if (event.kind !== kind) out.push(`event ${event.id}: a ${event.kind} event, not ${kind}`);
  if (subject && event.subject !== subject) out.push(`event ${event.id}: about ${event.subject}, not ${subject}`);
}

// ------------------------------------------------------------------ grade

export function deriveGrade(event) {
  const p = event.payload;
  return { year: p.year, grade: p.grade ?? null, reason: p.reason, decided_by: p.decided_by, decided_at: event.occurred_at };
}

export function compareGrade(claimed, event, premisesId) {
  const out = [];
  belongs(out, event, "grade", `premises:${premisesId}`);
  const g = deriveGrade(event);
  for (const field of ["grade", "year", "reason", "decided_by", "decided_at"]) differ(out, `grade ${field}`, claimed[field], g[field]);
  return out;
}

// ------------------------------------------------------------------ inspection

export function deriveInspection(event) {
  const p = event.payload;
  return {
    inspected_on: p.inspected_on ?? event.occurred_at.slice(0, 10),
    inspector_org: p.inspector_org,
    score: p.score ?? null,
    result: p.result ?? null,
    items: (p.items || []).map((i) => ({ item: i.item, passed: i.passed, key: !!i.key, finding: i.finding ?? null })),
    findings: p.findings ?? null,
  };
}

export function compareInspection(claimed, event, premisesId) {
  const out = [];
  belongs(out, event, "inspection", `premises:${premisesId}`);
  const d = deriveInspection(event);
  for (const field of ["inspected_on", "inspector_org", "score", "result"]) differ(out, `inspection ${field}`, claimed[field], d[field]);
  const items = ((claimed.summary && claimed.summary.items) || []).map((i) => ({
    item: i.item,
    passed: i.passed,
    key: !!i.key,
    finding: i.finding ?? null,
  }));
  differ(out, "inspection items", items, d.items);
  return out;
}

// ------------------------------------------------------------------ alerts

const orgOf = (actor) => String(actor).split("/", 1)[0];

// An alert is its breach (a `violation` event) folded with its `alert_transition` events in
// time order: the last step's status, the last card given, the last deadline set.
export function foldAlert(breach, transitions) {
  const p = breach.payload;
  const steps = [{ to_status: "open", at: breach.occurred_at, by_org: "system", evidence_count: 0, event_id: breach.id }];
  let status = "open";
  let escalation = "none";
  let due_at = addHours(breach.occurred_at, RECTIFY_HOURS[p.alert_class] ?? 0);
  let closed_at = null;
  const ordered = transitions.slice().sort((a, b) => (a.occurred_at < b.occurred_at ? -1 : a.occurred_at > b.occurred_at ? 1 : 0));
  for (const t of ordered) {
    const q = t.payload;
    status = q.to_status;
    if (q.escalation) escalation = q.escalation;
    if (q.due_at) due_at = q.due_at;
    closed_at = status === "closed" ? t.occurred_at : null;
    steps.push({
      to_status: q.to_status,
      at: t.occurred_at,
      by_org: orgOf(q.actor),
      evidence_count: (q.evidence_sha256 || []).length,
      event_id: t.id,
    });
  }
  return {
    alert_id: p.alert_id,
    class: p.alert_class,
    rule: p.rule,
    description: p.description,
    opened_at: breach.occurred_at,
    status,
    escalation,
    due_at,
    closed_at,
    steps,
    evidence: [...(p.evidence_sha256 || []), ...ordered.flatMap((t) => t.payload.evidence_sha256 || [])],
    // The breach's own evidence (a camera's, published with faces blurred); the steps'
    // (rectification photos) stay private to the regulator.
    breach_evidence: [...(p.evidence_sha256 || [])],
  };
}

export function compareAlert(claimed, breach, transitions, premisesId) {
  const out = [];
  const label = `alert ${claimed.alert_id}`;
  belongs(out, breach, "violation", `premises:${premisesId}`);
  if (breach.payload.phase !== "breach") out.push(`${label}: event ${breach.id} is not a breach`);
  if (breach.payload.alert_id !== claimed.alert_id) out.push(`${label}: its breach event is about alert ${breach.payload.alert_id}`);
  for (const t of transitions) {
    belongs(out, t, "alert_transition", `premises:${premisesId}`);
    if (t.payload.alert_id !== claimed.alert_id) out.push(`${label}: step ${t.id} is about alert ${t.payload.alert_id}`);
  }
  const f = foldAlert(breach, transitions);
  for (const field of ["class", "rule", "description", "status", "escalation", "opened_at", "due_at", "closed_at"]) {
    differ(out, `${label} ${field}`, claimed[field], f[field]);
  }
  const steps = (claimed.rectification || []).map((s) => ({ to_status: s.to_status, at: s.at, by_org: s.by_org, evidence_count: s.evidence_count }));
  differ(out, `${label} steps`, steps, f.steps.map(({ event_id, ...s }) => s)); // eslint-disable-line no-unused-vars
  return out;
}

// ------------------------------------------------------------------ records and lots

// A self-check's public facts: its type and date, its fields' numbers and yes/no answers,
// and how many attachments it has. Staff and other personal fields are never shown.
export function deriveRecord(event) {
  const p = event.payload;
  const fields = p.fields || {};
  const facts = {};
  for (const [k, v] of Object.entries(fields)) if (typeof v === "number" || typeof v === "boolean") facts[k] = v;
  facts.attachments = (p.attachments_sha256 || []).length;
  return { record_type: p.record_type, record_date: fields.date ?? event.occurred_at.slice(0, 10), facts };
}

export function compareRecord(claimed, event, premisesId) {
  const out = [];
  belongs(out, event, "restaurant_record", `premises:${premisesId}`);
  const d = deriveRecord(event);
  differ(out, "record type", claimed.record_type, d.record_type);
  differ(out, "record date", claimed.record_date, d.record_date);
  const summary = claimed.summary || {};
  for (const [k, v] of Object.entries(d.facts)) if (k in summary) differ(out, `record ${k}`, summary[k], v);
  return out;
}

const gtin14 = (g) => (g == null ? null : String(g).padStart(14, "0"));

export function deriveLot(event) {
  const p = event.payload;
  return {
    product: p.product,
    lot_code: p.lot_code,
    gtin: gtin14(p.gtin),
    supplier: p.previous_source,
    received_on: p.received_on,
    quantity: p.quantity,
    unit: p.unit,
  };
}

export function compareLot(claimed, event, premisesId) {
  const out = [];
  belongs(out, event, "ingredient_receipt", premisesId ? `premises:${premisesId}` : null);
  const d = deriveLot(event);
  for (const field of ["product", "lot_code", "supplier", "received_on", "quantity", "unit"]) differ(out, `lot ${field}`, claimed[field], d[field]);
  differ(out, "lot gtin", gtin14(claimed.gtin), d.gtin);
  return out;
}

// ------------------------------------------------------------------ temperatures

const SUMMARY_FIELDS = ["status", "count", "min", "max", "mean", "minutes_out_of_range"];

// A probe's days as its logged `probe_day_summary` events say; a day without one is empty.
export function deriveProbeDays(dates, events) {
  const byDate = new Map(events.map((e) => [e.payload.date, e.payload]));
  return dates.map((date) => {
    const p = byDate.get(date);
    if (!p) return { date, count: 0, min: null, max: null, mean: null, minutes_out_of_range: null, status: null };
    return { date, status: p.status, count: p.count, min: p.min, max: p.max, mean: p.mean, minutes_out_of_range: p.minutes_out_of_range };
  });
}

export function compareProbeDays(probe, events) {
  const out = [];
  for (const e of events) {
    belongs(out, e, "probe_day_summary", `device:${probe.device_id}`);
    if (e.payload.device_id !== probe.device_id) out.push(`summary ${e.id} is about ${e.payload.device_id}`);
  }
  const derived = deriveProbeDays(probe.days.map((d) => d.date), events);
  probe.days.forEach((day, i) => {
    if (!day.event) return;
    for (const field of SUMMARY_FIELDS) differ(out, `${probe.device_id} ${day.date} ${field}`, day[field], derived[i][field]);
  });
  const latest = events.length ? events[events.length - 1].payload.range_celsius ?? null : null;
  if (events.length) differ(out, `${probe.device_id} range`, probe.range_celsius, latest);
  return out;
}

// ------------------------------------------------------------------ purchase record of a lot

// The purchase inspection record a receipt names as its reference document: the lot's
// production date, shelf life and supplier licence (null when the kitchen did not enter one).
export function derivePurchase(event) {
  const f = (event.payload && event.payload.fields) || {};
  const production = f.production_date ?? null;
  const shelf = f.shelf_life_days ?? null;
  let expiry = null;
  if (production && shelf !== null) {
    const at = new Date(production + "T00:00:00Z");
    if (!Number.isNaN(at.getTime())) expiry = new Date(at.getTime() + shelf * 86400000).toISOString().slice(0, 10);
  }
  return {
    record_type: event.payload && event.payload.record_type,
    lot_code: f.lot_code ?? null,
    product: f.product ?? null,
    supplier_licence: f.supplier_licence ?? null,
    production_date: production,
    shelf_life_days: shelf,
    expiry_date: expiry,
  };
}

export function comparePurchase(claimed, event, premisesId) {
  const out = [];
  belongs(out, event, "restaurant_record", premisesId ? `premises:${premisesId}` : null);
  const d = derivePurchase(event);
  if (d.record_type !== "purchase_inspection") out.push(`event ${event.id}: a ${d.record_type} record, not a purchase inspection`);
  for (const field of ["lot_code", "product", "production_date", "shelf_life_days", "supplier_licence"]) {
    differ(out, `purchase ${field}`, claimed[field], d[field]);
  }
  return out;
}

// ------------------------------------------------------------------ kitchen snapshot

// A camera's latest public snapshot: its `vision_observation` event (subject
// `camera:{camera_id}`, observation `kitchen_snapshot`) names the image's hash; taken at =
// the event's `occurred_at`.
export function deriveSnapshot(event) {
  const p = event.payload;
  return { camera_id: p.camera_id, sha256: p.evidence_sha256 ?? null, taken_at: event.occurred_at, observation: p.observation };
}

export function compareSnapshot(camera, event) {
  const out = [];
  belongs(out, event, "vision_observation", `camera:${camera.camera_id}`);
  const d = deriveSnapshot(event);
  if (d.observation !== "kitchen_snapshot") out.push(`event ${event.id}: a ${d.observation} observation, not a kitchen snapshot`);
  differ(out, "snapshot camera", camera.camera_id, d.camera_id);
  differ(out, "snapshot sha256", camera.latest.sha256, d.sha256);
  differ(out, "snapshot taken_at", camera.latest.taken_at, d.taken_at);
  return out;
}
