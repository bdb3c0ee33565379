// Verifying every item a page shows: fetch its proof bundle, run verify.js on it, and put a
// badge next to the item. The page's banner sums the badges up. The verdict is computed
// here; the item's "anchoring" field from the server is never shown as a verdict.

import { api, carried, el } from "./api.js";
import { t } from "./i18n.js";
import { jsonRpc, readAnchoredRoot, readChainId, readReceipt } from "./chain.js";
import { ed25519Supported, hexToBytes, parseVerifierKey, verifyBundle } from "./verify.js";
import { witnessedBy } from "./witness.js";

// Browsers open at most six connections per host over HTTP/1.1.
// Bundles asked for in the same turn travel in one request (GET /v1/proofs?event_id=...),
// at most this many each; every bundle is verified on its own as before.
const BATCH = 50;
// A fact the server's record states but the verified event does not.
export const MISMATCH = "record_matches_log";

// The pinned chain id and contract, from the platform's published trust file (carried in
// the page, else GET /v1/trust). Null when it cannot be read: the page then refuses every
// anchor rather than trust a bundle's own.
export async function loadTrust() {
  try {
    const trust = carried("trust") || (await api("/v1/trust", { auth: false }));
    const chain = trust && trust.format === "sunledger-trust/1" ? trust.chain : null;
    if (!chain || !chain.contract || chain.chain_id === undefined) return null;
    return {
      chainId: BigInt(chain.chain_id),
      contract: String(chain.contract),
      logId: chain.log_id,
      witnesses: trust.witnesses || null,
    };
  } catch (err) {
    return null;
  }
}

// The trust roots: the log's verifier key and the chain RPC. Defaults come from
// /v1/public/config (carried in the page, else fetched); ?key= and ?rpc= in the page's
// address override them, so a consumer can check against a key and a node of their own
// choosing. The chain id and contract are pinned from /v1/trust (loadTrust), never taken
// from a bundle.
export async function openVerifier() {
  const config = carried("config");
  const [fetched, pinned] = await Promise.all([config ? null : api("/v1/public/config", { auth: false }), loadTrust()]);
  const params = new URLSearchParams(location.search);
  const settings = config || fetched;
  const rpcUrl = new URL(params.get("rpc") || settings.rpc_url, location.href).href;
  const keyText = params.get("key") || settings.public_key;
  const verifier = await parseVerifierKey(keyText);
  const chain = jsonRpc(rpcUrl);
  // Every check reads the chain id first: ask now (memoised), while the page's record loads.
  if (!document.getElementById("data-proofs")) chain.rpc("eth_chainId", []).catch(() => {});
  return {
    config: settings,
    pinned,
    verifier,
    rpcUrl,
    keySource: params.get("key") ? "query" : "server",
    chain,
    ed25519: await ed25519Supported(),
    // The witness policy comes with the pinned trust file ({quorum, keys: [...]}).
    witnesses: pinned ? pinned.witnesses : null,
  };
}

// Ask the chain, in one batch, for everything the carried bundles' checks will read: the
// chain id, and each anchor's stored root and transaction receipt, with exactly the
// arguments verifyBundle passes (the pinned contract, the anchor's log id, the proof's tree
// size). The answers are only memoised (chain.js): each check still compares them itself,
// and a bundle whose values differ from what it claims here reads its own.
function warmChain(trust, bundles) {
  if (!trust.pinned || !bundles.length) return;
  const contract = String(trust.pinned.contract);
  const reads = [readChainId(trust.chain)];
  for (const bundle of bundles) {
    const anchor = bundle && bundle.anchor;
    if (!anchor) continue;
    try {
      const logId = hexToBytes(String(anchor.log_id), 32);
      reads.push(readAnchoredRoot(trust.chain, contract, logId, Number(bundle.inclusion.tree_size)));
      reads.push(readReceipt(trust.chain, anchor.tx_hash));
    } catch {
      // a malformed bundle fails its own checks
    }
  }
  for (const read of reads) read.catch(() => {}); // a failure is seen where a check awaits it
  trust.chain.send();
}

// Whether a verdict lets the page show the event's content: every check passed, or all
// passed but the anchor is not on chain yet (the badge then says it is waiting).
export function showable(verdict) {
  return verdict.ok || (verdict.failed && verdict.failed.name === "anchor_present");
}

export class ProofBoard {
  constructor(trust, banner) {
    this.trust = trust;
    this.banner = banner;
    this.wanted = [];
    this.flushing = false;
    this.results = [];
    this.total = 0;
    this.verdicts = new Map();
    // The bundles the page carried (the same as GET /v1/proofs gives): no request for them.
    const proofs = carried("proofs");
    this.carried = new Map(Object.entries((proofs && proofs.bundles) || {}));
    warmChain(trust, [...this.carried.values()]);
  }

