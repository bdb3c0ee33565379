// Parts the public pages share: whom to contact, where to report a premises, and the
// "how is this checked?" panel that keeps the cryptography out of the way.

import { el } from "./api.js";
import { t } from "./i18n.js";
import { trustFooter } from "./proofcheck.js";

// "12315 (12315)" -> "12315"; "East bureau (010-1234)": whom a contact names, for sentences.
export function contactText(contact) {
  if (!contact) return "12315";
  return contact.phone && contact.phone !== contact.name ? `${contact.name} (${contact.phone})` : contact.name;
}

// Where to report a problem with this premises (per district, e.g. 12315).
export function reportCard(contact) {
  if (!contact) return "";
  return el(
    "section",
    { class: "card report", "data-section": "report" },
    el("h2", {}, t("report")),
    el(
      "p",
      {},
      t("report.text", { who: contact.name, phone: contact.phone ? t("report.phone", { phone: contact.phone }) : "" }),
    ),
    el(
      "div",
      { class: "row" },
      contact.phone ? el("a", { class: "button", href: `tel:${contact.phone.replace(/[^0-9+]/g, "")}`, "data-role": "report-phone" }, `☎ ${contact.phone}`) : "",
      contact.url ? el("a", { class: "button secondary", href: contact.url, rel: "noopener", "data-role": "report-url" }, t("report.link")) : "",
    ),
  );
}

// "How is this checked?": the cryptography, folded away; opening it shows the technical
// details (chain, block, check names) next to every badge too.
export function howPanel(trust, contact) {
  const panel = el(
    "details",
    { class: "card how", id: "how" },
    el("summary", {}, t("how")),
    el("p", { class: "small" }, t("how.text")),
    el("p", { class: "small", "data-role": "how-fail" }, t("how.fail", { who: contactText(contact) })),
    el("h3", {}, t("how.details")),
    el("p", { class: "small muted" }, t("verify.how")),
    trustFooter(trust),
  );
  panel.addEventListener("toggle", () => document.body.classList.toggle("show-tech", panel.open));
  return panel;
}

