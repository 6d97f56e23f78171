// Fills the configuration form from a config and the catalogs, offering only valid values.

import { $, clear, h } from "./dom.js";
import { gb, num, params } from "./format.js";

export function fillSelect(select, options, value) {
  clear(select);
  for (const opt of options) {
    const [optValue, label, title] = Array.isArray(opt) ? opt : [opt, String(opt)];
    select.append(h("option", { value: optValue, title, text: label }));
  }
  select.value = String(value);
  if (select.selectedIndex < 0 && select.options.length) select.selectedIndex = 0;
}

export function modelLabel(model) {
  const size = model.is_moe
    ? `${model.total_params_formatted}, ${params(model.active_params)} active`
    : model.total_params_formatted;
  const tag = model.source === "imported" ? " · imported" : "";
  return `${model.name} (${size})${tag}`;
}

export function fillModels(select, models, value, filter = "") {
  const needle = filter.trim().toLowerCase();
  clear(select);
  for (const model of models) {
    const haystack = `${model.name} ${model.model_id} ${model.hf_model_id}`.toLowerCase();
    const match = !needle || haystack.includes(needle);
    if (!match && model.model_id !== value) continue;
    select.append(
      h("option", { value: model.model_id, title: model.hf_model_id, text: modelLabel(model) }),
    );
  }
  select.value = value;
}

export function describeModel(model, constraints) {
  if (!model) return "";
  const parts = [`${model.hf_model_id}`, `${model.num_layers} layers`];
  if (constraints) {
    parts.push(`${constraints.attention_heads.join("/")} heads, ${constraints.kv_heads.join("/")} KV`);
    if (constraints.num_experts) {
      parts.push(`${constraints.num_experts} experts, top-${constraints.experts_per_token}`);
    }
  }
  return parts.join(" · ");
}

// "NVIDIA B200 (HGX B200, 180GB)" → "B200 180GB": vendor and packaging go to the tooltip.
export function shortName(hw) {
  let name = hw.name.startsWith(`${hw.vendor} `) ? hw.name.slice(hw.vendor.length + 1) : hw.name;
  name = name.replace(/^Instinct\s+/i, "").replace(/\s*\([^)]*\)/g, "").trim();
  return /\d\s*GB/i.test(name) ? name : `${name} ${Math.round(hw.memory_bytes / 1e9)}GB`;
}

export function describeHardware(hw) {
  if (!hw) return "";
  const bf16 = hw.peak_flops?.bf16;
  return [
    `${gb(hw.memory_bytes)}`,
    `${num(hw.memory_bandwidth_bytes_per_s / 1e12)} TB/s`,
    bf16 ? `${num(bf16 / 1e12)} TFLOPS bf16` : null,
    `${hw.scale_up_name} × ${hw.scale_up_domain_size}`,
  ]
    .filter(Boolean)
    .join(" · ");
}

// Render the whole form for one config. `plan` is resolvePlan's result.
export function renderForm(config, ctx) {
  const { models, hardware, options, plan, constraints, search } = ctx;
  fillModels($("model"), models, config.model, search);
  $("model-info").textContent = describeModel(
    models.find((m) => m.model_id === config.model),
    constraints,
  );
  fillSelect(
    $("hardware"),
    hardware.map((hw) => [hw.id, shortName(hw), `${hw.name} (${hw.id})`]),
    config.hardware,
  );
  $("hardware-info").textContent = describeHardware(hardware.find((hw) => hw.id === config.hardware));
  fillSelect($("gpus"), plan.gpus, config.gpus);
  fillSelect($("tp"), plan.tp, config.tp);
  fillSelect($("dp"), plan.dp, config.dp);
  $("pp").value = String(config.pp);
  $("pp").textContent = String(config.pp);
  fillSelect($("ep"), plan.ep, config.ep);
  fillSelect($("cp"), plan.cp, config.cp);
  $("cp").disabled = plan.cp.length < 2;
  $("cp").title = plan.cp.length < 2 ? "Needs DP > 1: CP ranks are taken from the DP ranks" : "";
  const sp = $("sp");
  sp.disabled = !plan.sp; // the server lists the TP degrees where SP takes effect
  sp.checked = Boolean(config.sp) && plan.sp;
  // on the label too: a disabled control shows no tooltip of its own
  sp.title = sp.closest("label").title = sp.disabled
    ? "Sequence parallelism needs TP > 1 (ignored at TP 1)"
    : "Split norms and TP all-reduces over the TP group (reduce-scatter + all-gather)";
  const isMoe = Boolean(constraints?.num_experts);
  $("ep").disabled = !isMoe;
  $("ep").title = isMoe ? "" : "Dense model: no experts to place";

  const dtypes = options.dtypes;
  fillSelect($("weight_dtype"), [["", "checkpoint"], ...dtypes], config.weight_dtype);
  fillSelect($("moe_dtype"), [["", isMoe ? "checkpoint" : "n/a (dense)"], ...dtypes], config.moe_dtype);
  $("moe_dtype").disabled = !isMoe;
  const kvFormats = options.formats?.kv_dtype ?? dtypes; // the server says which it accepts
  fillSelect($("kv_dtype"), [["", "default (16-bit)"], ...kvFormats], config.kv_dtype);
  fillSelect($("framework"), [["", "generic"], ...options.frameworks], config.framework);
  for (const key of ["isl", "osl", "concurrency"]) {
    const input = $(key);
    if (input.value !== String(config[key])) input.value = String(config[key]);
  }
}

export function showFieldErrors(problems) {
  for (const key of ["isl", "osl", "concurrency"]) {
    const problem = problems.find((p) => p.field === key);
    const input = $(key);
    const out = $(`${key}-error`);
    out.textContent = problem ? problem.message : "";
    if (problem) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}
