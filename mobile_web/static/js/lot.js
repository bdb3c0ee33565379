// The lot page (/01/{gtin}/10/{lot}): the lot's journey, each step verified in the browser.
// Only receipts are logged today; storage and use are said to be not recorded yet (and what
// that means). Each receipt is rendered from its verified event; its origin, production
// date, shelf life and use-by date from the verified purchase record the receipt names as
// its reference document. The premises' name is the registry's.

import { api, carried, el } from "./api.js";
import { installSwitch, t } from "./i18n.js";
import { compareLot, comparePurchase, deriveLot, derivePurchase } from "./facts.js";
import { loadError } from "./plain.js";
import { ProofBoard, openVerifier, trustFooter, unproven } from "./proofcheck.js";
import { contactText, howPanel } from "./public_panels.js";

const NOT_RECORDED = () => el("span", { class: "muted", "data-role": "not-recorded" }, t("lot.not_recorded.field"));

function dates(purchase) {
  const value = (v, text) => (v === null || v === undefined ? NOT_RECORDED() : text ?? String(v));
  return [
    el("dt", {}, t("lot.licence")),
    el("dd", { "data-role": "supplier-licence" }, value(purchase.supplier_licence)),
    el("dt", {}, t("lot.production")),
    el("dd", { "data-role": "production-date" }, value(purchase.production_date)),
    el("dt", {}, t("lot.shelf_life")),
    el("dd", { "data-role": "shelf-life" }, value(purchase.shelf_life_days, t("lot.days", { n: purchase.shelf_life_days }))),
    el("dt", {}, t("lot.expiry")),
    el("dd", { "data-role": "expiry-date" }, value(purchase.expiry_date)),
  ];
}

function receipt(r, lot, board, product) {
  const slot = el("span", { class: "slot" });
  const purchaseSlot = el("span", { class: "slot" });
  const facts = el("dl", { class: "facts", "data-role": "lot" }, el("dd", {}, "…"));
  const more = el("dl", { class: "facts", "data-role": "purchase" });
  const premisesId = r.premises.premises_id;
  board.item(slot, [r.event], {
    label: `receipt at ${premisesId}`,
    onVerified: ([event]) => {
      const d = deriveLot(event);
      if (product.textContent === "…") product.textContent = d.product;
      facts.replaceChildren(
        el("dt", {}, t("lot.origin")),
        el("dd", { "data-role": "origin" }, d.supplier),
        el("dt", {}, t("ingredients.received")),
        el("dd", {}, d.received_on),
        el("dt", {}, t("lot.quantity")),
        el("dd", {}, `${d.quantity} ${d.unit}`),
      );
      const p = event.payload;
      if (p.reference_document_type === "purchase_inspection" && p.reference_document_number) {
        // The purchase record this receipt came from: verified in its own right.
        more.replaceChildren(el("dd", {}, t("lot.checking")));
        queueMicrotask(() =>
          board.item(purchaseSlot, [{ event_id: p.reference_document_number }], {
            label: `purchase record of ${lot.lot_code}`,
            onVerified: ([record]) => {
              more.replaceChildren(...dates(derivePurchase(record)));
              return comparePurchase(r, record, premisesId);
            },
          }),
        );
      } else {
        // No record to check them against: the server's values, labelled not proven.
        more.replaceChildren(...dates({ ...r, expiry_date: null }), el("dd", {}, unproven()));
      }
      const out = compareLot(r, event, premisesId);
      if (d.lot_code !== lot.lot_code) out.push(`lot code: the page is for ${lot.lot_code}, the log says ${d.lot_code}`);
      return out;
    },
  });
  return el(
    "li",
    { "data-event-id": r.event && r.event.event_id },
    el("strong", {}, r.premises.name || premisesId),
    " ",
    unproven(),
    " ",
    el("a", { href: `/r/${encodeURIComponent(premisesId)}` }, "→"),
    facts,
    slot,
    more,
    purchaseSlot,
  );
}

async function render() {
  const page = document.getElementById("page");
  const banner = document.getElementById("verify-summary");
  let lot, trust;
  try {
    // The same path answers JSON to a request that does not ask for HTML.
    // Carried in the page (the bytes the JSON answer gives), else fetched.
    const inPage = carried("record");
    [lot, trust] = await Promise.all([inPage || api(location.pathname, { auth: false }), openVerifier()]);
  } catch (err) {
    page.replaceChildren(el("p", { class: "banner bad", "data-role": "load-error" }, loadError(err)));
    return;
  }
  document.body.classList.remove("show-tech");
  const board = new ProofBoard(trust, banner);
  const contact = (trust.config.contacts || {}).verification || null;
  board.contact = contactText(contact);
  board.note = "authentic.note.lot";
  // The product's name is the first verified receipt's ("…" until then), never the server's.
  const product = el("span", { "data-role": "lot-product" }, "…");
  page.replaceChildren(
    banner,
    el(
      "section",
      { class: "card" },
      el("h1", {}, `${t("lot.title")}: `, product),
      el("div", { class: "muted" }, `GTIN ${lot.gtin} · ${lot.lot_code}`),
    ),
    el(
      "section",
      { class: "card", "data-step": "received" },
      el("h2", {}, t("lot.received")),
      el("ul", { class: "list" }, lot.receipts.map((r) => receipt(r, lot, board, product))),
      el("p", { class: "small muted", "data-role": "not-recorded-meaning" }, t("lot.not_recorded.meaning")),
    ),
    el("section", { class: "card", "data-step": "stored" }, el("h2", {}, t("lot.stored")), el("p", { class: "muted" }, t("lot.not_recorded"))),
    el("section", { class: "card", "data-step": "used" }, el("h2", {}, t("lot.used")), el("p", { class: "muted" }, t("lot.not_recorded"))),
    el("p", { class: "small muted card", "data-role": "steps-meaning" }, t("lot.not_recorded.steps")),
    howPanel(trust, contact),
  );
  board.render();
}

installSwitch(document.getElementById("lang"), render);
render();
