// Taking a result elsewhere: JSON and CSV downloads, and the same estimate as a CLI command.

const CSV_COLUMNS = [
  ["model_id", (r) => r.model_id],
  ["hardware_id", (r) => r.hardware_id],
  ["framework", (r) => r.framework],
  ["gpus", (r) => r.plan.gpus],
  ["tp", (r) => r.plan.tp],
  ["dp", (r) => r.plan.dp],
  ["pp", (r) => r.plan.pp],
  ["ep", (r) => r.plan.ep],
  ["moe_tp", (r) => r.plan.moe_tp],
  ["cp", (r) => r.plan.cp],
  ["sp", (r) => r.plan.sp],
  ["weight_dtype", (r) => r.dtypes.weight_dtype],
  ["moe_dtype", (r) => r.dtypes.moe_dtype ?? ""],
  ["kv_dtype", (r) => r.dtypes.kv_dtype],
  ["isl", (r) => r.isl],
  ["osl", (r) => r.osl],
  ["concurrency", (r) => r.concurrency],
  ["ttft_ms", (r) => r.ttft_ms],
  ["tpot_ms", (r) => r.tpot_ms ?? ""],
  ["e2e_latency_ms", (r) => r.e2e_latency_ms],
  ["output_tokens_per_s_per_gpu", (r) => r.output_tokens_per_s_per_gpu],
  ["total_tokens_per_s_per_gpu", (r) => r.total_tokens_per_s_per_gpu],
  ["tokens_per_s_per_user", (r) => r.tokens_per_s_per_user],
  ["requests_per_s", (r) => r.requests_per_s],
  ["memory_per_gpu_bytes", (r) => r.memory_per_gpu_bytes],
  ["fit_status", (r) => r.fit?.status ?? (r.fits ? "fits" : "does_not_fit")],
  ["max_concurrency", (r) => r.max_concurrency],
  ["admitted_concurrency", (r) => r.admitted_concurrency],
];

function csvCell(value) {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function resultCsv(result) {
  const header = CSV_COLUMNS.map(([name]) => name).join(",");
  const row = CSV_COLUMNS.map(([, get]) => csvCell(get(result))).join(",");
  return `${header}\n${row}\n`;
}

// Flags of `infercast estimate` for the request body the page sent (not the result: a format
// the page left at "checkpoint" must stay unset, or the command would mean something else).
const FLAGS = [
  ["model", "--model"],
  ["hardware", "--hardware"],
  ["gpus", "--gpus"],
  ["tp", "--tp"],
  ["dp", "--dp"],
  ["pp", "--pp"],
  ["ep", "--ep"],
  ["moe_tp", "--moe-tp"],
  ["cp", "--cp"],
  ["weight_dtype", "--weight-dtype"],
  ["moe_dtype", "--moe-dtype"],
  ["kv_dtype", "--kv-dtype"],
  ["framework", "--framework"],
  ["isl", "--isl"],
  ["osl", "--osl"],
  ["concurrency", "--concurrency"],
];

function shellWord(value) {
  const text = String(value);
  return /^[A-Za-z0-9._/:-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

export function cliCommand(request) {
  const words = ["infercast", "estimate"];
  for (const [key, flag] of FLAGS) {
    const value = request[key];
    if (value === undefined || value === null || value === "") continue;
    if (["ep", "pp", "dp", "cp"].includes(key) && Number(value) === 1) continue;
    words.push(flag, shellWord(value));
  }
  if (request.sp) words.push("--sp");
  return words.join(" ");
}

export function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
