// The "Find the best plan" view: SLA inputs → POST /search → Pareto chart (hover shows the
// plan, a click loads it into the estimate view), the top plans, the why-not summary, CSV and
// JSON downloads and the launch command of the selected plan. Its inputs live in the URL.

import { api } from "./api.js";
import { $, clear, h, s, setCommand } from "./dom.js";
import { ms, num, ticks, usd } from "./format.js";
import { defaultSearch, plansCsv, searchBody, searchFromQuery, searchToQuery } from "./search_state.js";

const ENGINES = [["vllm", "vLLM"], ["sglang", "SGLang"], ["trtllm", "TensorRT-LLM"]];
const ctx = { shown: false, state: defaultSearch(), result: null, selected: null, seq: 0, deps: null, modelChosen: false };

export function searchShown() {
  return ctx.shown;
}

export function searchQuery() {
  return searchToQuery(ctx.shown, ctx.state);
}

function field(id, label, input, hint) {
  return h("div", { class: "field" }, h("label", { for: id, text: label }), input, hint ? h("p", { class: "hint", text: hint }) : null);
}

function numberInput(id, key, attrs = {}) {
  const el = h("input", { type: "number", id, step: "any", inputmode: "decimal", ...attrs });
  el.value = ctx.state[key];
  el.addEventListener("input", () => update(key, el.value));
  return el;
}

function checks(name, key, values) {
  return h(
    "div",
    { class: "search-checks", role: "group", "aria-label": name },
    values.map(([value, text]) => {
      const box = h("input", { type: "checkbox", value, id: `s-${key}-${value}` });
      box.checked = ctx.state[key].includes(value);
      box.addEventListener("change", () => {
        const set = new Set(ctx.state[key]);
        if (box.checked) set.add(value);
        else set.delete(value);
        update(key, values.map(([v]) => v).filter((v) => set.has(v)));
      });
      return h("label", { class: "check", for: box.id }, box, ` ${text}`);
    }),
  );
}

function update(key, value) {
  ctx.state[key] = value;
  ctx.deps.syncUrl();
}

function renderForm(root) {
  const { models, hardware } = ctx.deps.catalogs();
  const model = h("select", { id: "s-model" }, models.map((m) => h("option", { value: m.hf_model_id, text: m.hf_model_id })));
  model.value = ctx.state.model;
  model.addEventListener("change", () => {
    ctx.modelChosen = true;
    update("model", model.value);
  });
  const objective = h(
    "select",
    { id: "s-objective" },
    [["throughput_per_gpu", "throughput per GPU"], ["cost", "cost ($ / M tokens)"], ["gpus", "fewest GPUs"]].map(([v, t]) => h("option", { value: v, text: t })),
  );
  objective.value = ctx.state.objective;
  objective.addEventListener("change", () => update("objective", objective.value));
  const prices = h("input", { type: "text", id: "s-prices", placeholder: "h100=2.5, h200=3.5", autocomplete: "off", spellcheck: "false" });
  prices.value = ctx.state.prices;
  prices.addEventListener("input", () => update("prices", prices.value));
  const examples = h("input", { type: "checkbox", id: "s-example-prices" });
  examples.checked = ctx.state.example_prices;
  examples.addEventListener("change", () => update("example_prices", examples.checked));
  const run = h("button", { type: "submit", id: "s-run", class: "primary", text: "Find the best plan" });
  const form = h(
    "form",
    { id: "search-form", class: "panel search-form", novalidate: true },
    h("h2", { text: "Find the best plan" }),
    field("s-model", "Model", model),
    h("fieldset", {}, h("legend", { text: "Hardware" }), checks("Hardware", "hardware", hardware.map((hw) => [hw.id, hw.id]))),
    h("div", { class: "row three" },
      field("s-max-gpus", "Max GPUs / replica", numberInput("s-max-gpus", "max_gpus", { min: 1 })),
      field("s-isl", "Input tokens", numberInput("s-isl", "isl", { min: 1 })),
      field("s-osl", "Output tokens", numberInput("s-osl", "osl", { min: 1 }))),
    h("fieldset", {}, h("legend", { text: "SLA (empty: no limit)" }),
      h("div", { class: "row three" },
        field("s-ttft", "TTFT ≤ ms", numberInput("s-ttft", "ttft_max_ms", { min: 0 })),
        field("s-tpot", "TPOT ≤ ms", numberInput("s-tpot", "tpot_max_ms", { min: 0 })),
        field("s-rate", "≥ tok/s per user", numberInput("s-rate", "min_tokens_per_s_per_user", { min: 0 }))),
      field("s-users", "Concurrent users (fills in replicas)", numberInput("s-users", "users", { min: 1 }))),
    h("fieldset", {}, h("legend", { text: "Formats and engines" }),
      checks("KV cache formats", "kv_dtypes", [["bf16", "KV bf16"], ["fp8", "KV fp8"]]),
      checks("Engines", "frameworks", ENGINES)),
    h("fieldset", {}, h("legend", { text: "Objective and prices" }),
      field("s-objective", "Order by", objective),
      field("s-prices", "$ per GPU-hour", prices, "Your prices, e.g. h100=2.5"),
      h("label", { class: "check", for: "s-example-prices" }, examples, " use the shipped EXAMPLE prices (illustrative, not quotes)")),
    run,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    runSearch();
  });
  root.append(form);
}

