// Wires the page: loads catalogs, keeps the view state (mirrored in the URL), re-estimates
// (debounced) whenever an input changes, and renders results or the API's error inline.

import { api } from "./api.js";
import { $, clear, h } from "./dom.js";
import { renderForm, showFieldErrors } from "./form.js";
import { resolvePlan, tpOptions } from "./plan.js";
import { redraw, renderCompare, renderSingle } from "./results.js";
import { renderLaunchBox } from "./launch_box.js";
import { initSearch, searchQuery, showSearch } from "./search.js";
import { defaultConfig, fromQuery, requestBody, toQuery } from "./state.js";

const DEBOUNCE_MS = 250;

const app = {
  models: [],
  hardware: [],
  options: { dtypes: [], frameworks: [], concurrency_sweep: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] },
  layers: new Map(), // model_id → /api/layers response
  view: null,
  results: { a: null, b: null },
  notices: { a: [], b: [] },
  search: "",
  seq: 0,
  timer: null,
  timerPending: false,
};

const active = () => app.view.configs[app.view.side];
const hardwareOf = (config) => app.hardware.find((hw) => hw.id === config.hardware);

function findModel(id) {
  const key = String(id || "").toLowerCase();
  return app.models.find((m) => m.model_id.toLowerCase() === key || m.hf_model_id.toLowerCase() === key);
}

async function constraintsFor(modelId) {
  if (!modelId) return null;
  if (!app.layers.has(modelId)) {
    try {
      app.layers.set(modelId, await api.layers(modelId));
    } catch {
      return null;
    }
  }
  return app.layers.get(modelId)?.constraints || null;
}

// Make a config refer to known ids and a valid plan; returns what had to change.
async function normalise(config) {
  const notes = [];
  const model = findModel(config.model);
  if (!model) {
    const fallback = findModel("TinyLlama/TinyLlama-1.1B-Chat-v1.0") || app.models[0];
    if (config.model) notes.push(`Model “${config.model}” is not known here; showing ${fallback?.name || "none"}.`);
    config.model = fallback ? fallback.model_id : "";
  } else {
    config.model = model.model_id;
  }
  const hw = app.hardware.find((p) => p.id === config.hardware || p.aliases.includes(String(config.hardware).toLowerCase()));
  if (!hw) {
    if (config.hardware) notes.push(`Hardware “${config.hardware}” is not known; using ${app.hardware[0]?.id}.`);
    config.hardware = app.hardware[0]?.id || "";
  } else {
    config.hardware = hw.id;
  }
  const plan = resolvePlan(config, await constraintsFor(config.model), hardwareOf(config));
  return { plan, notes: [...notes, ...plan.notes] };
}

// A shared link that asked for something unknown or impossible says so at the top of the page
// (the form shows what was used instead).
function showUrlBanner(notes) {
  if (!notes.length) return;
  $("url-banner-text").textContent = `This link asked for something this page cannot show as given: ${notes.join(" ")}`;
  $("url-banner").hidden = false;
  $("url-banner-close").addEventListener("click", () => ($("url-banner").hidden = true), { once: true });
}

function showNotice(side) {
  const el = $("plan-notice");
  const notes = app.notices[side] || [];
  el.hidden = notes.length === 0;
  el.textContent = notes.join(" ");
}

async function renderActiveForm() {
  const config = active();
  const { plan } = await normalise(config);
  renderForm(config, {
    models: app.models,
    hardware: app.hardware,
    options: app.options,
    plan,
    constraints: await constraintsFor(config.model),
    search: app.search,
  });
  showNotice(app.view.side);
  const state = app.results[app.view.side];
  showFieldErrors(state?.error?.problems || []);
}

function syncUrl() {
  const query = [toQuery(app.view), searchQuery()].filter(Boolean).join("&");
  const url = `${location.pathname}${query ? `?${query}` : ""}`;
  if (url !== `${location.pathname}${location.search}`) history.replaceState(null, "", url);
}

