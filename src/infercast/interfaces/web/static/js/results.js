// Renders estimate results: KPI cards, memory, per-layer time, the concurrency curve, and the
// side-by-side comparison. Charts are sized to their container when drawn.

import { layerBars, layerMaxMs, memoryBar, memoryParts, throughputCurve } from "./charts.js";
import { clear, h, setCommand } from "./dom.js";
import { cliCommand, download, resultCsv } from "./export.js";
import { compact, gb, ms, num, ratio } from "./format.js";

const KPIS = [
  ["ttft", "TTFT", (r) => ms(r.ttft_ms), "Time to first token (mean, queueing included)"],
  ["tpot", "TPOT", (r) => ms(r.tpot_ms), "Time per output token after the first"],
  [
    "tput",
    "Throughput / GPU",
    (r) => `${compact(r.decode ? r.output_tokens_per_s_per_gpu : r.total_tokens_per_s_per_gpu)} tok/s`,
    "Generated tokens per second per GPU (encoders: input tokens)",
  ],
  ["user", "Speed / user", (r) => (r.decode ? `${num(r.tokens_per_s_per_user)} tok/s` : "–"), "Decode speed one user sees (1000 / TPOT)"],
  ["e2e", "Request latency", (r) => ms(r.e2e_latency_ms), "TTFT + (output − 1) × TPOT"],
  ["rps", "Requests / s", (r) => compact(r.requests_per_s), "Completed requests per second (whole replica)"],
];

const SERIES = { a: ["Config A", "series-a"], b: ["Config B", "series-b"] };

function card(title, id, ...children) {
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id, text: title }), ...children);
}

function width(el, fallback = 480) {
  const w = el.clientWidth;
  return w > 0 ? w : fallback;
}

function kpiRow(result, side) {
  return h(
    "div",
    { class: `kpis${result.fits ? "" : " no-fit"}` },
    KPIS.map(([key, label, value, help]) =>
      h(
        "div",
        { class: "kpi", id: `kpi-${key}-${side}`, title: help },
        h("span", { class: "kpi-label", text: label }),
        h("span", { class: "kpi-value", text: value(result) }),
      ),
    ),
  );
}

// A plain warning over the figures when the plan does not fit, or fits but queues: the
// figures then describe a deployment that cannot run, or one where most requests wait.
function kpiWarning(result, side) {
  if (verdictOf(result) === "queues") {
    return h(
      "p",
      { class: "kpi-warning queues", id: `kpi-warning-${side}`, role: "note" },
      h("strong", { text: `Queues: ${result.admitted_concurrency} of ${result.concurrency} requests run at once` }),
      ` — ${(result.fit?.advice || []).join(" ")}`,
    );
  }
  if (result.fits) return null;
  return h(
    "p",
    { class: "kpi-warning", id: `kpi-warning-${side}`, role: "note" },
    h("strong", { text: "Does not fit in memory" }),
    " — the figures below are what this plan would do if it fitted; see Memory per GPU for why and what to change.",
  );
}

const VERDICTS = {
  fits: ["fits", "Fits"],
  queues: ["queues", "Queues"],
  does_not_fit: ["no-fit", "Does not fit"],
};

function verdictOf(result) {
  return result.fit?.status || (result.fits ? "fits" : "does_not_fit");
}

function fitBadge(result, side) {
  const max = result.max_concurrency;
  const status = verdictOf(result);
  const [cls, word] = VERDICTS[status];
  return h(
    "div",
    { class: `fit ${cls}`, id: `fit-${side}` },
    h("strong", { text: word }),
    ` — ${result.fit?.detail || result.fit_reason}`,
    result.fits && max > 0 && max < 1e8 ? ` Max concurrency that fits: ${max}; admitted at once: ${result.admitted_concurrency}.` : "",
    status === "fits" ? null : h("p", { class: "fit-advice", text: (result.fit?.advice || []).join(" ") }),
  );
}