export async function runSearch() {
  const seq = ++ctx.seq;
  const out = $("search-results");
  document.body.dataset.searchReady = "0";
  $("search-status").textContent = "Searching…";
  try {
    const result = await api.search(searchBody(ctx.state));
    if (seq !== ctx.seq) return;
    ctx.result = result;
    ctx.error = null;
  } catch (error) {
    if (seq !== ctx.seq) return;
    ctx.result = null;
    ctx.error = error;
  }
  ctx.selected = null;
  renderResults(out);
  document.body.dataset.searchReady = String(seq);
}

function renderResults(out) {
  clear(out);
  const status = $("search-status");
  if (ctx.error) {
    status.textContent = "";
    const err = ctx.error;
    out.append(h("div", { class: "error-box", role: "alert", id: "search-error" },
      h("strong", { text: `Cannot search (${err.status ? `HTTP ${err.status}` : "no answer"})` }),
      h("p", { class: "error-detail", text: err.message })));
    return;
  }
  const r = ctx.result;
  status.textContent = `${r.evaluated} plans evaluated, ${r.feasible} meet the SLA, ${r.probes} steady states solved${r.truncated ? " (stopped at a bound)" : ""}.`;
  out.append(whyNot(r), paretoChart(r), topTable(r), downloads(r), h("div", { id: "search-launch" }));
  for (const note of r.notes) out.append(h("p", { class: "hint", text: `Note: ${note}` }));
}

function whyNot(r) {
  const box = h("section", { class: "panel why-not", id: "why-not", "aria-label": "Why not" }, h("h3", { text: "Why not" }));
  if (!r.rejected.length) box.append(h("p", { class: "hint", text: "No plan was rejected." }));
  for (const j of r.rejected) box.append(h("p", { class: "rejection", "data-constraint": j.constraint, text: j.nearest_miss }));
  return box;
}

const W = 640, H = 300, PAD = { l: 64, r: 16, t: 12, b: 40 };

