// The consumer's page (/r/{premises_id}): the sunshine record, every item checked in this
// browser against the log's key and the pinned chain, and rendered from the verified
// events' payloads (facts.js), never from the server's projection of them. Where the
// server's record says otherwise, the item fails and the banner names it. What no event
// states (the registry's name and address, the live tiles) is labelled "not proven".
//
// Severity first: the open problems lead the page; the banner under them says whether the
// record is authentic, which is not a verdict on the kitchen. Times are the premises' own.

import { api, carried, el } from "./api.js";
import { gradeFace, temperatureChart } from "./charts.js";
import { installSwitch, t } from "./i18n.js";
import { alertDescription } from "./messages.js";
import {
  compareAlert,
  compareGrade,
  compareInspection,
  compareLot,
  compareProbeDays,
  compareRecord,
  deriveGrade,
  deriveInspection,
  deriveLot,
  deriveProbeDays,
  deriveRecord,
  foldAlert,
} from "./facts.js";
import { age, factText, gradeReason, kindLabel, loadError, localMoment, recordTypeLabel, ruleLabel, zoneName } from "./plain.js";
import { MISMATCH, ProofBoard, openVerifier, unproven } from "./proofcheck.js";
import { contactText, howPanel, reportCard } from "./public_panels.js";
import { renderSnapshots } from "./snapshots.js";

const premisesId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");

// Evidence images are only ever requested from the public (blurred) evidence endpoint; an
// image it does not have is removed rather than shown broken.
export function evidenceThumbs(hashes) {
  const box = el("div", { class: "thumbs" });
  for (const sha of new Set(hashes)) {
    if (!/^[0-9a-f]{64}$/.test(sha)) continue;
    const img = el("img", {
      src: `/v1/public/evidence/${sha}`,
      alt: t("alerts.evidence"),
      loading: "lazy",
      "data-sha256": sha,
    });
    img.addEventListener("error", () => img.remove());
    box.append(img);
  }
  return box;
}

function section(key, ...children) {
  return el("section", { class: "card", "data-section": key }, el("h2", {}, t(key)), ...children);
}

// A value rendered once the events behind it verified; "…" until then.
function pendingValue(role) {
  return el("span", { "data-role": role, class: "proven-value" }, "…");
}

// ------------------------------------------------------------------ open problems, first

// What a problem line says of its proof: a tick only for an item verified in full.
function proofText(a) {
  if (a.verified === true) return t("problems.verified");
  if (a.verified === "waiting") return t("badge.waiting");
  if (a.verified === false) return "✗ " + (a.check === MISMATCH ? t("check.record_matches_log") : t("problems.unverified"));
  return t("problems.checking") + "…";
}

// The open alerts as the record claims them, each line re-rendered from its verified events
// once they verify (alerts() calls `update`), marked "not verified" if they do not.
class Problems {
  constructor(record) {
    this.asOf = record.live.as_of;
    this.tz = record.premises.timezone;
    this.lines = new Map();
    this.state = new Map();
    this.node = el("section", { class: "card problems", id: "problems", "data-section": "problems" });
    for (const a of record.alerts.items) {
      if (a.status === "closed") continue;
      this.state.set(a.alert_id, { ...a, verified: null });
    }
    this.draw();
  }

  update(alertId, fold) {
    if (!this.state.has(alertId)) {
      if (fold.status === "closed") return;
      this.state.set(alertId, { alert_id: alertId });
    }
    Object.assign(this.state.get(alertId), {
      class: fold.class,
      rule: fold.rule,
      status: fold.status,
      escalation: fold.escalation,
      opened_at: fold.opened_at,
      due_at: fold.due_at,
    });
    this.draw();
  }

  // The alert item's final verdict: the line is ticked only when every event behind it
  // verified in full (anchor included) and the server's record agrees with them.
  settle(alertId, verdict) {
    const s = this.state.get(alertId);
    if (!s) return;
    const check = verdict.failed ? verdict.failed.name : null;
    s.verified = verdict.ok ? true : check === "anchor_present" ? "waiting" : false;
    s.check = check;
    this.draw();
  }

