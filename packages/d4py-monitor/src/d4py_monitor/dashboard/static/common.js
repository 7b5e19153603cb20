// Helpers shared by the pages. Every value from a record goes onto the page as text (textContent,
// attributes), never as markup: a workflow name or a traceback that holds HTML shows as written.
"use strict";

const d4py = (() => {
  const SVG = "http://www.w3.org/2000/svg";
  const COLOURS = { busy: "#d64541", idle: "#c9d3da", blocked: "#f0a030", in: "#2a6fb0", out: "#2c9c70" };

  function fill(node, attributes, children) {
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name === "style") Object.assign(node.style, value);
      else node.setAttribute(name, String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** An HTML element: el("td", {class: "num"}, "text", otherElement). */
  const el = (tag, attributes, ...children) => fill(document.createElement(tag), attributes, children);
  /** An SVG element, the same way. */
  const svg = (tag, attributes, ...children) => fill(document.createElementNS(SVG, tag), attributes, children);

  const seconds = (value) => (value === null || value === undefined ? "-" : `${Number(value).toFixed(3)}`);
  const count = (value) => (value === null || value === undefined ? "-" : Number(value).toLocaleString("en"));
  function bytes(value) {
    if (value === null || value === undefined) return "-";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let size = Number(value), unit = 0;
    while (size >= 1024 && unit < units.length - 1) { size /= 1024; unit += 1; }
    return unit === 0 ? `${size} B` : `${size.toFixed(1)} ${units[unit]}`;
  }
  function when(epoch) {
    const d = new Date(epoch * 1000), two = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
      `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  }
  const status = (value) => el("span", { class: `status status-${value}`, text: value });

  /** The page's data block (the run page and the report carry their run in it), or null. */
  function data() {
    const block = document.getElementById("d4py-data");
    return block ? JSON.parse(block.textContent) : null;
  }

  function banner(message) {
    const node = document.getElementById("banner");
    node.textContent = message || "";
    node.hidden = !message;
  }

  /** GET url as JSON; a failed request throws an Error with the server's message. */
  async function getJSON(url) {
    const response = await fetch(url, { cache: "no-store" });
    const text = await response.text();
    let body;
    try { body = JSON.parse(text); } catch (error) { body = { error: `${response.status} ${response.statusText}` }; }
    if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
    return { body, text };
  }

  /**
   * Ask for url() every `every` ms and call onChange(body) when the answer differs from the last one;
   * onError(error) when the server cannot answer. Returns {stop(), now()}: now() asks at once.
   */
  function poll(url, every, onChange, onError) {
    let last = null, timer = null, stopped = false, asked = 0;
    async function ask() {
      clearTimeout(timer);
      if (stopped) return;
      if (document.hidden && last !== null) { timer = setTimeout(ask, every); return; } // a tab out of sight waits
      const mine = ++asked; // an answer to an older question (the filters changed meanwhile) is dropped
      try {
        const { body, text } = await getJSON(url());
        if (mine !== asked || stopped) return;
        onError(null);
        if (text !== last) { last = text; onChange(body); }
      } catch (error) {
        if (mine !== asked || stopped) return;
        onError(error);
      }
      timer = setTimeout(ask, every);
    }
    return { stop() { stopped = true; clearTimeout(timer); }, now() { last = null; ask(); }, start() { ask(); } };
  }

  /** A bar of busy, idle and blocked shares, as spans (width 100% = their sum). */
  function timeBar(busy, idle, blocked) {
    const total = busy + idle + blocked;
    const part = (kind, value) => el("span", { class: kind, style: { width: `${total ? (100 * value) / total : 0}%` } });
    return el("span", { class: "bar", title: `busy ${seconds(busy)} s, idle ${seconds(idle)} s, blocked ${seconds(blocked)} s` },
      part("busy", busy), part("idle", idle), part("blocked", blocked));
  }

  /** A colour from white to the busy colour, for a share from 0 to 1. */
  function heat(share) {
    const s = Math.max(0, Math.min(1, share || 0));
    const mix = (a, b) => Math.round(a + (b - a) * s);
    return `rgb(${mix(255, 232)}, ${mix(255, 110)}, ${mix(255, 104)})`;
  }

  const legend = (...kinds) => el("div", { class: "legend" }, kinds.map((k) => el("span", { class: k, text: k === "in" ? "items in" : k === "out" ? "items out" : k })));

  return { COLOURS, el, svg, seconds, count, bytes, when, status, data, banner, getJSON, poll, timeBar, heat, legend };
})();
