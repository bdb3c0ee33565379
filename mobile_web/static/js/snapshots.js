// 可视, the kitchen the public can see: each camera's latest public snapshot (faces
// blurred), its time in the kitchen's local time, and a tick computed here: this browser
// verifies the snapshot's log event (proof, signed checkpoint, anchor on chain: verify.js)
// and hashes the image's bytes with WebCrypto; the tick is shown only when the event
// verified and names exactly that hash. The picture shown is made from the very bytes that
// were hashed. A camera that published nothing recently says so.

import { el } from "./api.js";
import { compareSnapshot, deriveSnapshot } from "./facts.js";
import { bytesToHex } from "./verify.js";

const TEXT = {
  zh: {
    title: "可视厨房",
    none: "此摄像头最近 {minutes} 分钟没有发布画面",
    never: "此摄像头尚未发布画面",
    matches: "✓ 图片与日志中的哈希一致",
    differs: "✗ 图片与日志中的哈希不一致",
    missing: "✗ 图片无法取得",
    unverified: "✗ 日志事件未通过验证",
    waiting: "图片哈希一致，等待上链",
    checking: "核对图片…",
    taken: "拍摄于",
    local: "当地时间",
    record: "✗ 页面上的拍摄时间或摄像头与日志不符",
    registry: "（名称来自登记信息，未经证明）",
  },
  en: {
    title: "The kitchen, live",
    none: "This camera published nothing in the last {minutes} minutes",
    never: "This camera has not published a snapshot yet",
    matches: "✓ image matches the logged hash",
    differs: "✗ image does not match the logged hash",
    missing: "✗ image could not be fetched",
    unverified: "✗ the log event did not verify",
    waiting: "image matches, waiting for the anchor",
    checking: "checking the image…",
    taken: "taken",
    local: "local time",
    record: "✗ the time or camera shown differs from the log",
    registry: "(name from the registry, not proven)",
  },
};

function say(key, values = {}) {
  const lang = (document.documentElement.lang || "zh").startsWith("en") ? "en" : "zh";
  return TEXT[lang][key].replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
}

export function localTime(iso, timeZone) {
  const when = new Date(iso);
  try {
    return new Intl.DateTimeFormat(undefined, {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    }).format(when);
  } catch {
    return when.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }
}

// The image's bytes and their SHA-256 (lower-case hex), or null when it cannot be fetched.
export async function fetchHashed(url) {
  const answer = await fetch(url);
  if (!answer.ok) return null;
  const bytes = new Uint8Array(await answer.arrayBuffer());
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return { bytes, sha256: bytesToHex(digest), type: answer.headers.get("content-type") || "image/jpeg" };
}

// The picture as a data: URL of the hashed bytes. Not a blob: URL: setting one held a
// throttled phone's page for 150 ms once (its registration with the browser process).
const IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/webp"]);
export function dataUrl({ bytes, type }) {
  const mime = IMAGE_TYPES.has(String(type).split(";")[0].trim()) ? String(type).split(";")[0].trim() : "image/jpeg";
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return `data:${mime};base64,${btoa(binary)}`;
}

function mark(tick, state, key) {
  tick.dataset.state = state;
  tick.className = `badge ${state}`;
  tick.textContent = say(key);
}

// The tick's state: "ok" only when the event verified in full and names the image's hash.
// `verify(eventId)` gives the verdict on the event's bundle (the page's ProofBoard: the
// same check, against the pinned trust roots, done once per page).
export async function judgeSnapshot(latest, got, verify, cameraId) {
  if (!got) return ["fail", "missing"];
  let verdict;
  try {
    verdict = await verify(latest.event.event_id);
  } catch {
    return ["fail", "unverified"];
  }
  const logged = verdict.event && verdict.event.payload ? verdict.event.payload.evidence_sha256 : null;
  if (!logged || got.sha256 !== logged) return ["fail", verdict.event ? "differs" : "unverified"];
  // The tick is also a claim about the caption (this camera, this time): both must be the log's.
  if (cameraId !== undefined && compareSnapshot({ camera_id: cameraId, latest }, verdict.event).length) return ["fail", "record"];
  if (verdict.ok) return ["ok", "matches"];
  const waiting = verdict.failed && verdict.failed.name === "anchor_present";
  return waiting ? ["waiting", "waiting"] : ["fail", "unverified"];
}

function camera(cam, timeZone, board) {
  const figure = el("figure", { class: "snapshot", "data-camera-id": cam.camera_id });
  const caption = el(
    "figcaption",
    { class: "muted small" },
    el("strong", {}, cam.name || cam.camera_id),
    " ",
    el("span", { class: "unproven", "data-proven": "false" }, say("registry")),
  );
  figure.append(caption);
  if (!cam.recent) {
    const key = cam.latest ? "none" : "never";
    figure.append(el("p", { class: "warn", "data-role": "no-recent" }, say(key, { minutes: 2 * cam.every_minutes })));
  }
  if (!cam.latest) return figure;
  const latest = cam.latest;
  const img = el("img", { alt: say("title"), "data-sha256": latest.sha256 });
  const tick = el("span", { class: "badge pending", "data-role": "image-hash", "data-state": "pending" }, say("checking"));
  const proof = el("span", { class: "slot" });
  // The time is the verified event's, shown once it verified ("…" until then).
  const taken = el("span", { "data-role": "taken-at" }, "…");
  caption.append(` · ${say("taken")} `, taken, ` (${say("local")})`);
  figure.prepend(img);
  figure.append(el("div", {}, proof, " ", tick));
  const fetched = fetchHashed(latest.url).catch(() => null);
  fetched.then((got) => {
    if (got) img.src = dataUrl(got);
  });
  // The proof badge (ProofBoard, counted in the page's banner), and the tick judged here.
  // The record's camera and time must be the event's: a row edited to make an old image look
  // recent, or to put another camera's image here, fails the item and is named.
  board.item(proof, [latest.event], {
    label: `snapshot of ${cam.camera_id}`,
    onVerified: ([event]) => {
      taken.textContent = localTime(deriveSnapshot(event).taken_at, timeZone);
      return compareSnapshot(cam, event);
    },
  });
  fetched
    .then((got) => judgeSnapshot(latest, got, (id) => board.verify(id), cam.camera_id))
    .then(([state, key]) => mark(tick, state, key));
  return figure;
}

// The 可视 section for a sunshine record's `snapshots` ({timezone, cameras}); "" when no
// camera of the premises publishes snapshots.
export function renderSnapshots(snapshots, board) {
  if (!snapshots || !Array.isArray(snapshots.cameras) || !snapshots.cameras.length) return "";
  return el(
    "section",
    { class: "card", "data-section": "snapshots" },
    el("h2", {}, say("title")),
    snapshots.cameras.map((cam) => camera(cam, snapshots.timezone, board)),
  );
}
