// Reading the anchored root straight from the chain through a JSON-RPC endpoint (eth_call).
// WebCrypto has no Keccak-256, so the function selector is a constant; the Python test
// tests/e2e/test_selector.py recomputes it from contracts/build/CheckpointAnchor.json.

// keccak256("rootAt(bytes32,uint64)")[:4]
export const ROOT_AT_SELECTOR = "930b6ace";

const TIMEOUT_MS = 15000;
// Calls asked for in the same turn go out as one JSON-RPC batch of at most this many (the
// embedded chain's read-only endpoint answers up to 20; Hardhat and most nodes more).
const BATCH = 20;
// rootAt is a view reading one storage slot (a few thousand gas). Asked with this much
// rather than the node's default (the embedded endpoint's is its whole per-call cap, and a
// batch may spend three caps), so a page's reads of many anchors fit in one batch.
const ROOT_AT_GAS = "0x30d40"; // 200,000

// A JSON-RPC client for one endpoint; answers are memoised per (method, params), since a
// page verifies many items against the same few anchors. Calls made in the same turn
// travel together as a batch; a call the batch did not answer (an endpoint without batches,
// a per-call error) is asked again on its own, and only that answer counts.
export function jsonRpc(url) {
  let id = 0;
  const cache = new Map();
  let queued = [];

  async function post(body, what) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      return await response.json();
    } catch (err) {
      throw new Error(`${url} did not answer ${what}: ${err.message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async function call(method, params) {
    id += 1;
    const answer = await post({ jsonrpc: "2.0", id, method, params }, method);
    if (!answer || answer.error) {
      throw new Error(`${method} failed at ${url}: ${JSON.stringify(answer && answer.error)}`);
    }
    return answer.result;
  }

  async function batch(calls) {
    const byId = new Map();
    try {
      const answers = await post(
        calls.map((c) => ({ jsonrpc: "2.0", id: c.id, method: c.method, params: c.params })),
        "a batch",
      );
      if (Array.isArray(answers)) {
        for (const a of answers) if (a && typeof a === "object" && !a.error && "result" in a) byId.set(a.id, a);
      }
    } catch {
      // asked again one by one below
    }
    for (const c of calls) {
      if (byId.has(c.id)) c.resolve(byId.get(c.id).result);
      else call(c.method, c.params).then(c.resolve, c.reject);
    }
  }

  function flush() {
    if (!queued.length) return;
    const calls = queued;
    queued = [];
    for (let at = 0; at < calls.length; at += BATCH) {
      const part = calls.slice(at, at + BATCH);
      if (part.length === 1) call(part[0].method, part[0].params).then(part[0].resolve, part[0].reject);
      else batch(part);
    }
  }

  function enqueue(method, params) {
    return new Promise((resolve, reject) => {
      id += 1;
      queued.push({ id, method, params, resolve, reject });
      if (queued.length === 1) queueMicrotask(flush);
    });
  }

  return {
    url,
    rpc(method, params) {
      const key = method + JSON.stringify(params);
      if (!cache.has(key)) {
        const pending = enqueue(method, params);
        pending.catch(() => cache.delete(key));
        cache.set(key, pending);
      }
      return cache.get(key);
    },
    // Send what is queued now rather than at the end of this turn (a page about to build
    // its DOM starts its chain reads first).
    send: flush,
  };
}

function hex32(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ABI-encoded calldata of rootAt(bytes32 logId, uint64 treeSize).
export function rootAtCall(logId, treeSize) {
  if (logId.length !== 32) throw new Error("logId must be 32 bytes");
  const size = BigInt(treeSize);
  if (size < 0n || size >= 1n << 64n) throw new Error("treeSize must fit in uint64");
  return "0x" + ROOT_AT_SELECTOR + hex32(logId) + size.toString(16).padStart(64, "0");
}

export async function readChainId(chain) {
  return BigInt(await chain.rpc("eth_chainId", []));
}

// The root the contract stores for (logId, treeSize): 32 bytes (zero when none).
export async function readAnchoredRoot(chain, contract, logId, treeSize) {
  const answer = await chain.rpc("eth_call", [
    { to: contract, data: rootAtCall(logId, treeSize), gas: ROOT_AT_GAS },
    "latest",
  ]);
  const hex = String(answer).replace(/^0x/, "");
  if (hex.length !== 64 || !/^[0-9a-fA-F]+$/.test(hex)) {
    throw new Error(`unexpected eth_call answer ${String(answer).slice(0, 80)}`);
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export async function readReceipt(chain, txHash) {
  if (!txHash) return null;
  const receipt = await chain.rpc("eth_getTransactionReceipt", [txHash]);
  return receipt && typeof receipt === "object" ? receipt : null;
}
