// Which parallelism values to offer: only those valid for the model (from /api/layers
// constraints) and the GPU count. The server re-checks every plan; its 422 is shown as is.

export function divisors(n) {
  const out = [];
  for (let d = 1; d <= n; d += 1) if (n % d === 0) out.push(d);
  return out;
}

export function gpuOptions(hardware) {
  const counts = new Set([1, 2, 4, 8, 16, 32, 64]);
  if (hardware?.scale_up_domain_size) counts.add(hardware.scale_up_domain_size);
  return [...counts].sort((x, y) => x - y);
}

export function tpOptions(constraints, gpus) {
  return (constraints?.valid_tp || [1]).filter((tp) => gpus % tp === 0);
}

export function dpOptions(constraints, gpus, tp) {
  const layers = constraints?.num_layers || Infinity;
  return divisors(gpus / tp).filter((dp) => gpus / (tp * dp) <= layers);
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
  const gpuList = gpuOptions(hardware);
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
  const dps = dpOptions(constraints, config.gpus, config.tp);
  if (!dps.includes(config.dp)) {
    const old = config.dp;
    config.dp = dps.includes(config.gpus / config.tp / (config.pp || 1))
      ? config.gpus / config.tp / (config.pp || 1)
      : snap(config.dp, dps);
    if (old !== config.dp) {
      notes.push(`DP ${old} does not fit ${config.gpus} GPU(s) with TP ${config.tp}; using DP ${config.dp}.`);
    }
  }
  config.pp = config.gpus / (config.tp * config.dp);
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
  if (config.sp && config.tp === 1) {
    config.sp = false;
    notes.push("SP needs TP > 1 (it splits the TP group's work); turned off.");
  }
  return { gpus: gpuList, tp: tps, dp: dps, ep: eps, cp: cps, pp: config.pp, notes };
}
