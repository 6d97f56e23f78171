// The "Find the best plan" view's inputs and their query-string form (keys prefixed "s_",
// plus view=search while it is shown), and the JSON body of POST /search.

export const SEARCH_FIELDS = [
  // [state key, query key, type]
  ["model", "s_model", "str"],
  ["hardware", "s_hw", "list"],
  ["max_gpus", "s_max", "num"],
  ["isl", "s_isl", "num"],
  ["osl", "s_osl", "num"],
  ["ttft_max_ms", "s_ttft", "num"],
  ["tpot_max_ms", "s_tpot", "num"],
  ["min_tokens_per_s_per_user", "s_rate", "num"],
  ["users", "s_users", "num"],
  ["kv_dtypes", "s_kv", "list"],
  ["frameworks", "s_fw", "list"],
  ["objective", "s_obj", "str"],
  ["top", "s_top", "num"],
  ["prices", "s_price", "str"],
  ["example_prices", "s_ex", "bool"],
];

export function defaultSearch() {
  return {
    model: "meta-llama/Llama-3.1-8B-Instruct",
    hardware: ["h100"],
    max_gpus: "8",
    isl: "1024",
    osl: "512",
    ttft_max_ms: "1000",
    tpot_max_ms: "30",
    min_tokens_per_s_per_user: "",
    users: "",
    kv_dtypes: [],
    frameworks: [],
    objective: "throughput_per_gpu",
    top: "10",
    prices: "",
    example_prices: false,
  };
}

export function searchFromQuery(search) {
  const params = new URLSearchParams(search);
  const state = defaultSearch();
  for (const [key, q, type] of SEARCH_FIELDS) {
    const raw = params.get(q);
    if (raw === null) continue;
    if (type === "list") state[key] = raw.split(",").map((v) => v.trim()).filter(Boolean).slice(0, 16);
    else if (type === "bool") state[key] = raw === "1";
    else state[key] = raw.slice(0, 300);
  }
  return { shown: params.get("view") === "search", state };
}

export function searchToQuery(shown, state) {
  const params = new URLSearchParams();
  if (shown) params.set("view", "search");
  const defaults = defaultSearch();
  for (const [key, q, type] of SEARCH_FIELDS) {
    const value = type === "list" ? state[key].join(",") : state[key];
    const base = type === "list" ? defaults[key].join(",") : defaults[key];
    if (String(value) === String(base)) continue;
    params.set(q, type === "bool" ? (value ? "1" : "0") : value);
  }
  return params.toString();
}

const number = (raw) => {
  const text = String(raw ?? "").trim();
  if (text === "") return undefined;
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text; // the API names a bad value
};

// "h100=2.5, h200=3.4" → {h100: 2.5, h200: 3.4} (malformed entries go through as NaN-free
// strings so that the API answers with the field at fault).
export function parsePrices(text) {
  const out = {};
  for (const part of String(text || "").split(",")) {
    const [hw, value] = part.split("=").map((v) => (v || "").trim());
    if (hw) out[hw.toLowerCase()] = number(value) ?? "";
  }
  return out;
}

export function searchBody(state) {
  const body = {
    model: state.model,
    hardware: state.hardware,
    objective: state.objective,
    kv_dtypes: state.kv_dtypes,
    frameworks: state.frameworks,
    price_per_gpu_hour: parsePrices(state.prices),
    example_prices: Boolean(state.example_prices),
  };
  for (const key of ["max_gpus", "isl", "osl", "ttft_max_ms", "tpot_max_ms", "min_tokens_per_s_per_user", "users", "top"]) {
    const value = number(state[key]);
    if (value !== undefined) body[key] = value;
  }
  return body;
}

export const CSV_COLUMNS = [
  "hardware", "gpus", "tp", "dp", "pp", "ep", "moe_tp", "cp", "sp", "weight_dtype", "moe_dtype",
  "kv_dtype", "framework", "concurrency", "replicas", "total_gpus", "ttft_ms", "tpot_ms",
  "output_tokens_per_s_per_gpu", "tokens_per_s_per_user", "usd_per_hour",
  "usd_per_million_output_tokens",
];

export function plansCsv(plans) {
  const cell = (v) => {
    const text = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [CSV_COLUMNS.join(",")];
  for (const plan of plans) lines.push(CSV_COLUMNS.map((c) => cell(plan[c])).join(","));
  return `${lines.join("\n")}\n`;
}
