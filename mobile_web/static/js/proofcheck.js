// Verifying every item a page shows: fetch its proof bundle, run verify.js on it, and put a
// badge next to the item. The page's banner sums the badges up. The verdict is computed
// here; the item's "anchoring" field from the server is never shown as a verdict.

import { api, el } from "./api.js";
import { t } from "./i18n.js";
import { jsonRpc } from "./chain.js";
import { ed25519Supported, parseVerifierKey, verifyBundle } from "./verify.js";
import { witnessedBy } from "./witness.js";

const CONCURRENCY = 4;

// The trust roots: the log's verifier key and the chain RPC. Defaults come from
// /v1/public/config; ?key= and ?rpc= in the page's address override them, so a consumer
// can check against a key and a node of their own choosing.
export async function openVerifier() {
  const config = await api("/v1/public/config", { auth: false });
  const params = new URLSearchParams(location.search);
  const rpcUrl = new URL(params.get("rpc") || config.rpc_url, location.href).href;
  const keyText = params.get("key") || config.public_key;
  const verifier = await parseVerifierKey(keyText);
  return {
    config,
    verifier,
    rpcUrl,
    keySource: params.get("key") ? "query" : "server",
    chain: jsonRpc(rpcUrl),
    ed25519: await ed25519Supported(),
    witnesses: await api("/v1/log/witnesses", { auth: false }).catch(() => null),
  };
}

export class ProofBoard {
  constructor(trust, banner) {
    this.trust = trust;
    this.banner = banner;
    this.queue = [];
    this.running = 0;
    this.results = [];
    this.total = 0;
  }

  // Verify the event behind `ref` ({event_id, ...} from the public record) and render its
  // badge into `slot`. `onVerified(event)` gets the event once its leaf hash matched.
  add(slot, ref, onVerified) {
    if (!ref || !ref.event_id) return;
    this.total += 1;
    const badge = el("span", { class: "badge pending", "data-state": "pending" }, t("verify.pending"));
    const proofUrl = `/v1/proofs/${encodeURIComponent(ref.event_id)}.tlog-proof`;
    slot.append(badge, el("a", { class: "tlog-proof", href: proofUrl, download: "" }, t("witness.download")));
    this.queue.push({ badge, ref, onVerified });
    this.render();
    this.pump();
  }

  pump() {
    while (this.running < CONCURRENCY && this.queue.length) {
      const job = this.queue.shift();
      this.running += 1;
      this.run(job).finally(() => {
        this.running -= 1;
        this.pump();
      });
    }
  }

  async run({ badge, ref, onVerified }) {
    let verdict;
    try {
      const bundle = await api(`/v1/proofs/${encodeURIComponent(ref.event_id)}`, { auth: false });
      verdict = await verifyBundle(bundle, this.trust.verifier, this.trust.chain, ref.event_id);
      if (this.trust.witnesses && this.trust.witnesses.keys.length) verdict.witness = await witnessedBy(bundle.checkpoint, this.trust.witnesses);
    } catch (err) {
      verdict = { ok: false, failed: { name: "bundle_format", detail: err.message }, checks: [] };
    }
    if (verdict.event && onVerified) onVerified(verdict.event);
    this.results.push(verdict);
    paint(badge, verdict);
    this.render();
  }

  render() {
    if (!this.banner) return;
    const done = this.results.length;
    const ok = this.results.filter((v) => v.ok);
    const waiting = this.results.filter((v) => v.failed && v.failed.name === "anchor_present");
    const bad = this.results.filter((v) => !v.ok && !waiting.includes(v));
    this.banner.replaceChildren();
    this.banner.className = "banner " + (bad.length ? "bad" : done < this.total ? "pending" : "ok");
    if (bad.length) {
      const names = [...new Set(bad.map((v) => t(`check.${v.failed.name}`)))].join(", ");
      this.banner.append(el("strong", {}, "✗ " + t("verify.summary.bad", { count: bad.length })));
      this.banner.append(el("div", {}, names));
    } else if (done < this.total) {
      this.banner.append(el("strong", {}, `${t("verify.pending")} ${done}/${this.total}`));
    } else if (this.total) {
      const chains = [...new Set(ok.map((v) => String(v.chainId)))].join(", ");
      this.banner.append(el("strong", {}, "✓ " + t("verify.summary.ok", { count: ok.length, chain: chains })));
    }
    if (waiting.length) {
      this.banner.append(el("div", {}, t("verify.summary.waiting", { count: waiting.length })));
    }
    const witnessed = this.results.find((v) => v.witness);
    if (witnessed) this.banner.append(witnessLine(witnessed.witness));
    if (!this.trust.ed25519) this.banner.append(el("div", { class: "warn" }, t("verify.unsupported")));
  }
}

export function paint(badge, verdict) {
  badge.replaceChildren();
  if (verdict.ok) {
    badge.className = "badge ok";
    badge.dataset.state = "ok";
    badge.textContent = "✓ " + t("verify.ok", { chain: verdict.chainId, block: verdict.block });
    if (verdict.witness) badge.append(witnessLine(verdict.witness));
    return;
  }
  const name = verdict.failed ? verdict.failed.name : "bundle_format";
  const waiting = name === "anchor_present";
  badge.className = "badge " + (waiting ? "waiting" : "fail");
  badge.dataset.state = waiting ? "waiting" : "fail";
  badge.dataset.check = name;
  badge.title = verdict.failed ? verdict.failed.detail : "";
  badge.append(
    el("strong", {}, (waiting ? "⏳ " : "✗ ") + t(`check.${name}`)),
    waiting ? "" : el("span", { class: "detail" }, " — " + (verdict.failed ? verdict.failed.detail : "")),
  );
}

// Where the verification came from, for the page's footer.
export function trustFooter(trust) {
  return el(
    "dl",
    { class: "trust" },
    el("dt", {}, t("verify.rpc")),
    el("dd", { id: "rpc-used" }, trust.rpcUrl),
    el("dt", {}, t("verify.key")),
    el("dd", {}, trust.verifier.text + (trust.keySource === "query" ? " (?key=)" : "")),
  );
}

// "witnessed by the City Market Supervision Bureau and 1 other", or the policy missed.
function witnessLine(w) {
  const met = w.met && !w.error;
  const who = w.labels.length > 1 ? t("witness.and", { first: w.labels[0], count: w.labels.length - 1 }) : w.labels[0];
  const text = met ? t("witness.by", { who }) : t("witness.missing", { count: w.labels.length, quorum: w.quorum }) + (w.error ? ` — ${w.error}` : "");
  return el("div", { class: "witness " + (met ? "ok" : "missing"), "data-witnessed": String(met) }, (met ? "✓ " : "⚠ ") + text);
}
