// Talking to the API: JSON in and out, the API key from sessionStorage, errors as
// {error, detail} turned into exceptions that keep the body (e.g. a CSV's row report).

const KEY = "sunledger.apiKey";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY);
}

export function setApiKey(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

export function authHeaders() {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

export async function api(path, { method = "GET", json, body, headers = {}, auth = true } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (auth) Object.assign(init.headers, authHeaders());
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 30000);
  init.signal = controller.signal;
  let response;
  try {
    response = await fetch(path, init);
  } finally {
    clearTimeout(timer);
  }
  const type = response.headers.get("content-type") || "";
  const answer = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

// The data the server carried in the page's HTML (api/routers/pages.py): a
// <script type="application/json" id="data-NAME"> block holding the very bytes its endpoint
// gives, checked exactly as the endpoint's answer would be. Taken once (a later render asks
// the endpoint again, for fresh data); null when the page has no such block.
export function carried(name) {
  const node = document.getElementById(`data-${name}`);
  if (!node) return null;
  node.remove();
  try {
    return JSON.parse(node.textContent);
  } catch {
    return null;
  }
}

// Create an element: el("div", {class: "x", text: "y"}, child, ...).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function day(iso) {
  return iso ? String(iso).slice(0, 10) : "";
}

export function moment(iso) {
  return iso ? String(iso).slice(0, 16).replace("T", " ") : "";
}
