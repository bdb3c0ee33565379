// The consumer's page (/r/{premises_id}): the sunshine record, every item checked in this
// browser against the log's key and the chain.

import { api, day, el, moment } from "./api.js";
import { gradeFace, temperatureChart } from "./charts.js";
import { installSwitch, t } from "./i18n.js";
import { ProofBoard, openVerifier, trustFooter } from "./proofcheck.js";
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

function evidenceOf(event) {
  const payload = (event && event.payload) || {};
  const found = payload.evidence_sha256;
  if (Array.isArray(found)) return found;
  return typeof found === "string" ? [found] : [];
}

function section(key, ...children) {
  return el("section", { class: "card", "data-section": key }, el("h2", {}, t(key)), ...children);
}

function header(record) {
  const p = record.premises;
  const grade = record.grade || {};
  const status = p.licence.status;
  return el(
    "section",
    { class: "card hero" },
    el(
      "div",
      { class: "hero-row" },
      el("div", { class: "grade" }, gradeFace(grade.grade), el("div", { class: "letter" }, grade.grade || "–")),
      el(
        "div",
        {},
        el("h1", { id: "premises-name" }, p.name),
        el("div", { class: "muted" }, p.address),
        el(
          "div",
          {},
          `${t("grade")}: `,
          grade.grade ? `${grade.grade} (${grade.year}) · ${t("grade.decided")} ${day(grade.decided_at)}` : t("grade.none"),
          el("span", { class: "slot", id: "grade-proof" }),
        ),
        el(
          "div",
          {},
          `${t("licence")} ${p.licence.number}: `,
          el("span", { class: `licence ${status}` }, t(`licence.${status}`)),
          p.licence.expires_on ? ` · ${t("licence.expires")} ${p.licence.expires_on}` : "",
        ),
      ),
    ),
  );
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
  );
}

function temperatures(record) {
  const probes = record.temperatures.probes;
  if (!probes.length) return null;
  return section(
    "temps",
    el("p", { class: "muted small" }, t("temps.note")),
    probes.map((probe) =>
      el(
        "figure",
        { class: "probe" },
        el(
          "figcaption",
          {},
          `${probe.location || probe.device_id} · ${t("temps.range")} `,
          probe.range_celsius ? `${probe.range_celsius.min ?? "–"}…${probe.range_celsius.max ?? "–"} °C` : "–",
        ),
        temperatureChart(probe, { title: t("temps") }),
      ),
    ),
  );
}

function alerts(record, board) {
  const items = record.alerts.items;
  if (!items.length) return section("alerts", el("p", { class: "muted" }, t("alerts.none")));
  return section(
    "alerts",
    el(
      "ul",
      { class: "list" },
      items.map((a) => {
        const thumbs = el("div", { class: "evidence" });
        const addEvidence = (event) => {
          const hashes = evidenceOf(event);
          if (hashes.length) thumbs.append(evidenceThumbs(hashes));
        };
        const proof = el("span", { class: "slot" });
        const steps = el(
          "ol",
          { class: "steps" },
          a.rectification.map((s) => {
            const slot = el("span", { class: "slot" });
            const li = el(
              "li",
              { "data-to-status": s.to_status },
              `${moment(s.at)} · ${t(`status.${s.to_status}`)} · ${s.by_org}`,
              s.evidence_count ? ` · ${t("alerts.evidence")} ×${s.evidence_count}` : "",
              slot,
            );
            board.add(slot, s.event, addEvidence);
            return li;
          }),
        );
        const li = el(
          "li",
          { class: `alert class-${a.class} status-${a.status}`, "data-alert-id": a.alert_id, "data-status": a.status },
          el(
            "div",
            { class: "row" },
            el("span", { class: `pill class-${a.class}` }, `${t("class")} ${a.class}`),
            el("span", { class: `pill status ${a.status}`, "data-role": "alert-status" }, t(`status.${a.status}`)),
          ),
          el("div", {}, a.description),
          el(
            "div",
            { class: "muted small" },
            `${t("alerts.opened")} ${moment(a.opened_at)}`,
            a.due_at && !a.closed_at ? ` · ${t("alerts.due")} ${moment(a.due_at)}` : "",
            a.closed_at ? ` · ${t("alerts.closed")} ${moment(a.closed_at)}` : "",
          ),
          proof,
          steps,
          thumbs,
        );
        board.add(proof, a.event, addEvidence);
        return li;
      }),
    ),
  );
}

// Counts and facts only: a summary's numbers and booleans, never free text.
function facts(summary) {
  if (!summary || typeof summary !== "object") return "";
  return Object.entries(summary)
    .filter(([, v]) => typeof v === "number" || typeof v === "boolean")
    .map(([k, v]) => `${k.replaceAll("_", " ")}: ${v}`)
    .join(" · ");
}

function selfChecks(record, board) {
  if (!record.self_checks.length) return section("selfchecks", el("p", { class: "muted" }, t("selfchecks.none")));
  return section(
    "selfchecks",
    el(
      "ul",
      { class: "list" },
      record.self_checks.map((r) => {
        const slot = el("span", { class: "slot" });
        board.add(slot, r.event);
        return el(
          "li",
          { "data-event-id": r.event && r.event.event_id, "data-record-type": r.record_type },
          el("strong", {}, r.record_type.replaceAll("_", " ")),
          ` · ${r.record_date}`,
          el("div", { class: "muted small" }, facts(r.summary)),
          slot,
        );
      }),
    ),
  );
}

function ingredients(record, board) {
  if (!record.ingredients.length) return section("ingredients", el("p", { class: "muted" }, t("ingredients.none")));
  return section(
    "ingredients",
    el(
      "ul",
      { class: "list" },
      record.ingredients.map((lot) => {
        const slot = el("span", { class: "slot" });
        board.add(slot, lot.event);
        return el(
          "li",
          { "data-event-id": lot.event && lot.event.event_id },
          el("strong", {}, lot.product),
          ` · ${lot.lot_code}`,
          el(
            "div",
            { class: "muted small" },
            `${t("ingredients.supplier")}: ${lot.supplier} · ${t("ingredients.received")} ${lot.received_on}`,
          ),
          lot.lot_page ? el("a", { href: lot.lot_page }, t("ingredients.journey") + " →") : "",
          slot,
        );
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
  const grade = header(record);
  page.replaceChildren(
    banner,
    grade,
    rightNow(record),
    renderSnapshots(record.snapshots, board),
    temperatures(record) || "",
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
  if (record.grade && record.grade.event) board.add(grade.querySelector("#grade-proof"), record.grade.event);
  board.render();
}

installSwitch(document.getElementById("lang"), render);
render();
