// One run's provenance: each output with the root inputs it derives from and its metadata, the failed
// calls with their inputs. The filter narrows outputs by any text of theirs; picking a root input shows
// the outputs that derive from it (its impact).
"use strict";

(() => {
  const { el, count, status, data } = d4py;
  let query = "", picked = null;

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
        el("thead", {}, el("tr", {}, ["output", "item", "metadata", body.level === "run" ? "" : "derives from"].map((h) => el("th", { text: h })))),
        el("tbody", {}, shown.map((o) => el("tr", { "data-id": o.id },
          el("td", { text: where(o) }), el("td", { text: value(o) }), el("td", { text: metadata(o) }),
          el("td", {}, o.roots === null ? null : el("ul", { class: "roots" }, o.roots.map(root))))))));
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
    document.getElementById("page").replaceChildren(...[header(body), outputs(body), failures(body)].filter((part) => part !== null));
    if (focus) {
      const input = document.getElementById(focus);
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    }
  }

  const initial = data();
  if (initial) draw(initial);
})();
