// SVG charts drawn from API results: memory per GPU, per-layer time, and the
// throughput-vs-interactivity curve. Each chart has a text alternative (aria-label / title).

import { s } from "./dom.js";
import { compact, gb, ms, num, ticks } from "./format.js";

export const MEMORY_PARTS = [
  ["weights_bytes", "Weights", "seg-weights"],
  ["kv_cache_bytes", "KV cache", "seg-kv"],
  // Fixed per-sequence state of linear-attention / SSM layers (hybrid models only).
  ["state_bytes", "Recurrent state", "seg-state"],
  ["activations_bytes", "Activations", "seg-act"],
  ["reserve_bytes", "Reserve", "seg-reserve"],
];

// The parts a result has: the recurrent state only for models that hold one.
export function memoryParts(memory) {
  return MEMORY_PARTS.filter(([key]) => key !== "state_bytes" || memory[key] > 0);
}

export function memoryBar(memory, width) {
  const height = 34;
  const scale = Math.max(memory.capacity_bytes, memory.total_bytes) || 1;
  const usable = width - 2;
  const label =
    `Memory per GPU: ${gb(memory.total_bytes)} of ${gb(memory.capacity_bytes)} — ` +
    memoryParts(memory).map(([key, name]) => `${name} ${gb(memory[key])}`).join(", ");
  const over = memory.total_bytes - memory.capacity_bytes;
  // The capacity and overflow labels get a row each, so they never overlap.
  const rows = over > 0 ? 2 : 1;
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height + 16 * rows}`,
    width,
    height: height + 16 * rows,
    role: "img",
    "aria-label": label,
    class: "chart memory-chart",
  });
  svg.append(s("rect", { x: 1, y: 1, width: usable, height, class: "track", rx: 4 }));
  let x = 1;
  for (const [key, name, cls] of memoryParts(memory)) {
    const w = ((memory[key] || 0) / scale) * usable;
    if (w <= 0) continue;
    svg.append(
      s("rect", { x, y: 1, width: Math.max(w, 0.5), height, class: cls },
        s("title", { text: `${name}: ${gb(memory[key])}` })),
    );
    x += w;
  }
  const cap = 1 + (memory.capacity_bytes / scale) * usable;
  if (over > 0) {
    // Everything right of the capacity line is what does not fit: hatched, and said in words.
    svg.append(
      s("rect", { x: cap, y: height + 2, width: Math.max(0, 1 + usable - cap), height: 3, class: "overflow" },
        s("title", { text: `Over capacity by ${gb(over)}` })),
      s("text", {
        x: width - 2,
        y: height + 30,
        "text-anchor": "end",
        class: "axis-label over-label",
        text: `over by ${gb(over)}`,
      }),
    );
  }
  svg.append(s("line", { x1: cap, x2: cap, y1: 0, y2: height + 4, class: "capacity" }));
  svg.append(
    s("text", {
      x: Math.max(Math.min(cap, width - 2), 2),
      y: height + 14,
      "text-anchor": cap < width / 2 ? "start" : "end",
      class: "axis-label capacity-label",
      text: `capacity ${gb(memory.capacity_bytes)}`,
    }),
  );
  return svg;
}

const LAYER_PARTS = [
  ["compute_ms", "compute", "bar-compute"],
  ["memory_ms", "memory", "bar-memory"],
  ["communication_ms", "communication", "bar-comm"],
];

// One chart per phase: a row per layer type with the time its compute, memory traffic and
// communication would each take on their own, on one shared time axis (ms or µs).
// `scaleMax` (ms) puts two charts (config A and B) on the same axis.
export function layerMaxMs(layers, phase) {
  return Math.max(
    1e-9,
    ...layers.filter((l) => l[phase]).flatMap((l) => [...LAYER_PARTS.map(([key]) => l[phase][key]), l[phase].overhead_ms || 0]),
  );
}

const BOUND_SHORT = { communication: "comm." };

export function layerBars(layers, phase, width, scaleMax = null) {
  const rows = layers.filter((l) => l[phase]);
  const labelW = Math.min(160, Math.max(120, Math.round(width * 0.3)));
  const valueW = 74;
  const rowH = 30;
  const axisH = 34;
  const barW = Math.max(40, width - labelW - valueW - 8);
  const max = scaleMax || layerMaxMs(layers, phase);
  // Axis unit: µs when the longest bar is under 0.1 ms, else ms.
  const micro = max < 0.1;
  const unit = micro ? "µs" : "ms";
  const tk = ticks(micro ? max * 1000 : max, 4);
  const axisMax = (micro ? tk[tk.length - 1] / 1000 : tk[tk.length - 1]) || max;
  const X = (v) => labelW + (v / axisMax) * barW;
  const plotH = rows.length * rowH + 2;
  const height = plotH + axisH;
  const total = rows.reduce((acc, l) => acc + l[phase].time_ms, 0);
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": `${phase} time per layer type, total ${ms(total)}: ` +
      rows.map((l) => `${l.name} ${ms(l[phase].time_ms)} (${l[phase].bound}-bound)`).join("; "),
    class: "chart layer-chart",
  });
  for (const v of tk) {
    const x = X(micro ? v / 1000 : v);
    svg.append(
      s("line", { x1: x, x2: x, y1: 0, y2: plotH + 2, class: "grid" }),
      s("text", { x, y: plotH + 14, "text-anchor": "middle", class: "axis-label", text: num(v) }),
    );
  }
  svg.append(
    s("text", {
      x: labelW + barW / 2,
      y: plotH + 29,
      "text-anchor": "middle",
      class: "axis-title",
      text: `time per step (${unit}), each resource on its own`,
    }),
    s("text", { x: width - 2, y: plotH + 14, "text-anchor": "end", class: "axis-label", text: "modelled" }),
  );
  rows.forEach((layer, i) => {
    const y = i * rowH + 2;
    const cost = layer[phase];
    svg.append(
      s("text", { x: 0, y: y + 12, class: "row-label", text: layer.name },
        s("title", { text: `${layer.name} (${layer.layer_class}) × ${layer.count}` })),
      s("text", { x: 0, y: y + 24, class: "row-sub", text: layer.overhead ? "per step, not a layer" : `×${layer.count} · ${BOUND_SHORT[cost.bound] || cost.bound}-bound` }),
    );
    const parts = layer.overhead ? [["overhead_ms", "overhead", "bar-overhead"]] : LAYER_PARTS;
    parts.forEach(([key, name, cls], j) => {
      const w = X(cost[key]) - labelW;
      svg.append(
        s("rect", { x: labelW, y: y + j * 8 + 2, width: barW, height: 6, class: "track", rx: 2 }),
        s("rect", { x: labelW, y: y + j * 8 + 2, width: Math.max(w, cost[key] > 0 ? 1 : 0), height: 6, class: cls, rx: 2 },
          s("title", { text: `${layer.name} ${name}: ${ms(cost[key])}` })),
      );
    });
    svg.append(
      s("text", { x: width - 2, y: y + 16, "text-anchor": "end", class: "row-value", text: ms(cost.time_ms) },
        s("title", { text: `${layer.name}: ${ms(cost.time_ms)} per step, all ${layer.count} instances` })),
    );
  });
  return svg;
}

// Output tokens/s per GPU (y) against tokens/s per user (x), one point per concurrency.
export function throughputCurve(series, width, height = 300) {
  const pad = { left: 62, right: 16, top: 14, bottom: 44 };
  const all = series.flatMap((sr) => sr.points);
  const maxX = Math.max(1, ...all.map((p) => p.x));
  const maxY = Math.max(1, ...all.map((p) => p.y));
  const xt = ticks(maxX);
  const yt = ticks(maxY);
  const xMax = xt[xt.length - 1];
  const yMax = yt[yt.length - 1];
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const X = (v) => pad.left + (v / xMax) * plotW;
  const Y = (v) => pad.top + plotH - (v / yMax) * plotH;
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label":
      "Throughput per GPU against tokens per second per user: " +
      series
        .map((sr) => `${sr.label}: ` + sr.points.map((p) => `c=${p.c} ${num(p.x)} tok/s/user, ${num(p.y)} tok/s/GPU`).join("; "))
        .join(". "),
    class: "chart curve-chart",
  });
  for (const v of yt) {
    svg.append(
      s("line", { x1: pad.left, x2: width - pad.right, y1: Y(v), y2: Y(v), class: "grid" }),
      s("text", { x: pad.left - 6, y: Y(v) + 4, "text-anchor": "end", class: "axis-label", text: compact(v) }),
    );
  }
  for (const v of xt) {
    svg.append(
      s("line", { x1: X(v), x2: X(v), y1: pad.top, y2: pad.top + plotH, class: "grid" }),
      s("text", { x: X(v), y: pad.top + plotH + 16, "text-anchor": "middle", class: "axis-label", text: num(v) }),
    );
  }
  svg.append(
    s("text", { x: pad.left + plotW / 2, y: height - 6, "text-anchor": "middle", class: "axis-title", text: "tokens/s per user (interactivity)" }),
    s("text", { x: 14, y: pad.top + plotH / 2, "text-anchor": "middle", class: "axis-title", transform: `rotate(-90 14 ${pad.top + plotH / 2})`, text: "output tokens/s per GPU" }),
  );
  // Concurrency labels: drawn where they do not collide with one already placed (any series);
  // the current concurrency's label always is.
  const placed = [];
  const free = (x, y) => placed.every(([px, py]) => Math.abs(x - px) > 18 || Math.abs(y - py) > 11);
  const lines = [];
  const dots = [];
  const labels = [];
  for (const sr of series) {
    const pts = [...sr.points].sort((p, q) => p.c - q.c);
    if (pts.length > 1) {
      lines.push(s("polyline", { points: pts.map((p) => `${X(p.x)},${Y(p.y)}`).join(" "), class: `line ${sr.cls}` }));
    }
    for (const p of pts) {
      const current = p.c === sr.current;
      dots.push(
        s("circle", {
          cx: X(p.x), cy: Y(p.y), r: current ? 6 : 4,
          class: `dot ${sr.cls}${p.fits ? "" : " no-fit"}${p.queued ? " queued" : ""}${current ? " current" : ""}${sr.pick ? " pickable" : ""}`,
          "data-concurrency": p.c,
          tabindex: sr.pick ? 0 : null,
          role: sr.pick ? "button" : null,
          onclick: sr.pick ? () => sr.pick(p.c) : null,
          onkeydown: sr.pick ? (e) => (e.key === "Enter" || e.key === " ") && sr.pick(p.c) : null,
        }, s("title", { text: `${sr.label} — concurrency ${p.c}: ${num(p.x)} tok/s/user, ${num(p.y)} tok/s/GPU${p.fits ? "" : " (does not fit in memory)"}${p.queued ? " (requests queue)" : ""}` })),
      );
    }
    const order = [...pts].sort((p, q) => (q.c === sr.current) - (p.c === sr.current));
    for (const p of order) {
      const current = p.c === sr.current;
      const lx = X(p.x) + 7;
      const ly = Y(p.y) - 7;
      if (!current && !free(lx, ly)) continue;
      placed.push([lx, ly]);
      labels.push(s("text", { x: lx, y: ly, class: `dot-label${current ? " current" : ""}`, text: String(p.c) }));
    }
  }
  svg.append(...lines, ...dots, ...labels);
  return svg;
}
