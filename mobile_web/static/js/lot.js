// The lot page (/01/{gtin}/10/{lot}): the lot's journey, each step verified in the browser.
// Only receipts are logged today; storage and use are said to be not recorded yet. Each
// receipt is rendered from its verified event; the premises' name is the registry's.

import { api, el } from "./api.js";
import { installSwitch, t } from "./i18n.js";
import { compareLot, deriveLot } from "./facts.js";
import { ProofBoard, openVerifier, trustFooter, unproven } from "./proofcheck.js";

async function render() {
  const page = document.getElementById("page");
  const banner = document.getElementById("verify-summary");
  let lot, trust;
  try {
    // The same path answers JSON to a request that does not ask for HTML.
    [lot, trust] = await Promise.all([api(location.pathname, { auth: false }), openVerifier()]);
  } catch (err) {
    page.replaceChildren(el("p", { class: "banner bad" }, `${t("error.load")}: ${err.message}`));
    return;
  }
  const board = new ProofBoard(trust, banner);
  const product = lot.receipts.length ? lot.receipts[0].product : "";
  page.replaceChildren(
    banner,
    el(
      "section",
      { class: "card" },
      el("h1", {}, `${t("lot.title")}: ${product}`),
      el("div", { class: "muted" }, `GTIN ${lot.gtin} · ${lot.lot_code}`),
    ),
    el(
      "section",
      { class: "card", "data-step": "received" },
      el("h2", {}, t("lot.received")),
      el(
        "ul",
        { class: "list" },
        lot.receipts.map((r) => {
          const slot = el("span", { class: "slot" });
          const facts = el("span", { "data-role": "lot" }, "…");
          board.item(slot, [r.event], {
            label: `receipt at ${r.premises.premises_id}`,
            onVerified: ([event]) => {
              const d = deriveLot(event);
              facts.replaceChildren(
                ` · ${d.received_on} · ${d.quantity} ${d.unit}`,
                el("div", { class: "muted small" }, `${t("ingredients.supplier")}: ${d.supplier}`),
              );
              const out = compareLot(r, event, r.premises.premises_id);
              if (d.lot_code !== lot.lot_code) out.push(`lot code: the page is for ${lot.lot_code}, the log says ${d.lot_code}`);
              return out;
            },
          });
          return el(
            "li",
            { "data-event-id": r.event && r.event.event_id },
            el("strong", {}, r.premises.name || r.premises.premises_id),
            " ",
            unproven(),
            facts,
            el("a", { href: `/r/${encodeURIComponent(r.premises.premises_id)}` }, "→"),
            slot,
          );
        }),
      ),
    ),
    el("section", { class: "card", "data-step": "stored" }, el("h2", {}, t("lot.stored")), el("p", { class: "muted" }, t("lot.not_recorded"))),
    el("section", { class: "card", "data-step": "used" }, el("h2", {}, t("lot.used")), el("p", { class: "muted" }, t("lot.not_recorded"))),
    el("footer", { class: "card muted small" }, el("h2", {}, t("verify.title")), el("p", {}, t("verify.how")), trustFooter(trust)),
  );
  board.render();
}

installSwitch(document.getElementById("lang"), render);
render();
