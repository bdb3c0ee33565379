// Plain words for what the log names by key: alert rules, record types and their fields,
// premises kinds, grade reasons; and times in the premises' own zone. A key this file does
// not know is never shown raw: the caller gets null and shows nothing, or a generic label.

import { lang, t } from "./i18n.js";

const RULES = {
  cold_holding: ["冷藏温度超标", "fridge too warm"],
  frozen: ["冷冻温度超标", "freezer too warm"],
  sample_retention: ["留样冰箱温度超标", "sample fridge too warm"],
  hot_holding: ["热藏温度不足", "hot holding too cool"],
  danger_zone: ["食物在危险温度带停留过久", "food too long in the danger zone"],
  cooling: ["冷却过慢", "cooling too slow"],
  core_temperature: ["中心温度未达标", "core temperature not reached"],
  dishwasher_rinse: ["洗碗机冲洗温度不足", "dishwasher rinse too cool"],
  chemical_sanitising: ["消毒液浓度不足", "sanitiser too weak"],
  disinfection: ["消毒柜温度或时间不足", "disinfection cabinet too cool or short"],
  disinfection_below_minimum: ["消毒记录低于最低要求", "disinfection below the minimum"],
  probe_silent: ["温度探头无读数", "probe silent"],
  camera_offline: ["摄像头离线", "camera offline"],
  camera_covered: ["摄像头被遮挡", "camera covered"],
  camera_moved: ["摄像头被移动", "camera moved"],
  camera_defocused: ["摄像头画面模糊", "camera out of focus"],
  no_hat: ["未戴帽子", "no hat"],
  no_mask: ["未戴口罩", "no mask"],
  work_clothes_mismatch: ["未穿工作服", "no work clothes"],
  pest_suspected: ["疑似虫鼠害", "suspected pest"],
  bin_open: ["垃圾桶未加盖", "bin left open"],
  unattended_flame: ["明火无人看管", "flame left unattended"],
  smoking: ["后厨吸烟", "smoking in the kitchen"],
  sample_underweight: ["留样不足125克", "food sample under 125 g"],
  sample_kept_too_short: ["留样保存不足48小时", "food sample kept under 48 h"],
  sample_retention_missing: ["缺少留样记录", "food sample missing"],
  morning_check_missing: ["缺少晨检记录", "morning health check missing"],
  handlers_without_certificate: ["员工无有效健康证", "staff without a valid health certificate"],
  health_certificate_invalid: ["健康证无效", "health certificate invalid"],
  supplier_certificate_expired: ["供应商证照过期", "supplier certificate expired"],
  lot_past_shelf_life: ["食材超过保质期", "ingredient past its shelf life"],
  inspection_key_item: ["监管检查关键项不合格", "key item failed at inspection"],
};

const RECORD_TYPES = {
  morning_check: ["晨检", "morning health check"],
  purchase_inspection: ["进货查验", "goods received check"],
  sample_retention: ["留样", "food sample kept"],
  disinfection: ["消毒", "disinfection"],
  additive_use: ["添加剂使用", "additive use"],
  waste_oil: ["废弃油脂", "waste oil collected"],
  self_inspection: ["自查", "self-inspection"],
};

// [zh, en, unit or null]; booleans read yes/no.
const FACTS = {
  staff_checked: ["检查人数", "staff checked", null],
  on_shift: ["上岗人数", "on shift", null],
  excluded: ["未上岗", "sent home", null],
  without_valid_certificate: ["无有效健康证", "without a valid certificate", null],
  quantity: ["数量", "quantity", null],
  shelf_life_days: ["保质期", "shelf life", "days"],
  weight_g: ["留样重量", "sample weight", "g"],
  temperature_c: ["温度", "temperature", "°C"],
  concentration_mg_l: ["浓度", "concentration", "mg/L"],
  duration_min: ["时长", "duration", "min"],
  amount_g: ["用量", "amount", "g"],
  max_g: ["限量", "maximum", "g"],
  weighed: ["已称量", "weighed", null],
  no_risk_found: ["未发现风险", "no risk found", null],
  attachments: ["附件", "attachments", null],
};

const UNITS_ZH = { days: "天", g: "克", min: "分钟" };

const KINDS = {
  restaurant: ["餐厅", "restaurant"],
  bakery: ["面包店", "bakery"],
  street_stall: ["小吃摊", "street stall"],
  central_kitchen: ["中央厨房", "central kitchen"],
  school_canteen: ["学校食堂", "school canteen"],
  university_canteen: ["高校食堂", "university canteen"],
  canteen: ["食堂", "canteen"],
  food_producer: ["食品生产", "food producer"],
};

const pick = (pair) => (pair ? pair[lang() === "en" ? 1 : 0] : null);