function memoryCard(result, side, title) {
  const chart = h("div", { class: "chart-box" });
  const legend = h(
    "ul",
    { class: "legend" },
    memoryParts(result.memory).map(([key, name, cls]) =>
      h("li", {}, h("span", { class: `swatch ${cls}`, "aria-hidden": "true" }), `${name} ${gb(result.memory[key])}`),
    ),
    h("li", { class: "legend-total", text: `Total ${gb(result.memory.total_bytes)} / ${gb(result.memory.capacity_bytes)}` }),
  );
  const el = card(title, `memory-title-${side}`, fitBadge(result, side), chart, legend);
  el.classList.add("memory-card");
  return { el, draw: () => chart.replaceChildren(memoryBar(result.memory, width(chart))) };
}

// The step's time beyond its layer types' as a row of its own ("overhead"), so the rows add up
// to the step time in the phase's heading.
function withOverhead(result, phase) {
  const step = result[phase];
  if (!step) return result.layers;
  const layered = result.layers.reduce((acc, l) => acc + (l[phase]?.time_ms || 0), 0);
  const overhead = step.time_ms - layered;
  if (!(overhead > 1e-9)) return result.layers;
  const cost = { compute_ms: 0, memory_ms: 0, communication_ms: 0, overhead_ms: overhead, time_ms: overhead, bound: "overhead" };
  return [...result.layers, { name: "overhead", layer_class: "per-step overhead", count: 1, overhead: true, [phase]: cost }];
}

function layersCard(result, side, title, scale = {}) {
  const boxes = { prefill: h("div", { class: "chart-box" }), decode: h("div", { class: "chart-box" }) };
  const legend = h(
    "ul",
    { class: "legend" },
    [["bar-compute", "compute"], ["bar-memory", "memory traffic"], ["bar-comm", "communication"], ["bar-overhead", "overhead"]].map(([cls, name]) =>
      h("li", {}, h("span", { class: `swatch ${cls}`, "aria-hidden": "true" }), name),
    ),
    h("li", { class: "hint", text: "Right: modelled time of all instances of the layer type. Overhead: the step's time not spent in any layer type — the engine's fixed cost per step (scheduling, kernel launches, sampling) and per-layer launch costs, as calibrated." }),
  );
  const phases = h(
    "div",
    { class: "phases" },
    h("div", { class: "phase" }, h("h3", { text: `Prefill — ${ms(result.prefill.time_ms)} per step, ${result.prefill.bottleneck}-bound` }), boxes.prefill),
    result.decode
      ? h("div", { class: "phase" }, h("h3", { text: `Decode — ${ms(result.decode.time_ms)} per step, ${result.decode.bottleneck}-bound` }), boxes.decode)
      : h("p", { class: "hint", text: "No decode phase (encoder model)." }),
  );
  const pp = result.plan.pp;
  const scope = h("p", {
    class: "hint layer-scope",
    text:
      pp > 1
        ? `Per GPU, summed over the ${pp} pipeline stages (each GPU holds 1/${pp} of the layers).`
        : "Per GPU, one step; every GPU holds its shard of every layer.",
  });
  const el = card(title, `layers-title-${side}`, scope, legend, phases);
  return {
    el,
    draw: () => {
      boxes.prefill.replaceChildren(layerBars(withOverhead(result, "prefill"), "prefill", width(boxes.prefill), scale.prefill));
      if (result.decode) {
        boxes.decode.replaceChildren(layerBars(withOverhead(result, "decode"), "decode", width(boxes.decode), scale.decode));
      }
    },
  };
}