function renderLayout() {
  const compare = app.view.compare;
  $("compare-toggle").checked = compare;
  $("side-picker").hidden = !compare;
  $(`side-${app.view.side}`).checked = true;
  $("copy-side").textContent = app.view.side === "a" ? "Copy B → A" : "Copy A → B";
  document.body.classList.toggle("comparing", compare);
  document.body.dataset.side = app.view.side;
  $("single-view").hidden = compare;
  $("compare-view").hidden = !compare;
}

function renderErrors() {
  const box = $("error-box");
  clear(box);
  const sides = app.view.compare ? ["a", "b"] : ["a"];
  const failed = sides.filter((side) => app.results[side]?.error);
  box.hidden = failed.length === 0;
  for (const side of failed) {
    const err = app.results[side].error;
    const prefix = app.view.compare ? `Config ${side.toUpperCase()}: ` : "";
    box.append(
      h(
        "div",
        { class: "error-item" },
        h("strong", { text: `${prefix}${prefix ? "cannot" : "Cannot"} estimate (${err.status ? `HTTP ${err.status}` : "no answer"})` }),
        h("p", { class: "error-detail", text: err.message }),
        err.problems.length > 1
          ? h("ul", {}, err.problems.map((p) => h("li", { text: `${p.field}: ${p.message} [${p.rule}]` })))
          : null,
        err.suggestions.length ? h("p", { text: `Did you mean: ${err.suggestions.join(", ")}?` }) : null,
      ),
    );
  }
  if (failed.length) {
    const fields = failed.flatMap((side) => app.results[side].error.problems.map((p) => p.field));
    const inForm = fields.some((f) => ["isl", "osl", "concurrency"].includes(f));
    box.append(
      h("p", {
        class: "error-hint",
        text: inForm
          ? "Fix the highlighted field in the form; results come back as soon as the input is valid."
          : "Change the highlighted choice in the form; results come back as soon as it is valid.",
      }),
    );
  }
  showFieldErrors(app.results[app.view.side]?.error?.problems || []);
}

function renderResults() {
  renderErrors();
  if (app.view.compare) {
    clear($("single-view"));
    renderCompare($("compare-view"), app.results);
  } else {
    clear($("compare-view"));
    renderSingle($("single-view"), app.results.a);
    if (app.results.a?.result) renderLaunchBox($("single-view"), requestBody(app.view.configs.a));
  }
}

// Concurrencies the curve samples: powers of two up to twice the larger of the asked load and
// the most the KV cache admits (so the knee where requests start to queue is on the curve),
// plus that maximum itself.
function sweepLoads(result) {
  const admitted = Math.min(result?.max_concurrency || 0, 16384);
  const top = Math.min(Math.max(2 * Math.max(result?.concurrency || 1, admitted), 8), 32768);
  const loads = [];
  for (let c = 1; c <= top; c *= 2) loads.push(c);
  if (admitted > 0 && !loads.includes(admitted)) loads.push(admitted);
  return loads.sort((a, b) => a - b);
}

// One request for the whole curve (POST /estimate/sweep); a newer estimate aborts it.
async function sweep(side, config, seq, signal) {
  const body = curveBody(config);
  let results = [];
  try {
    const concurrencies = sweepLoads(app.results[side]?.result);
    const answer = await api.sweep({ ...body, concurrencies }, signal);
    results = answer.results;
  } catch (error) {
    if (error.name === "AbortError") return;
  }
  if (seq !== app.seq) return;
  app.results[side] = { ...app.results[side], sweep: results, sweeping: false };
}

