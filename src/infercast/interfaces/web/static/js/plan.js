// Which parallelism values to offer: only those the server lists for the model (/api/layers
// constraints, from its ParallelPlan rules) and the GPU count. The page does no plan arithmetic;
// the server re-checks every plan and its 422 is shown as is.

// Without constraints (the model's layers failed to load) only the single-GPU plan is offered.
const SINGLE_GPU = { 1: [{ dp: 1, pp: 1, gpus: 1 }] };

// The (DP, PP) layouts the server accepts at this TP that take exactly `gpus` GPUs.
function layouts(constraints, gpus, tp) {
  const plans = constraints?.plans_by_tp || SINGLE_GPU;
  return (plans[String(tp)] || []).filter((p) => p.gpus === gpus);
}

export function tpOptions(constraints, gpus) {
  const plans = constraints?.plans_by_tp || SINGLE_GPU;
  return Object.keys(plans)
    .map(Number)
    .filter((tp) => layouts(constraints, gpus, tp).length);
}

export function gpuOptions(hardware, constraints) {
  const counts = new Set([1, 2, 4, 8, 16, 32, 64]);
  if (hardware?.scale_up_domain_size) counts.add(hardware.scale_up_domain_size);
  const usable = [...counts].filter((gpus) => tpOptions(constraints, gpus).length);
  return usable.length ? usable.sort((x, y) => x - y) : [1];
}

// The server lists the valid EP degrees for each tp × dp (its own shard rules).
export function epOptions(constraints, tp, dp) {
  if (!constraints?.num_experts) return [1];
  const eps = constraints.valid_ep_by_group?.[String(tp * dp)];
  return eps?.length ? eps : [1];
}

// The server lists the CP degrees valid at each DP (CP ranks are taken from the DP ranks).
export function cpOptions(constraints, dp) {
  return constraints?.valid_cp_by_dp?.[String(dp || 1)] || [1];
}

function snap(value, options) {
  if (options.includes(value)) return value;
  const lower = options.filter((o) => o <= value);
  return lower.length ? lower[lower.length - 1] : options[0];
}

// Make config's plan valid, returning the options to offer and what had to change (so the
// page can say so, e.g. for a shared link whose plan does not suit the model).
export function resolvePlan(config, constraints, hardware) {
  const notes = [];
  const gpuList = gpuOptions(hardware, constraints);
  if (!gpuList.includes(config.gpus)) {
    const old = config.gpus;
    config.gpus = snap(config.gpus, gpuList);
    notes.push(`${old} GPUs is not offered; using ${config.gpus}.`);
  }
  const tps = tpOptions(constraints, config.gpus);
  if (!tps.includes(config.tp)) {
    const old = config.tp;
    config.tp = snap(config.tp, tps);
    const heads = constraints?.attention_heads?.join("/") || "?";
    notes.push(
      `TP ${old} is not valid with ${config.gpus} GPU(s) for this model (${heads} attention ` +
        `heads, ${constraints?.kv_heads?.join("/") || "?"} KV heads); using TP ${config.tp}.`,
    );
  }
  const shapes = layouts(constraints, config.gpus, config.tp);
  const dps = shapes.map((p) => p.dp);
  if (!dps.includes(config.dp)) {
    const old = config.dp;
    const samePp = shapes.find((p) => p.pp === (config.pp || 1)); // keep the PP when a DP gives it
    config.dp = samePp ? samePp.dp : snap(config.dp, dps);
    if (old !== config.dp) {
      notes.push(`DP ${old} does not fit ${config.gpus} GPU(s) with TP ${config.tp}; using DP ${config.dp}.`);
    }
  }
  config.pp = shapes.find((p) => p.dp === config.dp)?.pp ?? 1;
  const eps = epOptions(constraints, config.tp, config.dp);
  if (!eps.includes(config.ep)) {
    const old = config.ep;
    config.ep = snap(config.ep, eps);
    if (constraints?.num_experts) {
      notes.push(`EP ${old} must divide the ${constraints.num_experts} experts and TP × DP; using EP ${config.ep}.`);
    } else {
      notes.push(`EP ${old} needs an MoE model; using EP 1.`);
    }
  }
  const cps = cpOptions(constraints, config.dp);
  if (!cps.includes(config.cp)) {
    const old = config.cp;
    config.cp = 1;
    notes.push(`CP ${old} must divide DP ${config.dp}; using CP 1.`);
  }
  const sp = Boolean(constraints?.sequence_parallel_tp?.includes(config.tp));
  if (config.sp && !sp) {
    config.sp = false;
    notes.push(`SP has no effect at TP ${config.tp} (it splits the TP group's work); turned off.`);
  }
  return { gpus: gpuList, tp: tps, dp: dps, ep: eps, cp: cps, pp: config.pp, sp, notes };
}