function curveCard(entries, title) {
  const chart = h("div", { class: "chart-box", id: "curve" });
  const encoder = entries.some(([, state]) => state?.result && !state.result.decode);
  const series = entries
    .filter(([, state]) => state?.sweep?.length && state.result?.decode)
    .map(([side, state]) => ({
      label: SERIES[side][0],
      cls: SERIES[side][1],
      current: state.result?.concurrency,
      pick: (c) => document.dispatchEvent(new CustomEvent("pick-concurrency", { detail: { side, concurrency: c } })),
      points: state.sweep.map((r) => ({
        c: r.concurrency,
        x: r.tokens_per_s_per_user,
        y: r.output_tokens_per_s_per_gpu,
        fits: r.fits,
        queued: r.fit?.status === "queues",
      })),
    }));
  const pending = entries.some(([, state]) => state?.sweeping);
  const legend = h(
    "ul",
    { class: "legend" },
    series.length > 1 ? series.map((sr) => h("li", {}, h("span", { class: `swatch ${sr.cls}`, "aria-hidden": "true" }), sr.label)) : null,
    h("li", { class: "hint", text: "Labels: concurrency (requests in flight). Ringed: the current one. Amber: requests queue (more than the KV cache admits). Hollow: does not fit in memory. Click a point to estimate it." }),
  );
  const el = card(title, "curve-title", legend, chart);
  return {
    el,
    draw: () => {
      if (!series.length) {
        const text = encoder
          ? "Encoder model: no decode phase, so no per-user token speed to plot."
          : pending
            ? "Sweeping concurrency …"
            : "No points.";
        chart.replaceChildren(h("p", { class: "hint", text }));
        return;
      }
      chart.replaceChildren(throughputCurve(series, width(chart)));
    },
  };
}

function notesBlock(result) {
  if (!result.notes?.length) return null;
  return h(
    "details",
    { class: "notes" },
    h("summary", { text: `Assumptions (${result.notes.length})` }),
    h("ul", {}, result.notes.map((n) => h("li", { text: n }))),
  );
}

// The server words the plan (hardware, GPUs, degrees): the page only shows it.
function planText(r) {
  return r.plan.line;
}