function paretoChart(r) {
  const points = r.pareto;
  const box = h("section", { class: "panel pareto", "aria-label": "Pareto front" },
    h("h3", { text: "Pareto front: output tokens/s per GPU against tokens/s per user" }));
  if (!points.length) {
    box.append(h("p", { class: "hint", text: "No plan meets the SLA: the front is empty." }));
    return box;
  }
  const xMax = ticks(Math.max(...points.map((p) => p.tokens_per_s_per_user))).at(-1);
  const yMax = ticks(Math.max(...points.map((p) => p.output_tokens_per_s_per_gpu))).at(-1);
  const x = (v) => PAD.l + (v / xMax) * (W - PAD.l - PAD.r);
  const y = (v) => H - PAD.b - (v / yMax) * (H - PAD.t - PAD.b);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "pareto-chart", id: "pareto-chart", role: "img", "aria-label": "Pareto front" });
  for (const t of ticks(xMax)) svg.append(s("text", { x: x(t), y: H - PAD.b + 16, "text-anchor": "middle", class: "tick", text: num(t) }));
  for (const t of ticks(yMax)) svg.append(s("text", { x: PAD.l - 6, y: y(t) + 4, "text-anchor": "end", class: "tick", text: num(t) }));
  svg.append(
    s("line", { x1: PAD.l, y1: H - PAD.b, x2: W - PAD.r, y2: H - PAD.b, class: "axis" }),
    s("line", { x1: PAD.l, y1: PAD.t, x2: PAD.l, y2: H - PAD.b, class: "axis" }),
    s("text", { x: (W + PAD.l) / 2, y: H - 4, "text-anchor": "middle", class: "axis-label", text: "tokens/s per user" }),
    s("polyline", { class: "front-line", points: points.map((p) => `${x(p.tokens_per_s_per_user)},${y(p.output_tokens_per_s_per_gpu)}`).join(" ") }),
  );
  const tip = h("div", { class: "pareto-tip", id: "pareto-tip", role: "status", hidden: true });
  points.forEach((p, i) => {
    const dot = s("circle", {
      cx: x(p.tokens_per_s_per_user), cy: y(p.output_tokens_per_s_per_gpu), r: 5,
      class: "pareto-point", tabindex: 0, "data-index": i, "aria-label": p.label,
    }, s("title", { text: p.label }));
    const show = () => {
      tip.hidden = false;
      tip.textContent = `${p.label}: ${num(p.output_tokens_per_s_per_gpu)} tok/s/GPU, ${num(p.tokens_per_s_per_user)} tok/s/user, TTFT ${ms(p.ttft_ms)}, TPOT ${ms(p.tpot_ms)} — click to open in the estimate view`;
    };
    dot.addEventListener("mouseenter", show);
    dot.addEventListener("focus", show);
    dot.addEventListener("click", () => ctx.deps.loadPlan(p.estimate_args));
    dot.addEventListener("keydown", (e) => { if (e.key === "Enter") ctx.deps.loadPlan(p.estimate_args); });
    svg.append(dot);
  });
  box.append(svg, tip);
  return box;
}