  draw() {
    const open = [...this.state.values()].filter((a) => a.status !== "closed");
    open.sort((a, b) => a.class - b.class || (a.opened_at < b.opened_at ? -1 : 1));
    const overdue = (a) => a.due_at && a.due_at < this.asOf;
    const serious = open.filter((a) => a.class === 1).length;
    const late = open.filter(overdue).length;
    this.node.className = "card problems " + (serious || late ? "severe" : open.length ? "some" : "none");
    this.node.dataset.open = String(open.length);
    this.node.dataset.class1 = String(serious);
    this.node.dataset.overdue = String(late);
    if (!open.length) {
      // An absence of open alerts is the platform's view: no event proves it, so no tick.
      this.node.replaceChildren(
        el("h2", {}, t("problems.none")),
        el("p", { class: "small muted" }, t("problems.none.note"), " ", unproven("problems.none.unproven")),
      );
      return;
    }
    const counts = [t("problems.count", { count: open.length })];
    if (serious) counts.push(t("problems.class1", { count: serious }));
    if (late) counts.push(t("problems.overdue", { count: late }));
    this.node.replaceChildren(
      el("h2", {}, "⚠ " + t("problems")),
      el("p", { class: "problem-counts" }, counts.join(" · ")),
      el(
        "ul",
        { class: "list" },
        open.map((a) =>
          el(
            "li",
            { class: `problem class-${a.class}`, "data-problem-id": a.alert_id, "data-verified": String(a.verified) },
            el(
              "div",
              { class: "row" },
              el("span", { class: `pill class-${a.class}` }, t(`class.${a.class}`)),
              el("strong", {}, ruleLabel(a.rule)),
              a.escalation && a.escalation !== "none"
                ? el("span", { class: `pill card ${a.escalation}`, "data-role": "problem-card" }, t(`alerts.card.${a.escalation}`))
                : "",
              overdue(a) ? el("span", { class: "pill overdue", "data-role": "problem-overdue" }, t("alert.overdue")) : "",
            ),
            el(
              "div",
              { class: "small" },
              `${t("status." + a.status)} · ${t("alerts.opened")} ${localMoment(a.opened_at, this.tz)} (${age(a.opened_at, this.asOf)})`,
              a.due_at
                ? overdue(a)
                  ? ` · ${t("problems.overdue.by", { age: age(a.due_at, this.asOf) })}`
                  : ` · ${t("problems.due", { due: localMoment(a.due_at, this.tz) })}`
                : "",
            ),
            el(
              "div",
              { class: "small " + (a.verified === true ? "ok-text" : "muted"), "data-role": "problem-proof" },
              proofText(a),
            ),
          ),
        ),
      ),
      el("p", { class: "small muted" }, t("problems.note")),
    );
  }

  get anyOpen() {
    return [...this.state.values()].some((a) => a.status !== "closed");
  }

  get anySerious() {
    return [...this.state.values()].some((a) => a.status !== "closed" && a.class === 1);
  }
}

// ------------------------------------------------------------------ the premises and its grade

function header(record, board, problems) {
  const p = record.premises;
  const tz = p.timezone;
  const status = p.licence.status;
  const face = el("div", { class: "face" });
  const letter = el("div", { class: "letter" }, "…");
  const gradeText = el("span", { "data-role": "grade-text" }, "…");
  const gradeNote = el("div", { class: "small warn", "data-role": "grade-note" });
  const slot = el("span", { class: "slot", id: "grade-proof" });
  const hero = el(
    "section",
    { class: "card hero" },
    el(
      "div",
      { class: "hero-row" },
      // An open class 1 problem: the grade's face is greyed, so it never reads as "all fine".
      el("div", { class: "grade" + (problems.anySerious ? " overshadowed" : "") }, face, letter),
      el(
        "div",
        {},
        el("h1", { id: "premises-name" }, p.name),
        el("div", { class: "muted" }, [kindLabel(p.kind), p.address].filter(Boolean).join(" · ")),
        el(
          "div",
          {},
          `${t("licence")} ${p.licence.number}: `,
          el("span", { class: `licence ${status}` }, t(`licence.${status}`)),
          p.licence.expires_on ? ` · ${t("licence.expires")} ${p.licence.expires_on}` : "",
        ),
        el("div", { class: "small" }, unproven()),
      ),
    ),
    el("div", { "data-item": "grade" }, el("strong", {}, `${t("grade.annual")}: `), gradeText, gradeNote, slot),
    el("div", { class: "small muted", "data-role": "zone" }, t("time.zone", { zone: zoneName(tz) })),
  );
  const noteIfProblems = (decidedAt) => {
    if (problems.anyOpen) gradeNote.textContent = t("grade.note.problems", { date: localMoment(decidedAt, tz).slice(0, 10) });
  };
  const grade = record.grade || {};
  if (!grade.event) {
    // No grade event: nothing to prove; say so rather than tick it.
    letter.textContent = "–";
    face.replaceChildren(gradeFace(null));
    gradeText.replaceChildren(gradeReason(grade.reason) || t("grade.none"), " ", unproven("verify.live_unproven"));
    return hero;
  }
  board.item(slot, [grade.event], {
    label: "grade",
    onVerified: ([event]) => {
      const g = deriveGrade(event);
      face.replaceChildren(gradeFace(g.grade));
      letter.textContent = g.grade || "–";
      gradeText.textContent = g.grade
        ? `${g.grade} (${g.year}) · ${t("grade.decided")} ${localMoment(g.decided_at, tz).slice(0, 10)}`
        : `${t("grade.none")} (${g.year}): ${gradeReason(g.reason)}`;
      gradeText.dataset.reason = g.grade ? "" : "no-grade";
      if (g.grade) noteIfProblems(g.decided_at);
      return compareGrade(grade, event, record.premises.premises_id);
    },
  });
  return hero;
}