function compareTable(a, b) {
  const rows = [
    ["Model", (r) => r.model_id.split("_").slice(1).join("_") || r.model_id, null],
    ["Plan", planText, null],
    ["Dtypes", (r) => `${r.dtypes.weight_dtype}${r.dtypes.moe_dtype ? `/${r.dtypes.moe_dtype}` : ""}, KV ${r.dtypes.kv_dtype}`, null],
    ["Load", (r) => `${r.isl} in / ${r.osl} out × ${r.concurrency}`, null],
    ["TTFT", (r) => ms(r.ttft_ms), (r) => r.ttft_ms],
    ["TPOT", (r) => ms(r.tpot_ms), (r) => r.tpot_ms],
    ["Throughput / GPU", (r) => `${num(r.output_tokens_per_s_per_gpu)} tok/s`, (r) => r.output_tokens_per_s_per_gpu],
    ["Speed / user", (r) => `${num(r.tokens_per_s_per_user)} tok/s`, (r) => r.tokens_per_s_per_user],
    ["Request latency", (r) => ms(r.e2e_latency_ms), (r) => r.e2e_latency_ms],
    ["Memory / GPU", (r) => `${gb(r.memory_per_gpu_bytes)} of ${gb(r.memory.capacity_bytes)}`, (r) => r.memory_per_gpu_bytes],
    ["Fits", (r) => (r.fits ? "yes" : `no — over by ${gb(r.memory.total_bytes - r.memory.capacity_bytes)}`), null],
  ];
  return h(
    "table",
    { class: "compare-table", id: "compare-table" },
    h("caption", { class: "visually-hidden", text: "Config A and B side by side" }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Metric" }), h("th", { scope: "col", class: "col-a", text: "A" }), h("th", { scope: "col", class: "col-b", text: "B" }), h("th", { scope: "col", text: "B ÷ A" }))),
    h(
      "tbody",
      {},
      rows.map(([label, show, value]) =>
        h(
          "tr",
          {},
          h("th", { scope: "row", text: label }),
          h("td", { text: a ? show(a) : "–" }),
          h("td", { text: b ? show(b) : "–" }),
          h("td", { class: "ratio", text: a && b && value ? ratio(value(b), value(a)) : "" }),
        ),
      ),
    ),
  );
}

function placeholder(state, label) {
  if (state?.error) return h("p", { class: "hint error-text", text: `${label}: ${state.error.message}` });
  return h("p", { class: "hint", text: `${label}: estimating…` });
}

let drawers = [];

export function redraw() {
  for (const draw of drawers) draw();
}

export function renderSingle(root, state) {
  drawers = [];
  clear(root);
  const result = state?.result;
  if (!result) {
    // An error is already shown (with its fields) above the results; say nothing twice.
    if (!state?.error) root.append(placeholder(state, "Config A"));
    return;
  }
  const memory = memoryCard(result, "a", "Memory per GPU");
  const layers = layersCard(result, "a", "Time per layer type (one step)");
  const curve = curveCard([["a", state]], "Throughput per GPU vs speed per user");
  root.append(
    ...[
      kpiWarning(result, "a"),
      h("p", { class: "hint plan-line", id: "plan-a", text: `Plan: ${planText(result)}` }),
      kpiRow(result, "a"),
      memory.el,
      h("div", { class: "grid-2" }, layers.el, curve.el),
      notesBlock(result),
      exportBlock(result, state.request),
    ].filter(Boolean),
  );
  drawers = [memory.draw, layers.draw, curve.draw];
  redraw();
}

export function renderCompare(root, states) {
  drawers = [];
  clear(root);
  const a = states.a?.result;
  const b = states.b?.result;
  const curve = curveCard([["a", states.a], ["b", states.b]], "Throughput per GPU vs speed per user");
  root.append(
    h(
      "div",
      { class: "grid-2" },
      card("Config A vs B", "compare-title", compareTable(a, b), placeholderIf(states.a, a, "Config A"), placeholderIf(states.b, b, "Config B")),
      curve.el,
    ),
  );
  drawers.push(curve.draw);
  const row = (make) => {
    const cells = [["a", a], ["b", b]].map(([side, r]) =>
      r ? make(r, side) : { el: h("div", { class: "card" }, placeholder(states[side], `Config ${side.toUpperCase()}`)), draw: () => {} },
    );
    root.append(h("div", { class: "grid-2" }, cells.map((c) => c.el)));
    drawers.push(...cells.map((c) => c.draw));
  };
  row((r, side) => memoryCard(r, side, `Memory per GPU — Config ${side.toUpperCase()}`));
  // Both configs' layer charts share one time axis per phase, so bar lengths compare.
  const scale = {};
  for (const phase of ["prefill", "decode"]) {
    const maxes = [a, b].filter((r) => r?.[phase]).map((r) => layerMaxMs(r.layers, phase));
    if (maxes.length) scale[phase] = Math.max(...maxes);
  }
  row((r, side) => layersCard(r, side, `Time per layer type — Config ${side.toUpperCase()} (shared time axis)`, scale));
  redraw();
}

function placeholderIf(state, result, label) {
  return result ? null : placeholder(state, label);
}

// Downloads of this result and the same estimate as a command line.
function exportBlock(result, request) {
  const command = request ? cliCommand(request) : "";
  const status = h("span", { class: "hint", id: "export-status", "aria-live": "polite" });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(command);
      status.textContent = "Copied.";
    } catch {
      status.textContent = "Select the command above and copy it.";
    }
  };
  return card(
    "Take it elsewhere",
    "export-title",
    h("div", { class: "export-buttons" },
      h("button", { type: "button", id: "download-json", onclick: () => download("infercast-estimate.json", "application/json", JSON.stringify(result, null, 2)) }, "Download JSON"),
      h("button", { type: "button", id: "download-csv", onclick: () => download("infercast-estimate.csv", "text/csv", resultCsv(result)) }, "Download CSV"),
      command ? h("button", { type: "button", id: "copy-cli", onclick: copy }, "Copy as CLI command") : null,
      status,
    ),
    command ? h("pre", { class: "cli-command" }, setCommand(h("code", { id: "cli-command" }), command)) : null,
  );
}