function topTable(r) {
  const priced = r.plans.some((p) => p.usd_per_million_output_tokens !== null);
  // Headers with spaces can wrap, so the table fits a 1280 px window with prices.
  const heads = ["#", "plan", "C", "replicas", "GPUs", "TTFT", "TPOT", "tok/s per GPU", "tok/s per user", ...(priced ? ["$ per M tokens", "$ per hour"] : []), ""];
  const rows = r.plans.map((p, i) => {
    const open = h("button", { type: "button", class: "link-button", text: "Open", "aria-label": `Open plan ${i + 1} in the estimate view` });
    open.addEventListener("click", () => ctx.deps.loadPlan(p.estimate_args));
    const tr = h("tr", { class: "plan-row", "data-index": i },
      h("td", { text: i + 1 }), h("td", { text: p.label.replace(/ C=\d+$/, "") }), h("td", { text: p.concurrency }),
      h("td", { text: p.replicas }), h("td", { text: p.total_gpus }), h("td", { text: ms(p.ttft_ms) }), h("td", { text: ms(p.tpot_ms) }),
      h("td", { text: num(p.output_tokens_per_s_per_gpu) }), h("td", { text: num(p.tokens_per_s_per_user) }),
      ...(priced ? [h("td", { text: usd(p.usd_per_million_output_tokens, 3) }), h("td", { text: usd(p.usd_per_hour, 2) })] : []),
      h("td", {}, open));
    tr.addEventListener("click", (e) => { if (e.target !== open) selectPlan(i); });
    return tr;
  });
  return h("section", { class: "panel top-plans", "aria-label": "Top plans" },
    h("h3", { text: r.plans.length ? "Top plans (click a row for its launch command)" : "No plan meets the SLA" }),
    r.plans.length ? h("div", { class: "table-scroll" }, h("table", { id: "top-plans" },
      h("thead", {}, h("tr", {}, heads.map((t) => h("th", { text: t })))), h("tbody", {}, rows))) : null);
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function downloads(r) {
  const csv = h("button", { type: "button", id: "s-download-csv", text: "Download CSV" });
  csv.addEventListener("click", () => download("infercast-plans.csv", "text/csv", plansCsv(r.plans)));
  const json = h("button", { type: "button", id: "s-download-json", text: "Download JSON" });
  json.addEventListener("click", () => download("infercast-search.json", "application/json", JSON.stringify(r, null, 2)));
  return h("div", { class: "downloads" }, csv, json);
}

async function selectPlan(i) {
  ctx.selected = i;
  for (const tr of document.querySelectorAll("#top-plans .plan-row")) tr.classList.toggle("selected", Number(tr.dataset.index) === i);
  const plan = ctx.result.plans[i];
  const box = clear($("search-launch"));
  const engine = h("select", { id: "s-engine" }, ENGINES.map(([v, t]) => h("option", { value: v, text: t })));
  if (ENGINES.some(([v]) => v === plan.framework)) engine.value = plan.framework;
  const pre = h("pre", { id: "s-launch-command", class: "launch-command" });
  const show = async () => {
    const a = plan.estimate_args;
    try {
      const cmd = await api.launch({ engine: engine.value, model: a.model, tp: a.tp, dp: a.dp, pp: a.pp, ep: a.ep, moe_tp: a.moe_tp, cp: a.cp, sp: a.sp,
        weight_dtype: a.weight_dtype, kv_dtype: a.kv_dtype, concurrency: a.concurrency, isl: a.isl, osl: a.osl });
      setCommand(pre, cmd.command + (cmd.extra_options_yaml ? `\n# extra-llm-api-options.yaml:\n${cmd.extra_options_yaml}` : "") + cmd.notes.map((n) => `\n# ${n}`).join("") + `\n# flags of ${cmd.version}`);
    } catch (error) {
      pre.textContent = `${error.message}`;
    }
    document.body.dataset.launchReady = String(i);
  };
  engine.addEventListener("change", show);
  box.append(h("section", { class: "panel", "aria-label": "Launch command" }, h("h3", { text: `Launch command: plan ${i + 1}` }), field("s-engine", "Engine", engine), pre));
  await show();
}

export function showSearch(shown) {
  ctx.shown = shown;
  $("search-view").hidden = !shown;
  document.querySelector("main.layout").hidden = shown;
  $("tab-search").setAttribute("aria-pressed", String(shown));
  $("tab-estimate").setAttribute("aria-pressed", String(!shown));
  ctx.deps.syncUrl();
}

// Opening the view searches for the model the estimate view shows, until the user picks one
// here (or a link names one with s_model): it offered Llama-3.1-8B whatever was on screen.
function adoptModel() {
  const id = ctx.modelChosen ? null : ctx.deps.currentModel();
  if (!id || id === ctx.state.model) return;
  ctx.state.model = id;
  $("s-model").value = id;
}

// deps: catalogs() → {models, hardware}; loadPlan(estimate_args); syncUrl(); currentModel() →
// the estimate view's model (HF id).
export function initSearch(deps) {
  ctx.deps = deps;
  const parsed = searchFromQuery(location.search);
  ctx.state = parsed.state;
  ctx.modelChosen = new URLSearchParams(location.search).has("s_model");
  const root = clear($("search-view"));
  renderForm(root);
  root.append(h("section", { class: "search-out" }, h("div", { id: "search-status", class: "status", role: "status", "aria-live": "polite" }), h("div", { id: "search-results" })));
  $("tab-estimate").addEventListener("click", () => showSearch(false));
  $("tab-search").addEventListener("click", () => {
    adoptModel();
    showSearch(true);
  });
  showSearch(parsed.shown);
  if (parsed.shown) runSearch();
}
