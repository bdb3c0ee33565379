// A seven-day temperature chart as inline SVG: each day's min-max bar, the mean as a
// line, a y-axis scale, and the allowed range drawn as dashed, labelled limit lines.

const NS = "http://www.w3.org/2000/svg";

function node(tag, attrs = {}, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

// A tick step giving four to six gridlines over `span` degrees.
function tickStep(span) {
  for (const step of [0.5, 1, 2, 5, 10, 20, 50]) if (span / step <= 6) return step;
  return 100;
}

// `labels`: {title, unit, limitMax(value), limitMin(value)} in the reader's language.
export function temperatureChart(probe, labels) {
  const W = 340;
  const H = 160;
  const left = 34;
  const right = 8;
  const top = 14;
  const bottom = 22;
  const days = probe.days || [];
  const band = probe.range_celsius || {};
  const values = [];
  for (const d of days) if (d.min !== null) values.push(d.min, d.max);
  if (band.min !== null && band.min !== undefined) values.push(band.min);
  if (band.max !== null && band.max !== undefined) values.push(band.max);
  let lo = values.length ? Math.min(...values) : 0;
  let hi = values.length ? Math.max(...values) : 10;
  if (hi - lo < 4) {
    hi += 2;
    lo -= 2;
  }
  const pad = (hi - lo) * 0.1;
  lo -= pad;
  hi += pad;
  const x = (i) => left + ((W - left - right) * (i + 0.5)) / Math.max(days.length, 1);
  const y = (v) => top + ((H - top - bottom) * (hi - v)) / (hi - lo);
  const svg = node("svg", {
    viewBox: `0 0 ${W} ${H}`,
    class: "chart",
    role: "img",
    "aria-label": `${probe.location || probe.device_id}: ${labels.title}`,
  });
  svg.append(node("rect", { x: left, y: top, width: W - left - right, height: H - top - bottom, class: "plot" }));
  // The y-axis scale: gridlines and their values.
  const step = tickStep(hi - lo);
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
    const value = Math.round(v * 10) / 10;
    svg.append(node("line", { x1: left, x2: W - right, y1: y(value), y2: y(value), class: "grid" }));
    svg.append(node("text", { x: left - 4, y: y(value) + 3, class: "axis tick", "text-anchor": "end" }, String(value)));
  }
  svg.append(node("text", { x: 2, y: 10, class: "axis unit" }, labels.unit || "°C"));
  for (const [value, name] of [
    [band.max, "max"],
    [band.min, "min"],
  ]) {
    if (value === null || value === undefined) continue;
    svg.append(node("line", { x1: left, x2: W - right, y1: y(value), y2: y(value), class: `threshold ${name}` }));
    const text = name === "max" && labels.limitMax ? labels.limitMax(value) : name === "min" && labels.limitMin ? labels.limitMin(value) : `${value}°`;
    svg.append(node("text", { x: W - right - 3, y: y(value) - 3, class: "axis threshold-label", "text-anchor": "end", "data-limit": name }, text));
  }
  let path = "";
  days.forEach((d, i) => {
    const label = d.date.slice(5);
    svg.append(node("text", { x: x(i), y: H - 6, class: "axis", "text-anchor": "middle" }, label));
    if (d.min === null) {
      svg.append(node("text", { x: x(i), y: (top + H - bottom) / 2, class: "axis nodata", "text-anchor": "middle" }, "–"));
      return;
    }
    const out = d.minutes_out_of_range ? " out" : "";
    svg.append(node("line", { x1: x(i), x2: x(i), y1: y(d.max), y2: y(d.min), class: "range" + out }));
    svg.append(node("circle", { cx: x(i), cy: y(d.mean), r: 3, class: "mean" + out }));
    path += `${path ? "L" : "M"}${x(i).toFixed(1)},${y(d.mean).toFixed(1)}`;
  });
  if (path) svg.querySelector("rect.plot").after(node("path", { d: path, class: "meanline" }));
  return svg;
}

// The grade's face: big smile (A), smile (B), flat (C), or a neutral circle for none.
export function gradeFace(grade) {
  const svg = node("svg", { viewBox: "0 0 64 64", class: `face grade-${grade || "none"}`, role: "img", "aria-label": grade || "-" });
  svg.append(node("circle", { cx: 32, cy: 32, r: 29, class: "face-bg" }));
  svg.append(node("circle", { cx: 22, cy: 25, r: 4, class: "face-eye" }));
  svg.append(node("circle", { cx: 42, cy: 25, r: 4, class: "face-eye" }));
  const mouths = {
    A: "M16,38 Q32,58 48,38 Z",
    B: "M18,40 Q32,52 46,40",
    C: "M19,44 L45,44",
  };
  if (mouths[grade]) {
    svg.append(node("path", { d: mouths[grade], class: grade === "A" ? "face-mouth filled" : "face-mouth" }));
  }
  return svg;
}
