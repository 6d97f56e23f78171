// The view's state and its query-string form, so any view can be shared and reloaded.
// Config A uses plain keys (model=…&tp=…); config B the same keys prefixed "b_".

export const FIELDS = [
  // [state key, query key, type]
  ["model", "model", "str"],
  ["hardware", "hw", "str"],
  ["gpus", "gpus", "int"],
  ["tp", "tp", "int"],
  ["dp", "dp", "int"],
  ["pp", "pp", "int"],
  ["ep", "ep", "int"],
  ["cp", "cp", "int"],
  ["sp", "sp", "bool"],
  ["weight_dtype", "wdt", "str"],
  ["moe_dtype", "mdt", "str"],
  ["kv_dtype", "kvdt", "str"],
  ["framework", "fw", "str"],
  ["isl", "isl", "num"],
  ["osl", "osl", "num"],
  ["concurrency", "conc", "num"],
];

export function defaultConfig() {
  return {
    model: "",
    hardware: "h100",
    gpus: 1,
    tp: 1,
    dp: 1,
    pp: 1,
    ep: 1,
    cp: 1,
    sp: false,
    weight_dtype: "",
    moe_dtype: "",
    kv_dtype: "",
    framework: "",
    isl: "1024",
    osl: "1024",
    concurrency: "16",
  };
}

function readConfig(params, prefix) {
  const config = defaultConfig();
  let seen = false;
  for (const [key, q, type] of FIELDS) {
    const raw = params.get(prefix + q);
    if (raw === null) continue;
    seen = true;
    if (type === "int") {
      const n = Number.parseInt(raw, 10);
      if (Number.isFinite(n) && n > 0) config[key] = n;
    } else if (type === "bool") {
      config[key] = raw === "1" || raw === "true";
    } else {
      config[key] = raw.slice(0, 300);
    }
  }
  return seen ? config : null;
}

export function fromQuery(search) {
  const params = new URLSearchParams(search);
  const a = readConfig(params, "") || defaultConfig();
  const b = readConfig(params, "b_");
  return {
    compare: params.get("cmp") === "1",
    side: params.get("edit") === "b" ? "b" : "a",
    configs: { a, b: b || { ...a } },
  };
}

export function toQuery(view) {
  const params = new URLSearchParams();
  const write = (config, prefix) => {
    const defaults = defaultConfig();
    for (const [key, q, type] of FIELDS) {
      const value = type === "bool" ? Boolean(config[key]) : config[key];
      if (key === "model" || String(value) !== String(defaults[key])) {
        if (type === "bool") params.set(prefix + q, value ? "1" : "0");
        else if (value !== "" && value !== null && value !== undefined) params.set(prefix + q, value);
      }
    }
  };
  write(view.configs.a, "");
  if (view.compare) {
    params.set("cmp", "1");
    if (view.side === "b") params.set("edit", "b");
    write(view.configs.b, "b_");
  }
  return params.toString();
}

// The JSON body of POST /estimate (the Python API's argument names).
export function requestBody(config, overrides = {}) {
  const body = {
    model: config.model,
    hardware: config.hardware,
    gpus: config.gpus,
    tp: config.tp,
    dp: config.dp,
    pp: config.pp,
    ep: config.ep,
    cp: config.cp || 1,
    sp: Boolean(config.sp), // resolvePlan turns it off where the server says it has no effect
  };
  for (const key of ["weight_dtype", "moe_dtype", "kv_dtype", "framework"]) {
    if (config[key]) body[key] = config[key];
  }
  for (const key of ["isl", "osl", "concurrency"]) {
    const raw = String(config[key] ?? "").trim();
    if (raw === "") continue; // the API answers "field required", naming it
    body[key] = /^-?\d+$/.test(raw) ? Number(raw) : raw;
  }
  return { ...body, ...overrides };
}
