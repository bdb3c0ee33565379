// The consumer's page (/r/{premises_id}): the sunshine record, every item checked in this
// browser against the log's key and the pinned chain, and rendered from the verified
// events' payloads (facts.js), never from the server's projection of them. Where the
// server's record says otherwise, the item fails and the banner names it. What no event
// states (the registry's name and address, the live tiles) is labelled "not proven".

import { api, day, el, moment } from "./api.js";
import { gradeFace, temperatureChart } from "./charts.js";
import { installSwitch, t } from "./i18n.js";
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
import { ProofBoard, openVerifier, trustFooter, unproven } from "./proofcheck.js";
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

function header(record, board) {
  const p = record.premises;
  const status = p.licence.status;
  const face = el("div", { class: "face" });
  const letter = el("div", { class: "letter" }, "…");
  const gradeText = el("span", { "data-role": "grade-text" }, "…");
  const slot = el("span", { class: "slot", id: "grade-proof" });
  const hero = el(
    "section",
    { class: "card hero" },
    el(
      "div",
      { class: "hero-row" },
      el("div", { class: "grade" }, face, letter),
      el(
        "div",
        {},
        el("h1", { id: "premises-name" }, p.name),
        el("div", { class: "muted" }, p.address),
        el(
          "div",
          {},
          `${t("licence")} ${p.licence.number}: `,
          el("span", { class: `licence ${status}` }, t(`licence.${status}`)),
          p.licence.expires_on ? ` · ${t("licence.expires")} ${p.licence.expires_on}` : "",
        ),
        el("div", { class: "small" }, unproven()),
        el("div", { "data-item": "grade" }, `${t("grade")}: `, gradeText, slot),
      ),
    ),
  );
  const grade = record.grade || {};
  if (!grade.event) {
    // No grade event: nothing to prove; say so rather than tick it.
    letter.textContent = "–";
    face.replaceChildren(gradeFace(null));
    gradeText.replaceChildren(t("grade.none"), " ", unproven("verify.live_unproven"));
    return hero;
  }
  board.item(slot, [grade.event], {
    label: "grade",
    onVerified: ([event]) => {
      const g = deriveGrade(event);
      face.replaceChildren(gradeFace(g.grade));
      letter.textContent = g.grade || "–";
      gradeText.textContent = g.grade
        ? `${g.grade} (${g.year}) · ${t("grade.decided")} ${day(g.decided_at)}`
        : `${t("grade.none")} (${g.year}): ${g.reason}`;
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
          "div",
          {},
          el("strong", { "data-role": "inspection-result" }, d.result ? t(`result.${d.result}`) : "–"),
          ` · ${d.inspected_on} · ${d.inspector_org}`,
          d.score !== null ? ` · ${t("inspection.score")} ${d.score}` : "",
        ),
        el(
          "div",
          { class: "muted small" },
          `${t("inspection.items")}: ${d.items.length}`,
          failed.length ? ` · ${t("inspection.failed")}: ${failed.map((i) => i.item).join(", ")}` : "",
        ),
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

function temperatures(record, board) {
  const probes = record.temperatures.probes;
  if (!probes.length) return null;
  return section(
    "temps",
    el("p", { class: "muted small" }, t("temps.note")),
    probes.map((probe) => {
      const chart = el("div", { class: "chart-box" });
      const slot = el("span", { class: "slot" });
      const refs = probe.days.map((d) => d.event).filter(Boolean);
      const dates = probe.days.map((d) => d.date);
      const caption = el("span", { "data-role": "range" }, "");
      const draw = (days, range) => {
        chart.replaceChildren(temperatureChart({ ...probe, days, range_celsius: range }, { title: t("temps") }));
        caption.textContent = range ? `${range.min ?? "–"}…${range.max ?? "–"} °C` : "–";
      };
      if (!refs.length) draw(deriveProbeDays(dates, []), null);
      board.item(slot, refs, {
        label: `temperatures of ${probe.device_id}`,
        onVerified: (events) => {
          const latest = events.length ? events[events.length - 1].payload.range_celsius ?? null : null;
          draw(deriveProbeDays(dates, events), latest);
          return compareProbeDays(probe, events);
        },
      });
      return el(
        "figure",
        { class: "probe", "data-device-id": probe.device_id },
        el("figcaption", {}, `${probe.location || probe.device_id} · ${t("temps.range")} `, caption, " ", unproven()),
        chart,
        slot,
      );
    }),
  );
}

function alerts(record, board) {
  const items = record.alerts.items;
  if (!items.length) return section("alerts", el("p", { class: "muted" }, t("alerts.none")));
  const premisesId = record.premises.premises_id;
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
          onVerified: ([breach, ...transitions]) => {
            const f = foldAlert(breach, transitions);
            li.className = `alert class-${f.class} status-${f.status}`;
            li.dataset.status = f.status;
            li.dataset.escalation = f.escalation;
            li.replaceChildren(
              el(
                "div",
                { class: "row" },
                el("span", { class: `pill class-${f.class}` }, `${t("class")} ${f.class}`),
                el("span", { class: `pill status ${f.status}`, "data-role": "alert-status" }, t(`status.${f.status}`)),
                f.escalation !== "none"
                  ? el("span", { class: `pill card ${f.escalation}`, "data-role": "alert-card" }, t(`alerts.card.${f.escalation}`))
                  : "",
              ),
              el("div", { "data-role": "alert-text" }, f.description),
              el(
                "div",
                { class: "muted small" },
                `${t("alerts.opened")} ${moment(f.opened_at)}`,
                f.due_at && !f.closed_at ? ` · ${t("alerts.due")} ${moment(f.due_at)}` : "",
                f.closed_at ? ` · ${t("alerts.closed")} ${moment(f.closed_at)}` : "",
              ),
              el(
                "ol",
                { class: "steps" },
                f.steps.map((s) =>
                  el(
                    "li",
                    { "data-to-status": s.to_status },
                    `${moment(s.at)} · ${t(`status.${s.to_status}`)} · ${s.by_org}`,
                    s.evidence_count ? ` · ${t("alerts.evidence")} ×${s.evidence_count}` : "",
                  ),
                ),
              ),
              f.evidence.length ? el("div", { class: "evidence" }, evidenceThumbs(f.evidence)) : "",
            );
            return compareAlert(a, breach, transitions, premisesId);
          },
        });
        return shell;
      }),
    ),
  );
}