async function estimateAll() {
  const seq = ++app.seq;
  app.controller?.abort(); // superseded requests are cancelled, not just ignored
  const controller = new AbortController();
  app.controller = controller;
  const sides = app.view.compare ? ["a", "b"] : ["a"];
  $("status").textContent = "Estimating…";
  document.body.classList.add("busy");
  await Promise.all(
    sides.map(async (side) => {
      const config = app.view.configs[side];
      try {
        const result = await api.estimate(requestBody(config), controller.signal);
        if (seq !== app.seq) return;
        const previous = app.results[side];
        const sameCurve = previous?.sweepKey === sweepKey(config);
        app.results[side] = {
          result,
          request: requestBody(config),
          error: null,
          sweep: sameCurve ? previous.sweep : [],
          sweeping: !sameCurve,
          sweepKey: sweepKey(config),
        };
      } catch (error) {
        if (seq !== app.seq || error.name === "AbortError") return;
        app.results[side] = { result: null, error, sweep: [], sweeping: false };
      }
    }),
  );
  if (seq !== app.seq) return;
  renderResults();
  const pending = sides.filter((side) => app.results[side]?.sweeping);
  await Promise.all(pending.map((side) => sweep(side, app.view.configs[side], seq, controller.signal)));
  if (seq !== app.seq) return;
  if (pending.length) renderResults();
  $("status").textContent = "";
  document.body.classList.remove("busy");
  document.body.dataset.ready = String(seq);
  if (!app.timerPending) document.body.dataset.pending = "0";
}

// The curve depends on everything but the concurrency (the sweep supplies its own).
function curveBody(config) {
  const body = requestBody(config);
  delete body.concurrency;
  return body;
}

function sweepKey(config) {
  return JSON.stringify(curveBody(config));
}

function schedule(delay = DEBOUNCE_MS) {
  syncUrl();
  document.body.dataset.pending = "1"; // until the newest estimate has landed (tests wait on it)
  clearTimeout(app.timer);
  app.timerPending = true;
  app.timer = setTimeout(() => {
    app.timerPending = false;
    estimateAll();
  }, delay);
}

async function changed(mutate, { rerender = true } = {}) {
  mutate(active());
  app.notices[app.view.side] = [];
  if (rerender) await renderActiveForm();
  else showNotice(app.view.side);
  schedule();
}

function onGpusChange(config, gpus) {
  config.gpus = gpus;
  const constraints = app.layers.get(config.model)?.constraints;
  const domain = hardwareOf(config)?.scale_up_domain_size || 8;
  const tps = tpOptions(constraints, gpus).filter((tp) => tp <= domain);
  config.tp = tps.length ? tps[tps.length - 1] : 1;
  config.dp = 1; // the server's layouts then give the PP (resolvePlan)
  config.ep = 1;
  config.cp = 1;
}

function bindForm() {
  const onInt = (id, apply) =>
    $(id).addEventListener("change", (e) => changed((c) => apply(c, Number.parseInt(e.target.value, 10))));
  $("model").addEventListener("change", (e) =>
    changed((c) => {
      c.model = e.target.value;
      c.ep = 1;
      c.moe_dtype = "";
    }),
  );
  $("model-search").addEventListener("input", async (e) => {
    app.search = e.target.value;
    await renderActiveForm();
  });
  $("model-search").addEventListener("keydown", (e) => {
    const select = $("model");
    if (e.key === "ArrowDown") {
      e.preventDefault();
      select.focus();
    } else if (e.key === "Enter") {
      e.preventDefault();
      const first = [...select.options].find((o) => o.value !== active().model) || select.options[0];
      if (first) {
        select.value = first.value;
        select.dispatchEvent(new Event("change"));
      }
    }
  });
  $("hardware").addEventListener("change", (e) => changed((c) => (c.hardware = e.target.value)));
  onInt("gpus", onGpusChange);
  onInt("tp", (c, v) => {
    c.tp = v;
    c.pp = 1;
  });
  onInt("dp", (c, v) => (c.dp = v));
  onInt("ep", (c, v) => (c.ep = v));
  onInt("cp", (c, v) => (c.cp = v)); // a DP change that CP no longer divides resets CP to 1
  $("sp").addEventListener("change", (e) => changed((c) => (c.sp = e.target.checked)));
  for (const key of ["weight_dtype", "moe_dtype", "kv_dtype", "framework"]) {
    $(key).addEventListener("change", (e) => changed((c) => (c[key] = e.target.value), { rerender: false }));
  }
  for (const key of ["isl", "osl", "concurrency"]) {
    $(key).addEventListener("input", (e) => changed((c) => (c[key] = e.target.value), { rerender: false }));
  }
  $("config-form").addEventListener("submit", (e) => e.preventDefault());
  // A click on a point of the concurrency curve asks that concurrency (results.js sends it).
  document.addEventListener("pick-concurrency", (e) => {
    app.view.side = e.detail.side;
    changed((c) => (c.concurrency = String(e.detail.concurrency)));
  });
  $("import-file").addEventListener("change", onImport);
}