function inspection(record, board) {
  const claimed = record.latest_inspection;
  if (!claimed || !claimed.event) return section("inspection", el("p", { class: "muted" }, t("inspection.none")));
  const body = el("div", { "data-item": "inspection" }, pendingValue("inspection"));
  const slot = el("span", { class: "slot" });
  board.item(slot, [claimed.event], {
    label: "latest inspection",
    onVerified: ([event]) => {
      const d = deriveInspection(event);
      const failed = d.items.filter((i) => !i.passed);
      body.replaceChildren(
        el(
          "dl",
          { class: "facts" },
          el("dt", {}, t("inspection.date")),
          el("dd", { "data-role": "inspection-date" }, d.inspected_on),
          el("dt", {}, t("inspection.result")),
          el("dd", {}, el("strong", { "data-role": "inspection-result" }, d.result ? t(`result.${d.result}`) : "–")),
          d.score !== null ? el("dt", {}, t("inspection.score")) : "",
          d.score !== null ? el("dd", { "data-role": "inspection-score" }, String(d.score)) : "",
          el("dt", {}, t("inspection.by")),
          el("dd", {}, d.inspector_org),
        ),
        el("div", { class: "small muted" }, t("inspection.itemcount", { count: d.items.length, failed: failed.length })),
        el("h3", {}, t("inspection.cited")),
        failed.length
          ? el(
              "ul",
              { class: "cited", "data-role": "inspection-cited" },
              failed.map((i) =>
                el(
                  "li",
                  { "data-key": String(i.key) },
                  i.key ? el("span", { class: "pill class-1" }, t("inspection.key")) : "",
                  " ",
                  i.item,
                  i.finding ? el("div", { class: "small muted" }, i.finding) : "",
                ),
              ),
            )
          : el("p", { class: "small", "data-role": "inspection-cited" }, "✓ " + t("inspection.cited.none")),
        d.findings ? el("p", { class: "small" }, String(d.findings)) : "",
      );
      return compareInspection(claimed, event, record.premises.premises_id);
    },
  });
  return section("inspection", body, slot);
}

function rightNow(record) {
  const probes = record.live.probes;
  const cameras = record.live.cameras;
  const tile = (value, label) => el("div", { class: "tile" }, el("div", { class: "big" }, value), el("div", {}, label));
  return section(
    "now",
    el(
      "div",
      { class: "tiles" },
      tile(probes.registered ? `${probes.in_range}/${probes.registered}` : t("now.none"), t("now.probes")),
      tile(cameras.registered ? `${cameras.online}/${cameras.registered}` : t("now.none"), t("now.cameras")),
    ),
    el("p", { class: "small" }, unproven("verify.live_unproven")),
  );
}

// What the rules let this probe do out of range before an alert (the profile's allowances).
function allowanceText(probe) {
  return (probe.allowances || []).map((a) => {
    const values = { minutes: a.tolerance_minutes, window: a.window_minutes, class: t(`class.${a.class}`) };
    if (a.between_celsius) return t("chart.allow.zone", { ...values, low: a.between_celsius[0], high: a.between_celsius[1] });
    return t(a.window_minutes ? "chart.allow" : "chart.allow.nowindow", values);
  });
}

