// Reading the anchored root straight from the chain through a JSON-RPC endpoint (eth_call).
// WebCrypto has no Keccak-256, so the function selector is a constant; the Python test
// tests/e2e/test_selector.py recomputes it from contracts/build/CheckpointAnchor.json.

// keccak256("rootAt(bytes32,uint64)")[:4]
export const ROOT_AT_SELECTOR = "930b6ace";

const TIMEOUT_MS = 15000;

// A JSON-RPC client for one endpoint; answers are memoised per (method, params), since a
// page verifies many items against the same few anchors.
export function jsonRpc(url) {
  let id = 0;
  const cache = new Map();
  async function call(method, params) {
    id += 1;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    let answer;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
        signal: controller.signal,
      });
      answer = await response.json();
    } catch (err) {
      throw new Error(`${url} did not answer ${method}: ${err.message}`);
    } finally {
      clearTimeout(timer);
    }
    if (!answer || answer.error) {
      throw new Error(`${method} failed at ${url}: ${JSON.stringify(answer && answer.error)}`);
    }
    return answer.result;
  }
  return {
    url,
    rpc(method, params) {
      const key = method + JSON.stringify(params);
      if (!cache.has(key)) {
        const pending = call(method, params);
        pending.catch(() => cache.delete(key));
        cache.set(key, pending);
      }
      return cache.get(key);
    },
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
    { to: contract, data: rootAtCall(logId, treeSize) },
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