function bindCompare() {
  $("compare-toggle").addEventListener("change", async (e) => {
    app.view.compare = e.target.checked;
    if (!app.view.compare) app.view.side = "a";
    renderLayout();
    await renderActiveForm();
    schedule(0);
  });
  for (const side of ["a", "b"]) {
    $(`side-${side}`).addEventListener("change", async () => {
      app.view.side = side;
      renderLayout();
      await renderActiveForm();
      syncUrl();
    });
  }
  $("copy-side").addEventListener("click", async () => {
    const from = app.view.side === "a" ? "b" : "a";
    app.view.configs[app.view.side] = { ...app.view.configs[from] };
    await renderActiveForm();
    schedule(0);
  });
}

async function onImport(e) {
  const input = e.target;
  const file = input.files?.[0];
  const status = $("import-status");
  if (!file) return;
  status.classList.remove("error-text");
  status.textContent = `Importing ${file.name}…`;
  try {
    const answer = await api.importFile(file, $("import-hf-id").value.trim());
    app.models = await api.models();
    app.layers.delete(answer.model_id);
    const warn = answer.warnings.length ? ` (${answer.warnings.length} note(s): ${answer.warnings.slice(0, 2).join("; ")})` : "";
    status.textContent = `Imported ${answer.hf_model_id} from a ${answer.source_format}${warn}.`;
    app.search = "";
    $("model-search").value = "";
    await changed((c) => {
      c.model = answer.model_id;
      c.ep = 1;
    });
  } catch (error) {
    status.classList.add("error-text");
    status.textContent = `Import failed: ${error.message}`;
  } finally {
    input.value = "";
  }
}

// A plan from the search view (its `estimate_args`) becomes config A of the estimate view.
async function loadPlan(args) {
  const config = { ...defaultConfig() };
  for (const key of ["model", "hardware", "gpus", "tp", "dp", "pp", "ep", "cp", "sp"]) config[key] = args[key];
  for (const key of ["weight_dtype", "moe_dtype", "kv_dtype", "framework"]) config[key] = args[key] || "";
  for (const key of ["isl", "osl", "concurrency"]) config[key] = String(args[key]);
  app.view.compare = false;
  app.view.side = "a";
  app.view.configs.a = config;
  app.notices.a = (await normalise(config)).notes;
  showSearch(false);
  renderLayout();
  await renderActiveForm();
  schedule(0);
}

async function init() {
  try {
    const [models, hardware, options] = await Promise.all([api.models(), api.hardware(), api.options()]);
    app.models = models;
    app.hardware = hardware;
    app.options = options;
  } catch (error) {
    $("error-box").hidden = false;
    $("error-box").textContent = `Cannot load the catalogs: ${error.message}`;
    return;
  }
  app.view = fromQuery(location.search);
  for (const side of ["a", "b"]) {
    const { notes } = await normalise(app.view.configs[side]);
    app.notices[side] = notes;
  }
  if (!app.view.compare) app.notices.b = [];
  showUrlBanner([...app.notices.a, ...app.notices.b]);
  renderLayout();
  await renderActiveForm();
  bindForm();
  bindCompare();
  initSearch({ catalogs: () => app, loadPlan, syncUrl, currentModel: () => findModel(active().model)?.hf_model_id });
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(redraw, 150);
  });
  schedule(0);
}

init();
