// One run's provenance: each output with the root inputs it derives from and its metadata, the failed
// calls with their inputs. The filter narrows outputs by any text of theirs; picking a root input shows
// the outputs that derive from it (its impact); "chain" on an output draws the items it derives from.
"use strict";

(() => {
  const { el, svg, count, status, data, banner, getJSON } = d4py;
  const COLUMN = 250, ROW = 34, BOX_W = 220, BOX_H = 24, PAD = 12;
  let query = "", picked = null, chain = null;

  const where = (item) => (item.port ? `${item.pe}[${item.instance}].${item.port}` : `${item.pe} input`);
  const value = (item) => item.item || "(value not kept)";
  const metadata = (item) => Object.entries(item.metadata || {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
  const text = (output) => [where(output), value(output), metadata(output), ...(output.roots || []).map(value)].join(" ").toLowerCase();

  function header(body) {
    const { run, level, share } = body;
    const kept = level === "sampled" ? `sampled: ${share} of lineage chains kept, whole` : level === "full" ? "full lineage" :
      "level run: the run's inputs and outputs, not what derives from what";
    return el("section", { id: "summary" },
      el("h1", {}, el("span", { text: `${run.workflow}: lineage` }), " ", status(run.status)),
      el("p", { class: "muted" }, `run ${run.id} on ${run.backend}; ${kept}; ${count(body.items)} items kept · `,
        el("a", { href: `/runs/${encodeURIComponent(run.id)}`, text: "the run" })));
  }

  function outputs(body) {
    const shown = body.outputs.filter((o) => (!query || text(o).includes(query)) && (!picked || (o.roots || []).some((r) => r.id === picked)));
    const root = (r) => el("li", { class: r.id === picked ? "root picked" : "root", "data-id": r.id, title: `item ${r.id}: show what derives from it`,
      onclick: () => { picked = picked === r.id ? null : r.id; draw(body); } }, el("span", { class: "muted", text: `${where(r)} ` }), value(r));
    const pickedRoot = picked && body.outputs.flatMap((o) => o.roots || []).find((r) => r.id === picked);
    return el("section", { id: "outputs" }, el("h2", { text: "Outputs and the inputs they came from" }),
      el("div", { class: "filters" },
        el("input", { type: "search", id: "filter", placeholder: "filter by item, PE, metadata or input", value: query,
          oninput: (event) => { query = event.target.value.toLowerCase(); draw(body, "filter"); } }),
        el("span", { id: "count", class: "muted", text: `${shown.length} of ${body.outputs.length} outputs` }),
        pickedRoot ? el("button", { id: "unpick", text: `from ${value(pickedRoot)} only: show all`, onclick: () => { picked = null; draw(body); } }) : null),
      el("table", { class: "grid", id: "lineage" },
        el("thead", {}, el("tr", {}, ["output", "item", "metadata", ...(body.level === "run" ? [] : ["derives from", ""])].map((h) => el("th", { text: h })))),
        el("tbody", {}, shown.map((o) => el("tr", { "data-id": o.id },
          el("td", { text: where(o) }), el("td", { text: value(o) }), el("td", { text: metadata(o) }),
          el("td", {}, o.roots === null ? null : el("ul", { class: "roots" }, o.roots.map(root))),
          o.roots === null ? null : el("td", {}, el("button", { class: "chain", text: "chain", onclick: () => showChain(body, o) })))))));
  }

  async function showChain(body, output) {
    try {
      const { body: found } = await getJSON(`/api/runs/${encodeURIComponent(body.run.id)}/lineage/${output.id}`);
      banner(null);
      chain = { output, found };
      draw(body);
      document.getElementById("chain").scrollIntoView();
    } catch (error) {
      banner(`The chain cannot be read: ${error.message}`);
    }
  }

  // The items an output derives from, one column per step, its root inputs on the left and it on the right.
  function chainDrawing() {
    if (!chain) return null;
    const { output, found } = chain;
    const short = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);
    const deepest = found.nodes.reduce((most, node) => Math.max(most, node.depth), 0);
    const rowsAt = {}, place = {};
    for (const node of found.nodes) {
      const row = rowsAt[node.depth] = (rowsAt[node.depth] || 0) + 1;
      place[node.id] = { x: PAD + (deepest - node.depth) * COLUMN, y: PAD + (row - 1) * ROW };
    }
    const height = PAD * 2 + Math.max(...Object.values(rowsAt)) * ROW, width = PAD * 2 + (deepest + 1) * COLUMN;
    const fed = new Set(found.edges.map(([, to]) => to));
    const label = (node) => `${where(node)}: ${node.port === null ? "(all it read)" : value(node)}`;
    const drawing = svg("svg", { id: "chain-drawing", width, height, viewBox: `0 0 ${width} ${height}` },
      found.edges.map(([from, to]) => svg("line", { class: "edge",
        x1: place[from].x + BOX_W, y1: place[from].y + BOX_H / 2, x2: place[to].x, y2: place[to].y + BOX_H / 2 })),
      found.nodes.map((node) => {
        const { x, y } = place[node.id];
        const kind = node.depth === 0 ? "picked" : fed.has(node.id) ? "between" : "root";
        return svg("g", { class: `item ${kind}`, "data-id": node.id }, svg("title", { text: label(node) }),
          svg("rect", { class: "node", x, y, width: BOX_W, height: BOX_H, rx: 4 }),
          svg("text", { x: x + 6, y: y + 16, text: short(label(node), 34) }));
      }));
    const behind = found.nodes.length - 1;
    return el("section", { id: "chain" }, el("h2", { text: `Where ${value(output)} came from` }),
      el("p", { id: "chain-about", class: "muted",
        text: `${behind} items behind it${found.truncated ? " (the nearest shown)" : ""}; its root inputs on the left` }),
      el("div", { class: "scroll" }, drawing));
  }

  function failures(body) {
    if (!body.failures.length) return null;
    return el("section", { id: "failures" }, el("h2", { text: "Failed calls" }),
      el("table", { class: "grid" },
        el("thead", {}, el("tr", {}, ["instance", "called with", "input items", "error"].map((h) => el("th", { text: h })))),
        el("tbody", {}, body.failures.map((f) => el("tr", {},
          el("td", { text: `${f.pe}[${f.instance}]` }), el("td", { text: f.value }), el("td", { text: f.inputs.join(", ") || "-" }),
          el("td", { text: f.error || "-" }))))));
  }

  function draw(body, focus) {
    document.title = `d4py: ${body.run.workflow} (${body.run.id}) lineage`;
    const parts = [header(body), outputs(body), chainDrawing(), failures(body)];
    document.getElementById("page").replaceChildren(...parts.filter((part) => part !== null));
    if (focus) {
      const input = document.getElementById(focus);
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    }
  }

  const initial = data();
  if (initial) draw(initial);
})();
