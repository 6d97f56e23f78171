// The "Launch command" box of the estimate view: the chosen engine's own command for the
// plan in the form (POST /launch), or the reason the engine cannot express it.

import { api } from "./api.js";
import { h, setCommand } from "./dom.js";

const ENGINES = [["vllm", "vLLM"], ["sglang", "SGLang"], ["trtllm", "TensorRT-LLM"]];
let chosen = "";
let opened = false;
let seq = 0;

export function launchBody(engine, body) {
  const out = { engine, model: body.model };
  for (const key of ["tp", "dp", "pp", "ep", "cp", "sp", "weight_dtype", "kv_dtype", "concurrency", "isl", "osl"]) {
    if (body[key] !== undefined && body[key] !== "") out[key] = body[key];
  }
  return out;
}

// body: the POST /estimate body of the plan shown; framework: its engine, the default choice.
export function renderLaunchBox(container, body) {
  const engine = h("select", { id: "launch-engine" }, ENGINES.map(([v, t]) => h("option", { value: v, text: t })));
  engine.value = chosen || (ENGINES.some(([v]) => v === body.framework) ? body.framework : "vllm");
  const pre = h("pre", { id: "launch-command", class: "launch-command" });
  const show = async () => {
    const mine = ++seq;
    chosen = engine.value;
    let text;
    try {
      const cmd = await api.launch(launchBody(engine.value, body));
      text = cmd.command + (cmd.extra_options_yaml ? `\n# extra-llm-api-options.yaml:\n${cmd.extra_options_yaml}` : "")
        + cmd.notes.map((n) => `\n# ${n}`).join("") + `\n# flags of ${cmd.version}`;
    } catch (error) {
      text = error.message;
    }
    if (mine === seq) setCommand(pre, text);
  };
  engine.addEventListener("change", show);
  const box = h("details", { class: "panel launch-box", id: "launch-box", open: opened },
    h("summary", { text: "Launch command" }),
    h("label", { for: "launch-engine", text: "Engine" }), engine, pre);
  box.addEventListener("toggle", () => (opened = box.open));
  container.append(box);
  show();
}
