// The landing page (/): find a premises without its QR code. Searches the public list
// (/v1/public/premises) by name, address and district, one page at a time, and shows each
// place's grade and open problems as the platform reports them. Nothing on this list is
// checked: the values come from the platform's tables, so they are shown without a tick or
// a grade's colours, each labelled "reported by the platform, not yet checked", and each
// entry links to the place's own page, which verifies every item in the browser
// (docs/public-record.md, "What the pages prove"). The search is kept in the address
// (?q=&district=&page=).

import { api, el } from "./api.js";
import { installSwitch, t } from "./i18n.js";
import { kindLabel, loadError } from "./plain.js";

const PER_PAGE = 20;
const form = document.getElementById("search");
const results = document.getElementById("results");

function wanted() {
  const params = new URLSearchParams(location.search);
  const page = Number.parseInt(params.get("page") || "1", 10);
  return { q: params.get("q") || "", district: params.get("district") || "", page: page >= 1 ? page : 1 };
}

// The platform's count of open problems: never ticked, never green (an absence of alerts is
// not provable from the log; a count from the tables is not checked here).
function problems(p) {
  if (!p.total) return el("span", { class: "small", "data-role": "place-problems", "data-proven": "false" }, t("landing.reported.none"));
  const parts = [t("problems.count", { count: p.total })];
  if (p.class_1) parts.push(t("problems.class1", { count: p.class_1 }));
  if (p.overdue) parts.push(t("problems.overdue", { count: p.overdue }));
  return el(
    "span",
    { class: "small " + (p.class_1 || p.overdue ? "flag" : "warn"), "data-role": "place-problems", "data-proven": "false" },
    "⚠ " + parts.join(" · "),
    p.red_cards ? el("span", { class: "pill card red" }, t("alerts.card.red")) : "",
    p.yellow_cards ? el("span", { class: "pill card yellow" }, t("alerts.card.yellow")) : "",
  );
}

// One entry. The grade letter is shown (it is what people search for) but as the platform
// reports it: a plain outlined letter, not the grade's colours, with the "not yet checked"
// label beside it; the place's page shows the grade verified from its logged event.
function place(item) {
  const grade = item.grade && item.grade.grade;
  return el(
    "li",
    { "data-premises-id": item.premises_id },
    el(
      "a",
      { class: "place", href: item.page },
      el(
        "span",
        { class: "letter reported", "data-role": "place-grade", "data-proven": "false", title: grade ? t("landing.reported.grade", { grade }) : t("landing.nograde") },
        grade || "–",
      ),
      el(
        "span",
        {},
        el("strong", { "data-role": "place-name" }, item.name),
        el("div", { class: "small muted" }, [kindLabel(item.kind), item.district, item.address].filter(Boolean).join(" · ")),
        problems(item.open_problems),
        el("div", { class: "unproven small", "data-role": "place-unchecked", "data-proven": "false" }, t("landing.reported.row")),
      ),
    ),
  );
}

function fillDistricts(districts, chosen) {
  const select = form.elements.district;
  select.replaceChildren(el("option", { value: "" }, t("landing.all")), ...districts.map((d) => el("option", { value: d }, d)));
  select.value = chosen;
}

async function render() {
  const { q, district, page } = wanted();
  form.elements.q.value = q;
  const query = new URLSearchParams({ page: String(page), per_page: String(PER_PAGE) });
  if (q) query.set("q", q);
  if (district) query.set("district", district);
  let answer;
  try {
    answer = await api(`/v1/public/premises?${query}`, { auth: false });
  } catch (err) {
    results.replaceChildren(el("p", { class: "banner bad", "data-role": "load-error" }, loadError(err)));
    return;
  }
  fillDistricts(answer.districts, district);
  const go = (n) => {
    const next = new URLSearchParams(location.search);
    next.set("page", String(n));
    history.pushState(null, "", `?${next}`);
    render();
  };
  results.replaceChildren(
    el("p", { class: "small", id: "total", "data-total": String(answer.total) }, t("landing.total", { total: answer.total })),
    answer.items.length ? el("p", { class: "unproven-note", id: "unchecked", "data-proven": "false" }, t("landing.reported")) : "",
    answer.items.length
      ? el("ul", { class: "list places", id: "places" }, answer.items.map(place))
      : el("p", { class: "muted" }, t("landing.none")),
    answer.pages > 1
      ? el(
          "div",
          { class: "pager" },
          el("button", { type: "button", class: "secondary", id: "prev", disabled: page <= 1, onclick: () => go(page - 1) }, t("landing.prev")),
          el("span", { class: "small", id: "page-of" }, t("landing.page", { page, pages: answer.pages })),
          el("button", { type: "button", class: "secondary", id: "next", disabled: page >= answer.pages, onclick: () => go(page + 1) }, t("landing.next")),
        )
      : "",
    el("p", { class: "small muted" }, t("landing.note")),
  );
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const next = new URLSearchParams();
  const q = form.elements.q.value.trim();
  if (q) next.set("q", q);
  if (form.elements.district.value) next.set("district", form.elements.district.value);
  history.pushState(null, "", next.toString() ? `?${next}` : location.pathname);
  render();
});
window.addEventListener("popstate", render);
installSwitch(document.getElementById("lang"), render);
render();