export const ruleLabel = (rule) => pick(RULES[rule]) ?? (lang() === "en" ? "other alert" : "其他预警");
export const knownRule = (rule) => rule in RULES;
export const recordTypeLabel = (type) => pick(RECORD_TYPES[type]) ?? (lang() === "en" ? "record" : "记录");
export const kindLabel = (kind) => pick(KINDS[kind]) ?? "";

// "温度 100 °C" / "temperature 100 °C"; null for a key without a plain label.
export function factText(key, value) {
  const entry = FACTS[key];
  if (!entry) return null;
  const label = pick(entry);
  let shown = value;
  if (typeof value === "boolean") shown = value ? (lang() === "en" ? "yes" : "是") : lang() === "en" ? "no" : "否";
  const unit = entry[2] ? " " + (lang() === "en" ? entry[2] : UNITS_ZH[entry[2]] ?? entry[2]) : "";
  return `${label} ${shown}${unit}`;
}

// The grade's reason as logged (English, from traceability/inspections/grades.py), in the
// reader's language when its form is known; otherwise as logged.
export function gradeReason(reason) {
  if (!reason) return "";
  const parts = String(reason).split("; ");
  const out = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    let m;
    if (/^no grade has been decided yet$/.test(part)) out.push(t("grade.reason.none"));
    else if ((m = /^new licence issued on (\S+): no grade until (\S+)/.exec(part))) out.push(t("grade.reason.new_licence3", { issued: m[1], until: m[2] }));
    else if ((m = /^incident \(class \d alert\) on (\S+): no grade until (\S+)/.exec(part))) out.push(t("grade.reason.incident", { on: m[1], until: m[2] }));
    else if ((m = /^no inspection in (\d+)/.exec(part))) out.push(t("grade.reason.no_inspection", { year: m[1] }));
    else if ((m = /^(\d+) inspection\(s\) in (\d+): (\d+) excellent, (\d+) good, (\d+) fair$/.exec(part)))
      out.push(t("grade.reason.counts", { total: m[1], year: m[2], excellent: m[3], good: m[4], fair: m[5] }));
    else if (lang() === "en") out.push(part);
    // The grade rule's own sentence ("every result good or better, ...") is left out in
    // Chinese: the counts above say the same.
  }
  return out.join(lang() === "en" ? "; " : "；");
}

// One formatter per zone: making an Intl.DateTimeFormat costs far more than using one (a
// page formats dozens of instants; at a phone's speed the new ones took a tenth of a second).
const momentFormats = new Map();

function momentFormat(timeZone) {
  if (!momentFormats.has(timeZone)) {
    momentFormats.set(
      timeZone,
      new Intl.DateTimeFormat("en-GB", {
        timeZone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
        timeZoneName: "shortOffset",
      }),
    );
  }
  return momentFormats.get(timeZone);
}

// The wall clock of a zone at `when`: {year, month, day, hour, minute, timeZoneName}, each a
// string as written ("05", "GMT+8"). Throws a RangeError for a zone the browser does not know.
export function zoneParts(when, timeZone) {
  return Object.fromEntries(
    momentFormat(timeZone)
      .formatToParts(when)
      .map((p) => [p.type, p.value]),
  );
}

// An instant in the premises' zone: "2026-12-05 13:47 GMT+8". Falls back to UTC, named.
export function localMoment(iso, timeZone) {
  if (!iso) return "";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return String(iso);
  try {
    const parts = zoneParts(when, timeZone);
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
  } catch {
    return when.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }
}

// The formatter of an alert's times: the alert answers (GET /v1/alerts, /v1/alerts/{id})
// name the premises' zone, so the console and the kitchen show "2026-12-05 13:47 GMT+8"
// without looking the premises up; UTC, named, for premises the registry does not know.
export function alertMoment(alert) {
  const timeZone = (alert && alert.premises_timezone) || "UTC";
  return (iso) => localMoment(iso, timeZone);
}

// "Asia/Shanghai, GMT+8"
export function zoneName(timeZone, at = new Date()) {
  try {
    const offset = new Intl.DateTimeFormat("en-GB", { timeZone, timeZoneName: "shortOffset" })
      .formatToParts(at)
      .find((p) => p.type === "timeZoneName").value;
    return `${timeZone}, ${offset}`;
  } catch {
    return "UTC";
  }
}

// How long from `from` to `to` (instants), in whole minutes, hours or days.
export function age(fromIso, toIso) {
  const ms = new Date(toIso).getTime() - new Date(fromIso).getTime();
  const minutes = Math.max(0, Math.round(ms / 60000));
  if (minutes < 120) return t("age.minutes", { n: minutes });
  const hours = Math.round(minutes / 60);
  if (hours < 48) return t("age.hours", { n: hours });
  return t("age.days", { n: Math.round(hours / 24) });
}

// A load error in the reader's language (the API's detail is English).
export function loadError(err) {
  const status = err && err.status;
  if (status === 404) return t("error.load.404");
  if (status) return t("error.load.server", { status });
  return t("error.load.net");
}
