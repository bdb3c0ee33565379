// The premises picker of the regulator console and the kitchen: search as you type instead
// of a drop-down of every premises (a regulator may supervise thousands). An ARIA 1.2
// combobox: a text input and a listbox popup; ↓/↑ move through the matches (Alt+↓ opens,
// Home/End jump), Enter or a click picks one, Escape closes and then clears the text.
// Each match shows the name, the address and the district.
//
// The matches come from GET /v1/me/premises?q=…: the premises the signed-in key may reach
// (a regulator: their districts'; a restaurant: its own), found by the server's text index
// (name, address or district, any case). The picked id goes into a hidden input named by
// the element's `name` attribute, so the form's FormData carries it; `value` reads it and a
// `change` event (bubbling) says it changed. A form with a `required` picker does not
// submit until a premises is picked.
//
//   <label for="x" ...>…</label>
//   <premises-picker input-id="x" name="premises_id" required></premises-picker>

import { api, el } from "./api.js";
import { t } from "./i18n.js";

const SHOWN = 8;
const WAIT_MS = 150;
let made = 0;

class PremisesPicker extends HTMLElement {
  connectedCallback() {
    if (this.input) return;
    made += 1;
    const id = this.getAttribute("input-id") || `premises-picker-${made}`;
    this.listId = `${id}-list`;
    this.input = el("input", {
      type: "text",
      id,
      role: "combobox",
      "aria-autocomplete": "list",
      "aria-expanded": "false",
      "aria-controls": this.listId,
      "aria-describedby": `${id}-status`,
      autocomplete: "off",
      spellcheck: "false",
      enterkeyhint: "search",
      "data-i18n-placeholder": "picker.placeholder",
      placeholder: t("picker.placeholder"),
    });
    this.chosen = el("input", { type: "hidden", name: this.getAttribute("name") || "premises_id" });
    this.list = el("ul", { role: "listbox", id: this.listId, class: "picker-list", hidden: true });
    this.status = el("p", { id: `${id}-status`, class: "picker-status muted small", "aria-live": "polite", "data-i18n": "picker.hint" }, t("picker.hint"));
    this.append(this.input, this.chosen, this.list, this.status);
    this.items = [];
    this.active = -1;
    this.picked = null;
    this.asked = 0;
    this.input.addEventListener("input", () => this.typed());
    this.input.addEventListener("keydown", (event) => this.key(event));
    this.input.addEventListener("focus", () => this.search(true));
    this.input.addEventListener("blur", () => this.left());
    // The text input's own change event is not the picker's: only a pick changes the value.
    this.input.addEventListener("change", (event) => event.stopPropagation());
    // Keep the focus in the input while the mouse presses an option.
    this.list.addEventListener("mousedown", (event) => event.preventDefault());
    this.list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.pick(this.items[Number(option.dataset.index)]);
    });
    const form = this.closest("form");
    if (form) form.addEventListener("submit", (event) => this.guard(event), { capture: true });
  }

  get value() {
    return this.chosen ? this.chosen.value : "";
  }

  // The premises picked: {premises_id, name, address, district} or null.
  get premises() {
    return this.picked;
  }

  // Pick the one premises the key reaches, when it reaches exactly one (a restaurant with a
  // single kitchen); otherwise clear it and leave the choice to the user. True when one was picked. Like
  // setting a <select>'s value, this fires no change event.
  async preselectSole() {
    const page = await api("/v1/me/premises?limit=2");
    const sole = page.items.length === 1 ? page.items[0] : null;
    this.pick(sole, { silent: true });
    return sole !== null;
  }

  typed() {
    if (this.picked && this.input.value !== this.picked.name) this.pick(null, { keepText: true });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.search(false), WAIT_MS);
  }

  async search(onFocus) {
    // Focusing a picked premises (or the focus a refused submit gives) opens no list.
    if (onFocus && (this.picked || this.quiet)) return;
    const asked = ++this.asked;
    const q = this.input.value.trim();
    const params = new URLSearchParams({ limit: String(SHOWN) });
    if (q) params.set("q", q);
    this.dataset.state = "searching";
    let page;
    try {
      page = await api(`/v1/me/premises?${params}`);
    } catch (err) {
      if (asked !== this.asked) return;
      this.dataset.state = "error";
      this.show([], t("picker.error", { reason: err.message }));
      return;
    }
    if (asked !== this.asked || document.activeElement !== this.input) return;
    this.dataset.state = "ready";
    const more = page.next_offset !== null && page.next_offset !== undefined;
    let note = "";
    if (!page.items.length) note = q ? t("picker.none", { q }) : t("picker.empty");
    else if (more) note = t("picker.more", { n: page.items.length });
    else note = t("picker.count", { n: page.items.length });
    this.show(page.items, note);
  }

  show(items, note) {
    this.items = items;
    this.active = -1;
    this.list.replaceChildren(
      ...items.map((p, index) =>
        el(
          "li",
          { role: "option", id: `${this.listId}-${index}`, "aria-selected": "false", "data-index": index, "data-premises-id": p.premises_id },
          el("span", { class: "picker-name" }, p.name),
          el("span", { class: "picker-where muted small" }, [p.address, p.district].filter(Boolean).join(" · ")),
        ),
      ),
    );
    this.open(items.length > 0);
    this.say(note);
    this.input.removeAttribute("aria-activedescendant");
  }

  // A message under the input (the hint keeps its label, re-translated on a language switch).
  say(text) {
    delete this.status.dataset.i18n;
    this.status.textContent = text;
  }

  open(on) {
    this.list.hidden = !on;
    this.input.setAttribute("aria-expanded", on ? "true" : "false");
  }

  move(to) {
    if (!this.items.length) return;
    const options = this.list.children;
    if (this.active >= 0) options[this.active].setAttribute("aria-selected", "false");
    this.active = (to + this.items.length) % this.items.length;
    const option = options[this.active];
    option.setAttribute("aria-selected", "true");
    this.input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  key(event) {
    const opened = !this.list.hidden;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (!opened) this.search(false).then(() => event.altKey || this.move(0));
      else this.move(this.active + 1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (opened) this.move(this.active - 1);
    } else if ((event.key === "Home" || event.key === "End") && opened && this.active >= 0) {
      event.preventDefault();
      this.move(event.key === "Home" ? 0 : this.items.length - 1);
    } else if (event.key === "Enter") {
      if (opened && this.active >= 0) {
        event.preventDefault();
        this.pick(this.items[this.active]);
      } else if (opened && this.items.length === 1) {
        event.preventDefault();
        this.pick(this.items[0]);
      } else if (!this.picked) {
        event.preventDefault(); // an unfinished search does not submit the form
      }
    } else if (event.key === "Escape") {
      if (opened) {
        event.preventDefault();
        this.open(false);
      } else if (!this.picked && this.input.value) {
        event.preventDefault();
        this.input.value = "";
      }
    }
  }

  left() {
    this.asked += 1; // a late answer does not reopen the list
    clearTimeout(this.timer);
    this.open(false);
    // Leaving with half a name keeps the last pick, not the text.
    if (this.picked) this.input.value = this.picked.name;
  }

  pick(premises, { keepText = false, silent = false } = {}) {
    const before = this.chosen.value;
    this.picked = premises || null;
    this.chosen.value = premises ? premises.premises_id : "";
    if (premises) {
      this.input.value = premises.name;
      this.input.title = `${premises.name} · ${premises.address || ""} · ${premises.district || ""} · ${premises.premises_id}`;
      this.say(t("picker.picked", { name: premises.name, district: premises.district || "" }));
      this.open(false);
    } else {
      this.input.removeAttribute("title");
      if (!keepText) this.input.value = "";
    }
    this.input.removeAttribute("aria-invalid");
    this.dataset.premisesId = this.chosen.value;
    if (before !== this.chosen.value && !silent) this.dispatchEvent(new Event("change", { bubbles: true }));
  }

  guard(event) {
    if (!this.hasAttribute("required") || this.value) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    this.input.setAttribute("aria-invalid", "true");
    this.say(t("picker.required"));
    this.quiet = true; // focus without opening the list over the message
    this.input.focus();
    this.quiet = false;
  }
}

if (!customElements.get("premises-picker")) customElements.define("premises-picker", PremisesPicker);