  // The verdict on one event's bundle, verified once per page whatever shows it.
  verify(eventId) {
    if (!this.verdicts.has(eventId)) this.verdicts.set(eventId, this.check(eventId));
    return this.verdicts.get(eventId);
  }

  // The bundle of one event: carried in the page, else fetched with the others asked for
  // in the same turn.
  bundle(eventId) {
    if (this.carried.has(eventId)) return Promise.resolve(this.carried.get(eventId));
    return new Promise((resolve, reject) => {
      this.wanted.push({ eventId, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  flush() {
    this.flushing = false;
    while (this.wanted.length) {
      const batch = this.wanted.splice(0, BATCH);
      const query = batch.map((b) => `event_id=${encodeURIComponent(b.eventId)}`).join("&");
      api(`/v1/proofs?${query}`, { auth: false }).then(
        (answer) => {
          const bundles = (answer && answer.bundles) || {};
          const missing = (answer && answer.missing) || {};
          for (const b of batch) {
            if (Object.prototype.hasOwnProperty.call(bundles, b.eventId)) b.resolve(bundles[b.eventId]);
            else b.reject(new Error(missing[b.eventId] || `no bundle for ${b.eventId} in the answer`));
          }
        },
        (err) => batch.forEach((b) => b.reject(err)),
      );
    }
  }

  async check(eventId) {
    try {
      const bundle = await this.bundle(eventId);
      const verdict = await verifyBundle(bundle, this.trust.verifier, this.trust.chain, eventId, this.trust.pinned);
      const policy = this.trust.witnesses;
      if (policy && policy.keys && policy.keys.length) {
        verdict.witness = await witnessedBy(bundle.checkpoint, policy);
        // The pinned policy not met fails the item, as `sunledger verify` does (exit 15):
        // a checkpoint the witnesses did not cosign is not shown as authentic.
        const w = verdict.witness;
        if (!w.met || w.error) {
          const detail = w.error || `${w.labels.length} of the ${w.quorum} witness cosignature(s) the trust file asks for`;
          verdict.checks.push({ name: "cosignatures", ok: false, detail });
          // Checked right after the checkpoint's signature, as traceability/verify/bundle.py
          // does: the first failure of a signed checkpoint is then this one.
          if (verdict.checks.some((c) => c.name === "checkpoint_signature" && c.ok)) {
            verdict.failed = { name: "cosignatures", detail };
          }
          verdict.ok = false;
        }
      }
      return verdict;
    } catch (err) {
      return { ok: false, failed: { name: "bundle_format", detail: err.message }, checks: [] };
    }
  }

  // One item the page shows, standing on the events of `refs` ({event_id, ...} from the
  // public record). Its badge goes into `slot`. Once every event verified, `onVerified(events)`
  // renders the item from those events and returns where the server's record disagrees
  // (strings); any disagreement fails the item, named by `label`.
  // `onDone(verdict)`, if given, hears the item's final verdict (also when it failed).
  item(slot, refs, { label, onVerified, onDone } = {}) {
    const wanted = (refs || []).filter((r) => r && r.event_id);
    if (!wanted.length) return;
    this.total += 1;
    const badge = el("span", { class: "badge pending", "data-state": "pending" }, t("verify.pending"));
    if (label) badge.dataset.item = label;
    // The offline proof (c2sp.org/tlog-proof@v1, with the cosignatures) of the item's event.
    const proofUrl = `/v1/proofs/${encodeURIComponent(wanted[0].event_id)}.tlog-proof`;
    slot.append(badge, el("a", { class: "tlog-proof", href: proofUrl, download: "" }, t("witness.download")));
    this.render();
    Promise.all(wanted.map((r) => this.verify(r.event_id))).then((verdicts) => {
      let verdict = verdicts.find((v) => !showable(v)) || verdicts.find((v) => !v.ok) || verdicts[0];
      if (showable(verdict) && onVerified) {
        let mismatches;
        try {
          mismatches = onVerified(verdicts.map((v) => v.event)) || [];
        } catch (err) {
          mismatches = [`the logged event could not be read: ${err.message}`];
        }
        if (mismatches.length) {
          verdict = { ok: false, failed: { name: MISMATCH, detail: mismatches.join("; ") }, checks: [], item: label };
        }
      }
      verdict = { ...verdict, item: label };
      this.results.push(verdict);
      paint(badge, verdict);
      this.render();
      if (onDone) onDone(verdict);
    });
  }

  // The old single-event form: verify `ref` and call `onVerified(event)` when it is showable.
  add(slot, ref, onVerified) {
    this.item(slot, [ref], {
      onVerified: (events) => {
        if (onVerified) onVerified(events[0]);
        return [];
      },
    });
  }

  render() {
    if (!this.banner) return;
    const done = this.results.length;
    const ok = this.results.filter((v) => v.ok);
    const waiting = this.results.filter((v) => v.failed && v.failed.name === "anchor_present");
    const bad = this.results.filter((v) => !v.ok && !waiting.includes(v));
    this.banner.replaceChildren();
    // Green only when every item verified in full: items still waiting for the chain make
    // the banner amber ("N of M confirmed"), never "all authentic".
    this.banner.className = "banner " + (bad.length ? "bad" : done < this.total ? "pending" : waiting.length ? "waiting" : "ok");
    // The banner speaks of the record's authenticity, never of the kitchen's safety; the
    // chain and block are technical details (shown with the page's "how is this checked?").
    if (bad.length) {
      const names = [...new Set(bad.map((v) => t(`check.${v.failed.name}`)))].join(", ");
      this.banner.append(el("strong", {}, t("authentic.bad", { count: bad.length })));
      if (this.contact) this.banner.append(el("div", { "data-role": "what-to-do" }, t("authentic.bad.what", { who: this.contact })));
      this.banner.append(el("div", { class: "tech-inline" }, names));
      const list = el("ul", { class: "failed-items tech-inline" });
      for (const v of bad) {
        list.append(el("li", { "data-check": v.failed.name }, `${v.item || ""}${v.item ? ": " : ""}${v.failed.detail}`));
      }
      this.banner.append(list);
      this.banner.append(el("div", { class: "small no-tech" }, t("authentic.bad.details")));
    } else if (done < this.total) {
      this.banner.append(el("strong", {}, t("authentic.pending", { done, total: this.total })));
    } else if (waiting.length) {
      this.banner.append(el("strong", {}, t("authentic.partial", { ok: ok.length, total: this.total })));
    } else if (this.total) {
      const chains = [...new Set(ok.map((v) => String(v.chainId)))].join(", ");
      this.banner.append(el("strong", {}, t("authentic.ok", { count: ok.length })));
      this.banner.append(el("div", { class: "small" }, t(this.note || "authentic.note")));
      this.banner.append(el("div", { class: "tech small" }, t("verify.summary.ok", { count: ok.length, chain: chains })));
    }
    if (waiting.length && (bad.length || done < this.total)) {
      this.banner.append(el("div", {}, t("authentic.waiting", { count: waiting.length })));
    }
    const witnessed = this.results.find((v) => v.witness);
    if (witnessed) this.banner.append(witnessLine(witnessed.witness));
    if (!this.trust.ed25519) this.banner.append(el("div", { class: "warn" }, t("verify.unsupported")));
    this.banner.dataset.done = String(done);
    this.banner.dataset.total = String(this.total);
  }
}

// A value the page shows without proof (the registry, the platform's live view): labelled,
// never ticked.
export function unproven(key = "verify.unproven") {
  return el("span", { class: "unproven", "data-proven": "false" }, t(key));
}

export function paint(badge, verdict) {
  badge.replaceChildren();
  if (verdict.ok) {
    badge.className = "badge ok";
    badge.dataset.state = "ok";
    badge.dataset.chain = String(verdict.chainId);
    badge.dataset.block = String(verdict.block);
    badge.append(
      el("strong", {}, t("badge.ok")),
      el("span", { class: "tech" }, " · " + t("verify.ok", { chain: verdict.chainId, block: verdict.block })),
    );
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
    el("strong", {}, t(waiting ? "badge.waiting" : "badge.fail")),
    el("span", { class: "check" }, " · " + t(`check.${name}`)),
    waiting ? "" : el("span", { class: "detail tech" }, " — " + (verdict.failed ? verdict.failed.detail : "")),
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
    el("dt", {}, t("verify.pinned")),
    el(
      "dd",
      { id: "pinned-contract" },
      trust.pinned ? `${trust.pinned.contract} · chain ${trust.pinned.chainId}` : t("verify.unpinned"),
    ),
  );
}

// "witnessed by the City Market Supervision Bureau and 1 other", or the policy missed.
function witnessLine(w) {
  const met = w.met && !w.error;
  const who = w.labels.length > 1 ? t("witness.and", { first: w.labels[0], count: w.labels.length - 1 }) : w.labels[0];
  const text = met ? t("witness.by", { who }) : t("witness.missing", { count: w.labels.length, quorum: w.quorum }) + (w.error ? ` — ${w.error}` : "");
  return el("div", { class: "witness " + (met ? "ok" : "missing"), "data-witnessed": String(met) }, (met ? "✓ " : "⚠ ") + text);
}