// Counts and facts only: numbers and yes/no answers, never free text.
function facts(summary) {
  return Object.entries(summary)
    .map(([k, v]) => `${k.replaceAll("_", " ")}: ${v}`)
    .join(" · ");
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
          label: `${r.record_type.replaceAll("_", " ")} ${r.record_date}`,
          onVerified: ([event]) => {
            const d = deriveRecord(event);
            body.replaceChildren(
              el("strong", {}, d.record_type.replaceAll("_", " ")),
              ` · ${d.record_date}`,
              el("div", { class: "muted small" }, facts(d.facts)),
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
    [record, trust] = await Promise.all([
      api(`/v1/public/restaurants/${encodeURIComponent(premisesId)}`, { auth: false }),
      openVerifier(),
    ]);
  } catch (err) {
    page.replaceChildren(el("p", { class: "banner bad" }, `${t("error.load")}: ${err.message}`));
    return;
  }
  document.title = `${record.premises.name} · ${t("consumer.title")}`;
  const board = new ProofBoard(trust, banner);
  page.replaceChildren(
    banner,
    header(record, board),
    inspection(record, board),
    rightNow(record),
    renderSnapshots(record.snapshots, board),
    temperatures(record, board) || "",
    alerts(record, board),
    selfChecks(record, board),
    ingredients(record, board),
    el(
      "footer",
      { class: "card muted small" },
      el("h2", {}, t("verify.title")),
      el("p", {}, t("verify.how")),
      trustFooter(trust),
    ),
  );
  board.render();
}

installSwitch(document.getElementById("lang"), render);
render();
