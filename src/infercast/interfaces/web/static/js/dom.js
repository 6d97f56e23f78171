// Tiny DOM helpers. Text always goes in through textContent (never as markup), so names from
// imported specs cannot inject markup.

const SVG_NS = "http://www.w3.org/2000/svg";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.setAttribute("class", value);
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function $(id) {
  return document.getElementById(id);
}

// A shell command as text whose lines break only between arguments: each argument is a span
// that never wraps (CSS .arg). A browser breaks plain text after a hyphen, which cut
// "--concurrency" and "deepseek-ai_DeepSeek-R1" in two. textContent stays the command.
export function setCommand(el, text) {
  clear(el);
  for (const part of String(text).split(/(\s+)/)) {
    if (!part) continue;
    el.append(/^\s+$/.test(part) ? document.createTextNode(part) : h("span", { class: "arg", text: part }));
  }
  return el;
}
