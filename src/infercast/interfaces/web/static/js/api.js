// The API client: every failure becomes an ApiError carrying the server's error body
// (detail, problems with field + rule, suggestions) so the page can show it inline.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || `request failed (HTTP ${status})`);
    this.status = status;
    this.error = body?.error || "error";
    this.problems = Array.isArray(body?.problems) ? body.problems : [];
    this.suggestions = Array.isArray(body?.suggestions) ? body.suggestions : [];
  }
}

async function request(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: "application/json" }, ...options });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, { detail: "cannot reach the infercast server" });
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

const post = (path, body, signal) =>
  request(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
    signal,
  });

export const api = {
  models: () => request("/models"),
  hardware: () => request("/hardware"),
  options: () => request("/api/options"),
  layers: (modelId) => request(`/api/layers?model_id=${encodeURIComponent(modelId)}`),
  estimate: (body, signal) =>
    request("/estimate", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      signal,
    }),
  search: (body, signal) => post("/search", body, signal),
  launch: (body) => post("/launch", body),
  sweep: (body, signal) =>
    request("/estimate/sweep", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      signal,
    }),
  importFile: (file, hfModelId) => {
    const form = new FormData();
    form.append("file", file);
    if (hfModelId) form.append("hf_model_id", hfModelId);
    return request("/import", { method: "POST", body: form });
  },
};
