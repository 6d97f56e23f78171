// Number formatting: decimal units (1 GB = 1e9 B), as the API reports them.

export function num(value, digits = 3) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const abs = Math.abs(value);
  if (abs >= 1e5) return Math.round(value).toLocaleString("en-US");
  if (abs >= 100) return value.toFixed(0);
  return Number(value.toPrecision(digits)).toString();
}

// Short form for tight spaces: 213951 → "214k", 1234567 → "1.23M".
export function compact(value) {
  if (!Number.isFinite(value)) return "–";
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  return num(value);
}

// Money with fixed decimals, as `infercast search` prints it ($/M tokens 3, $/hour 2): three
// significant figures dropped zeros ("$1.1" next to "$0.896") in one column.
export function usd(value, decimals) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return `$${value.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals })}`;
}

export function ms(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  if (value >= 10000) return `${num(value / 1000)} s`;
  if (value > 0 && value < 0.1) return `${num(value * 1000, 2)} µs`;
  return `${num(value)} ms`;
}

export function gb(bytes) {
  return `${num(bytes / 1e9)} GB`;
}

export function params(count) {
  for (const [unit, size] of [["T", 1e12], ["B", 1e9], ["M", 1e6], ["K", 1e3]]) {
    if (count >= size) return `${(count / size).toFixed(1)}${unit}`;
  }
  return String(count);
}

export function ratio(b, a) {
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0) return "–";
  const r = b / a;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×`;
}

// "Nice" axis ticks for a range [0, max].
export function ticks(max, count = 5) {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const step = 10 ** Math.floor(Math.log10(raw));
  const nice = [1, 2, 2.5, 5, 10].map((m) => m * step).find((m) => m >= raw);
  const out = [];
  for (let v = 0; v <= max + nice * 0.001; v += nice) out.push(Number(v.toPrecision(12)));
  if (out[out.length - 1] < max) out.push(Number((out[out.length - 1] + nice).toPrecision(12)));
  return out;
}