function temperatures(record, board) {
  const probes = record.temperatures.probes;
  if (!probes.length) return null;
  const labels = {
    title: t("temps"),
    unit: t("chart.axis"),
    limitMax: (value) => t("chart.limit.max", { value }),
    limitMin: (value) => t("chart.limit.min", { value }),
  };
  return section(
    "temps",
    el("p", { class: "muted small" }, t("chart.legend")),
    probes.map((probe) => {
      const chart = el("div", { class: "chart-box" });
      const slot = el("span", { class: "slot" });
      const refs = probe.days.map((d) => d.event).filter(Boolean);
      const dates = probe.days.map((d) => d.date);
      const outDays = el("ul", { class: "small out-days", "data-role": "out-days" });
      const draw = (days, range) => {
        chart.replaceChildren(temperatureChart({ ...probe, days, range_celsius: range }, labels));
        outDays.replaceChildren(
          ...days.filter((d) => d.minutes_out_of_range).map((d) => el("li", {}, t("chart.out", { date: d.date, minutes: Math.round(d.minutes_out_of_range) }))),
        );
      };
      if (!refs.length) draw(deriveProbeDays(dates, []), probe.range_celsius);
      board.item(slot, refs, {
        label: `temperatures of ${probe.device_id}`,
        onVerified: (events) => {
          const latest = events.length ? events[events.length - 1].payload.range_celsius ?? null : null;
          draw(deriveProbeDays(dates, events), latest);
          return compareProbeDays(probe, events);
        },
      });
      const allow = allowanceText(probe);
      return el(
        "figure",
        { class: "probe", "data-device-id": probe.device_id },
        el("figcaption", {}, el("strong", {}, probe.location || probe.device_id), " ", unproven()),
        chart,
        outDays,
        allow.length ? el("p", { class: "small allowance", "data-role": "allowance" }, allow.join(" "), " ", unproven("chart.allow.unproven")) : "",
        slot,
      );
    }),
  );
}

function alerts(record, board, problems) {
  const items = record.alerts.items;
  if (!items.length) return section("alerts", el("p", { class: "muted" }, t("alerts.none")));
  const premisesId = record.premises.premises_id;
  const tz = record.premises.timezone;
  const asOf = record.live.as_of;
  return section(
    "alerts",
    el(
      "ul",
      { class: "list" },
      items.map((a) => {
        const li = el("li", { class: "alert", "data-alert-id": a.alert_id }, pendingValue("alert"));
        const slot = el("span", { class: "slot" });
        const breachId = a.event && a.event.event_id;
        const steps = a.rectification.map((s) => s.event).filter((e) => e && e.event_id !== breachId);
        const shell = el("div", {}, li, slot);
        board.item(slot, [a.event, ...steps], {
          label: `alert ${a.alert_id}`,
          onDone: (verdict) => problems.settle(a.alert_id, verdict),
          onVerified: ([breach, ...transitions]) => {
            const f = foldAlert(breach, transitions);
            const overdue = f.status !== "closed" && f.due_at && f.due_at < asOf;
            li.className = `alert class-${f.class} status-${f.status}`;
            li.dataset.status = f.status;
            li.dataset.escalation = f.escalation;
            const privatePhotos = f.steps.reduce((n, s) => n + (s.event_id !== breach.id ? s.evidence_count : 0), 0);
            li.replaceChildren(
              el(
                "div",
                { class: "row" },
                el("span", { class: `pill class-${f.class}` }, t(`class.${f.class}`)),
                el("span", { class: `pill status ${f.status}`, "data-role": "alert-status" }, t(`status.${f.status}`)),
                f.escalation !== "none"
                  ? el("span", { class: `pill card ${f.escalation}`, "data-role": "alert-card" }, t(`alerts.card.${f.escalation}`))
                  : "",
                overdue ? el("span", { class: "pill overdue" }, t("alert.overdue")) : "",
              ),
              el("div", { "data-role": "alert-text" }, el("strong", {}, ruleLabel(f.rule))),
              // Worded in the reader's language from the verified breach's own numbers; the
              // rule's English sentence, as logged, folded below it (alone, labelled, when
              // the rule has no sentence here).
              alertDescription(
                { rule: f.rule, measurements: breach.payload.measurements, started_at: breach.payload.started_at },
                (iso) => localMoment(iso, tz),
                f.description,
              ),
              el(
                "div",
                { class: "muted small" },
                `${t("alerts.opened")} ${localMoment(f.opened_at, tz)}`,
                f.due_at && !f.closed_at ? ` · ${t("alerts.due")} ${localMoment(f.due_at, tz)}` : "",
                f.closed_at ? ` · ${t("alerts.closed")} ${localMoment(f.closed_at, tz)}` : "",
              ),
              el(
                "ol",
                { class: "steps" },
                f.steps.map((s) =>
                  el(
                    "li",
                    { "data-to-status": s.to_status },
                    `${localMoment(s.at, tz)} · ${t(`status.${s.to_status}`)} · ${t("alert.step.by", { org: s.by_org })}`,
                  ),
                ),
              ),
              f.breach_evidence.length
                ? el("div", { class: "evidence" }, el("div", { class: "small muted" }, t("alert.vision.evidence")), evidenceThumbs(f.breach_evidence))
                : "",
              privatePhotos ? el("p", { class: "small muted", "data-role": "private-photos" }, t("alert.photos.private", { count: privatePhotos })) : "",
            );
            problems.update(a.alert_id, f);
            return compareAlert(a, breach, transitions, premisesId);
          },
        });
        return shell;
      }),
    ),
  );
}

