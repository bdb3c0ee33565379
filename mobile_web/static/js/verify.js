// Verifying a proof bundle (sunledger-proof/1) in the browser, with nothing but WebCrypto,
// the log's verifier key and a chain JSON-RPC endpoint. It mirrors
// traceability/verify/bundle.py: the same checks, in the same order, with the same names,
// stopping at the first that fails. Nothing the server says is taken as a verdict: hashes
// are recomputed, the signature is checked here, and the root is read from the chain.

import { readAnchoredRoot, readChainId, readReceipt } from "./chain.js";

export const BUNDLE_FORMAT = "sunledger-proof/1";
export const CHECKS = [
  "bundle_format",
  "leaf_hash",
  "checkpoint_signature",
  "cosignatures", // run by witness.js against the pinned witness policy, when there is one
  "checkpoint_matches_proof",
  "inclusion_proof",
  "anchor_present",
  "anchor_log_id",
  "anchor_pinned",
  "chain_id",
  "chain_root",
  "anchor_transaction",
];

const EM_DASH = "\u2014";
const encoder = new TextEncoder();

export class VerificationFailure extends Error {
  constructor(detail) {
    super(detail);
    this.detail = detail;
  }
}

// ------------------------------------------------------------------ bytes

export function hexToBytes(text, size) {
  const hex = text.startsWith("0x") ? text.slice(2) : text;
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new VerificationFailure(`not hex: ${text.slice(0, 20)}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  if (size !== undefined && out.length !== size) {
    throw new VerificationFailure(`expected ${size} bytes, got ${out.length}`);
  }
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Canonical (strict) base64 only: the same rule as checkpoints.py's _b64decode_strict.
export function base64ToBytes(text) {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) {
    return null;
  }
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  if (bytesToBase64(out) !== text) return null;
  return out;
}

export function bytesToBase64(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ------------------------------------------------------------------ RFC 8785 + RFC 9162

// RFC 8785 (JCS): JSON.stringify already writes numbers with ECMAScript Number::toString
// and escapes strings as the RFC asks; objects are sorted by UTF-16 code units, which is
// what Array.prototype.sort does with no comparator.
export function canonicalize(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new VerificationFailure("a number is not finite");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return "[" + value.map(canonicalize).join(",") + "]";
  if (typeof value === "object") {
    const keys = Object.keys(value).sort();
    return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonicalize(value[k])).join(",") + "}";
  }
  throw new VerificationFailure(`cannot canonicalise a ${typeof value}`);
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

export function leafHash(data) {
  return sha256(concat(Uint8Array.of(0), data));
}

export function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

// RFC 9162 2.1.3.2. Arithmetic with / and % rather than bit operators, which would
// truncate indexes to 32 bits.
export async function verifyInclusion(index, treeSize, leaf, proof, root) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0) {
    throw new VerificationFailure("index and tree size must be non-negative integers");
  }
  for (const h of [leaf, root, ...proof]) {
    if (!(h instanceof Uint8Array) || h.length !== 32) {
      throw new VerificationFailure("every hash must be 32 bytes");
    }
  }
  if (treeSize === 0) throw new VerificationFailure("no leaf is included in the empty tree");
  if (index >= treeSize) {
    throw new VerificationFailure(`index ${index} is not below tree_size ${treeSize}`);
  }
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new VerificationFailure("inclusion proof is too long");
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn !== 0 && fn % 2 === 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new VerificationFailure("inclusion proof is too short");
  if (!equal(r, root)) {
    throw new VerificationFailure(
      `inclusion proof leads to ${bytesToHex(r)}, not to the root ${bytesToHex(root)}`,
    );
  }
}

// ------------------------------------------------------------------ C2SP signed notes

// "<name>+<8 hex key id>+<base64(0x01 || 32-byte Ed25519 key)>"; the key id must be
// SHA-256(name || 0x0A || 0x01 || key)[:4].
export async function parseVerifierKey(text) {
  // "+" may also occur inside the base64 key: split at the first two only.
  const whole = String(text).trim();
  const first = whole.indexOf("+");
  const second = first < 0 ? -1 : whole.indexOf("+", first + 1);
  if (second < 0) throw new VerificationFailure("malformed verifier key");
  const [name, idHex, keyB64] = [whole.slice(0, first), whole.slice(first + 1, second), whole.slice(second + 1)];
  if (!name || /\s/.test(name) || !/^[0-9a-fA-F]{8}$/.test(idHex)) {
    throw new VerificationFailure("malformed verifier key");
  }
  const raw = base64ToBytes(keyB64);
  if (raw === null || raw.length !== 33 || raw[0] !== 0x01) {
    throw new VerificationFailure("verifier key is not an Ed25519 key");
  }
  const publicKey = raw.slice(1);
  const keyId = hexToBytes(idHex);
  const computed = (await sha256(concat(encoder.encode(name + "\n"), raw))).slice(0, 4);
  if (!equal(keyId, computed)) throw new VerificationFailure("key ID does not match the key");
  return { name, keyId, publicKey, text: String(text).trim() };
}

let ed25519Support = null;

// Whether this browser's WebCrypto verifies Ed25519 (Chromium 137+, Firefox, Safari 17+).
export async function ed25519Supported() {
  if (ed25519Support === null) {
    ed25519Support = (async () => {
      try {
        await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "Ed25519" }, false, [
          "verify",
        ]);
        return true;
      } catch (err) {
        // An all-zero key is a valid encoding; only "not supported" means no Ed25519.
        return !(err && err.name === "NotSupportedError");
      }
    })();
  }
  return ed25519Support;
}

export class SignatureUnsupported extends Error {}

// Checkpoints already checked, per verifier key object and exact note text: a page's
// bundles mostly carry the same few checkpoints, and the same bytes under the same key
// give the same verdict (a failure included), so each is checked once.
const checkedNotes = new WeakMap();

// Verify a signed note with one key; return the parsed checkpoint body.
export function verifyCheckpoint(note, verifier) {
  if (typeof note !== "string" || !verifier || typeof verifier !== "object") return checkNote(note, verifier);
  let notes = checkedNotes.get(verifier);
  if (!notes) checkedNotes.set(verifier, (notes = new Map()));
  if (!notes.has(note)) notes.set(note, checkNote(note, verifier));
  return notes.get(note).then((body) => ({ ...body }));
}

async function checkNote(note, verifier) {
  const raw = encoder.encode(note);
  const text = note;
  const split = text.lastIndexOf("\n\n");
  if (split < 0) throw new VerificationFailure("malformed note: no blank line before signatures");
  const body = text.slice(0, split + 1);
  const sigBlock = text.slice(split + 2);
  if (!sigBlock.endsWith("\n")) throw new VerificationFailure("malformed note: signature block");
  if (raw.length === 0) throw new VerificationFailure("empty note");
  let verified = 0;
  for (const line of sigBlock.slice(0, -1).split("\n")) {
    if (!line.startsWith(EM_DASH + " ")) {
      throw new VerificationFailure(`malformed note: signature line does not start with ${EM_DASH}`);
    }
    const rest = line.slice(2);
    const space = rest.indexOf(" ");
    const name = space < 0 ? rest : rest.slice(0, space);
    const blob = space < 0 ? null : base64ToBytes(rest.slice(space + 1));
    if (blob === null || blob.length < 5) throw new VerificationFailure("malformed signature line");
    if (name !== verifier.name || !equal(blob.slice(0, 4), verifier.keyId)) continue;
    const signature = blob.slice(4);
    if (!(await ed25519Supported())) {
      throw new SignatureUnsupported("this browser cannot verify Ed25519 signatures");
    }
    const key = await crypto.subtle.importKey(
      "raw",
      verifier.publicKey,
      { name: "Ed25519" },
      false,
      ["verify"],
    );
    const ok =
      signature.length === 64 &&
      (await crypto.subtle.verify({ name: "Ed25519" }, key, signature, encoder.encode(body)));
    if (!ok) {
      throw new VerificationFailure(
        `invalid signature for key ${verifier.name}+${bytesToHex(verifier.keyId)}`,
      );
    }
    verified += 1;
  }
  if (verified === 0) {
    throw new VerificationFailure(`no signature by key ${verifier.name}+${bytesToHex(verifier.keyId)}`);
  }
  const lines = body.slice(0, -1).split("\n");
  if (lines.length < 3 || lines.some((l) => l === "")) {
    throw new VerificationFailure("checkpoint body is malformed");
  }
  const [origin, sizeText, rootText] = lines;
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw new VerificationFailure("bad tree size");
  const root = base64ToBytes(rootText);
  if (root === null || root.length !== 32) throw new VerificationFailure("bad root hash");
  return { origin, treeSize: Number(sizeText), root };
}

// ------------------------------------------------------------------ the bundle

// Run every check; `chain` is {rpc(method, params)} from chain.js; `pinned` is
// {chainId, contract} from the platform's published trust file (GET /v1/trust), never from
// the bundle: without it every anchored bundle is refused. Returns
// {ok, checks: [{name, ok, detail}], failed, unsupported, chainId, block, event}.
export async function verifyBundle(bundle, verifier, chain, expectedEventId, pinned) {
  const verdict = { ok: false, checks: [], failed: null, unsupported: null, event: null };
  const check = (name, ok, detail) => {
    verdict.checks.push({ name, ok, detail });
    if (!ok && verdict.failed === null) verdict.failed = { name, detail };
    return ok;
  };
  let event, leafIndex, claimedLeaf, treeSize, root, hashes, note, anchor;
  try {
    if (!bundle || bundle.format !== BUNDLE_FORMAT) {
      check("bundle_format", false, `expected format ${BUNDLE_FORMAT}`);
      return verdict;
    }
    event = bundle.event;
    leafIndex = Number(bundle.leaf_index);
    claimedLeaf = hexToBytes(bundle.leaf_hash, 32);
    treeSize = Number(bundle.inclusion.tree_size);
    root = hexToBytes(bundle.inclusion.root_hash, 32);
    hashes = bundle.inclusion.hashes.map((h) => hexToBytes(h, 32));
    note = String(bundle.checkpoint);
    anchor = bundle.anchor;
  } catch (err) {
    check("bundle_format", false, `malformed bundle: ${err.message}`);
    return verdict;
  }
  if (expectedEventId && (!event || event.id !== expectedEventId)) {
    check("bundle_format", false, `the bundle is about event ${event && event.id}`);
    return verdict;
  }
  check("bundle_format", true, BUNDLE_FORMAT);

  const computedLeaf = await leafHash(encoder.encode(canonicalize(event)));
  if (
    !check(
      "leaf_hash",
      equal(computedLeaf, claimedLeaf),
      `SHA-256(0x00 || JCS(event)) = ${bytesToHex(computedLeaf)}` +
        (equal(computedLeaf, claimedLeaf) ? "" : `, the bundle says ${bytesToHex(claimedLeaf)}`),
    )
  ) {
    return verdict;
  }
  verdict.event = event;

  let checkpoint;
  try {
    checkpoint = await verifyCheckpoint(note, verifier);
  } catch (err) {
    if (err instanceof SignatureUnsupported) {
      verdict.unsupported = err.message;
      check("checkpoint_signature", false, err.message);
    } else {
      check("checkpoint_signature", false, err.message);
    }
    return verdict;
  }
  check("checkpoint_signature", true, `signed by ${verifier.name} at size ${checkpoint.treeSize}`);
  if (
    !check(
      "checkpoint_matches_proof",
      checkpoint.treeSize === treeSize && equal(checkpoint.root, root),
      `checkpoint size ${checkpoint.treeSize}, proof size ${treeSize}`,
    )
  ) {
    return verdict;
  }
  try {
    await verifyInclusion(leafIndex, treeSize, computedLeaf, hashes, root);
  } catch (err) {
    check("inclusion_proof", false, err.message);
    return verdict;
  }
  check("inclusion_proof", true, `leaf ${leafIndex} is in the tree of ${treeSize}`);

  if (!check("anchor_present", !!anchor, anchor ? "anchored" : "not anchored yet")) {
    return verdict;
  }
  const expectedLogId = await sha256(encoder.encode(checkpoint.origin));
  let logId;
  try {
    logId = hexToBytes(String(anchor.log_id), 32);
  } catch (err) {
    check("anchor_log_id", false, `malformed anchor: ${err.message}`);
    return verdict;
  }
  if (!check("anchor_log_id", equal(logId, expectedLogId), `SHA-256(origin) = ${bytesToHex(expectedLogId)}`)) {
    return verdict;
  }
  if (!pinned || !pinned.contract || pinned.chainId === undefined || pinned.chainId === null) {
    check("anchor_pinned", false, "no pinned chain and contract (the trust file could not be read): refused");
    return verdict;
  }
  // Compared without case; called as published (an EIP-55 checksummed address).
  const contract = String(pinned.contract);
  const contractKey = contract.toLowerCase();
  const pinnedChain = BigInt(pinned.chainId);
  let anchorChain;
  try {
    anchorChain = BigInt(anchor.chain_id);
  } catch (err) {
    check("anchor_pinned", false, `malformed anchor chain id: ${err.message}`);
    return verdict;
  }
  if (
    !check(
      "anchor_pinned",
      String(anchor.contract).toLowerCase() === contractKey && anchorChain === pinnedChain,
      `the anchor names contract ${anchor.contract} on chain ${anchor.chain_id}; pinned: ${pinned.contract} on chain ${pinnedChain}`,
    )
  ) {
    return verdict;
  }
  // The three chain reads go out together (one round trip, not three); they are still
  // checked one after the other, each only once the previous check passed.
  const reads = [
    readChainId(chain),
    readAnchoredRoot(chain, contract, logId, treeSize),
    readReceipt(chain, anchor.tx_hash),
  ];
  for (const read of reads) read.catch(() => {}); // a failure is seen where it is awaited
  try {
    const liveChainId = await reads[0];
    verdict.chainId = liveChainId;
    if (
      !check(
        "chain_id",
        liveChainId === pinnedChain,
        `the RPC serves chain ${liveChainId}; the pinned chain is ${pinnedChain}`,
      )
    ) {
      return verdict;
    }
    const stored = await reads[1];
    if (
      !check(
        "chain_root",
        equal(stored, root),
        `contract ${contract} holds ${bytesToHex(stored)} for size ${treeSize}`,
      )
    ) {
      return verdict;
    }
    const receipt = await reads[2];
    const mined = receipt !== null && BigInt(receipt.status || "0x0") === 1n;
    const toPinned = mined && String(receipt.to || "").toLowerCase() === contractKey;
    if (
      !check(
        "anchor_transaction",
        toPinned,
        !mined
          ? `transaction ${anchor.tx_hash} not found`
          : toPinned
            ? `mined in block ${BigInt(receipt.blockNumber)}`
            : `transaction ${anchor.tx_hash} called ${receipt.to}, not the pinned contract`,
      )
    ) {
      return verdict;
    }
    verdict.block = BigInt(receipt.blockNumber);
  } catch (err) {
    verdict.unreachable = err.message;
    check("chain_unreachable", false, `the chain could not be read: ${err.message}`);
    return verdict;
  }
  verdict.ok = true;
  return verdict;
}
