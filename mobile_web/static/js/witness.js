// Checking a checkpoint's witness cosignatures in the browser (C2SP tlog-cosignature,
// Ed25519 "cosignature/v1", signed-note type 0x04) with WebCrypto, against a witness
// policy: the "witnesses" section of a trust file, {quorum, keys: [{name, vkey, label}]}.
//
// One export: witnessedBy(note, policy) resolves to
//   {met, quorum, total, labels: [label of each pinned witness that cosigned], error}
// A line that names a pinned key (name and key ID) but does not verify makes the
// whole check fail (error set, met false), as c2sp.org/signed-note asks.

const encoder = new TextEncoder();

function b64(text) {
  try {
    const binary = atob(text);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

function hex(bytes) {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function pinnedKey(entry) {
  // "<name>+<8 hex key ID>+<base64(0x04 || key)>": the base64 part may hold "+" too.
  const text = String(entry.vkey || "");
  const first = text.indexOf("+");
  const second = text.indexOf("+", first + 1);
  if (first <= 0 || second < 0) return null;
  const name = text.slice(0, first);
  const id = text.slice(first + 1, second);
  const raw = b64(text.slice(second + 1));
  if (!raw || raw.length !== 33 || raw[0] !== 0x04) return null;
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new Uint8Array([...encoder.encode(name + "\n"), ...raw])),
  );
  const keyId = digest.slice(0, 4);
  if (hex(keyId) !== String(id).toLowerCase()) return null;
  const key = await crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, ["verify"]);
  return { name, keyId, key, label: entry.label || name };
}

// Results per policy object and exact note text: the same checkpoint under the same policy
// is checked once per page, whatever number of bundles carry it.
const checked = new WeakMap();

export function witnessedBy(note, policy) {
  if (typeof note !== "string" || !policy || typeof policy !== "object") return checkCosignatures(note, policy);
  let notes = checked.get(policy);
  if (!notes) checked.set(policy, (notes = new Map()));
  if (!notes.has(note)) notes.set(note, checkCosignatures(note, policy));
  return notes.get(note).then((result) => ({ ...result, labels: [...result.labels] }));
}

async function checkCosignatures(note, policy) {
  const keys = (policy && Array.isArray(policy.keys) ? policy.keys : []);
  const quorum = policy && Number.isInteger(policy.quorum) ? policy.quorum : keys.length;
  const result = { met: false, quorum, total: keys.length, labels: [], error: null };
  const split = note.lastIndexOf("\n\n");
  if (split < 0) {
    result.error = "malformed note";
    return result;
  }
  const body = encoder.encode(note.slice(0, split + 1));
  const lines = note.slice(split + 2).split("\n").filter((line) => line);
  try {
    for (const entry of keys) {
      const pinned = await pinnedKey(entry);
      if (!pinned) throw new Error(`witness key ${entry.name || "?"} is not an Ed25519 cosignature key`);
      for (const line of lines) {
        const [dash, name, blobText] = line.split(" ");
        const blob = b64(blobText || "");
        if (dash !== "\u2014" || name !== pinned.name || !blob || hex(blob.slice(0, 4)) !== hex(pinned.keyId)) continue;
        const ok =
          blob.length === 76 &&
          (await (async () => {
            const time = new DataView(blob.buffer, blob.byteOffset + 4, 8).getBigUint64(0).toString();
            const message = new Uint8Array([...encoder.encode(`cosignature/v1\ntime ${time}\n`), ...body]);
            return crypto.subtle.verify({ name: "Ed25519" }, pinned.key, blob.slice(12), message);
          })());
        if (!ok) throw new Error(`invalid cosignature by witness ${pinned.name}`);
        if (!result.labels.includes(pinned.label)) result.labels.push(pinned.label);
      }
    }
  } catch (err) {
    result.error = err.message;
    result.labels = [];
    return result;
  }
  result.met = result.labels.length >= quorum;
  return result;
}