// Counts and facts only: numbers and yes/no answers in plain words, never free text or keys.
function facts(summary) {
  const out = [];
  for (const [k, v] of Object.entries(summary)) {
    if (k === "attachments") {
      if (v) out.push(t("selfchecks.attachments", { n: v }));
      continue;
    }
    const text = factText(k, v);
    if (text) out.push(text);
  }
  return out.join(" · ");
}

function selfChecks(record, board) {
  if (!record.self_checks.length) return section("selfchecks", el("p", { class: "muted" }, t("selfchecks.none")));
  const premisesId = record.premises.premises_id;
  return section(
    "selfchecks",
    el(
      "ul",
      { class: "list" },
      record.self_checks.map((r) => {
        const slot = el("span", { class: "slot" });
        const body = el("div", {}, pendingValue("record"));
        board.item(slot, [r.event], {
          label: `${r.record_type} ${r.record_date}`,
          onVerified: ([event]) => {
            const d = deriveRecord(event);
            body.replaceChildren(
              el("strong", { "data-role": "record-type" }, recordTypeLabel(d.record_type)),
              ` · ${d.record_date}`,
              el("div", { class: "muted small", "data-role": "record-facts" }, facts(d.facts)),
            );
            return compareRecord(r, event, premisesId);
          },
        });
        return el("li", { "data-event-id": r.event && r.event.event_id, "data-record-type": r.record_type }, body, slot);
      }),
    ),
  );
}

function ingredients(record, board) {
  if (!record.ingredients.length) return section("ingredients", el("p", { class: "muted" }, t("ingredients.none")));
  const premisesId = record.premises.premises_id;
  return section(
    "ingredients",
    el(
      "ul",
      { class: "list" },
      record.ingredients.map((lot) => {
        const slot = el("span", { class: "slot" });
        const body = el("div", {}, pendingValue("lot"));
        board.item(slot, [lot.event], {
          label: `lot ${lot.lot_code}`,
          onVerified: ([event]) => {
            const d = deriveLot(event);
            body.replaceChildren(
              el("strong", {}, d.product),
              ` · ${d.lot_code}`,
              el("div", { class: "muted small" }, `${t("ingredients.supplier")}: ${d.supplier} · ${t("ingredients.received")} ${d.received_on}`),
              lot.lot_page ? el("a", { href: lot.lot_page }, t("ingredients.journey") + " →") : "",
            );
            return compareLot(lot, event, premisesId);
          },
        });
        return el("li", { "data-event-id": lot.event && lot.event.event_id }, body, slot);
      }),
    ),
  );
}

async function render() {
  const page = document.getElementById("page");
  const banner = document.getElementById("verify-summary");
  let record, trust;
  try {
    // The record carried in the page (the bytes the record endpoint gives), else fetched.
    const inPage = carried("record");
    [record, trust] = await Promise.all([
      inPage || api(`/v1/public/restaurants/${encodeURIComponent(premisesId)}`, { auth: false }),
      openVerifier(),
    ]);
  } catch (err) {
    page.replaceChildren(el("p", { class: "banner bad", "data-role": "load-error" }, loadError(err)));
    return;
  }
  document.title = `${record.premises.name} · ${t("consumer.title")}`;
  document.body.classList.remove("show-tech");
  const contacts = record.contacts || {};
  const board = new ProofBoard(trust, banner);
  board.contact = contactText(contacts.verification);
  const problems = new Problems(record);
  page.replaceChildren(
    problems.node,
    banner,
    header(record, board, problems),
    inspection(record, board),
    rightNow(record),
    renderSnapshots(record.snapshots, board),
    temperatures(record, board) || "",
    alerts(record, board, problems),
    selfChecks(record, board),
    ingredients(record, board),
    reportCard(contacts.report),
    howPanel(trust, contacts.verification),
  );
  board.render();
}

installSwitch(document.getElementById("lang"), render);
render();
