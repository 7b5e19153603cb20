// Two runs PE by PE, as `d4py runs diff` shows them: A then B for each figure, "-" for a PE one run lacks.
"use strict";

(() => {
  const { el, status, seconds, count, banner, getJSON } = d4py;
  const params = new URLSearchParams(location.search);
  const figures = [["instances", "instances", count], ["items in", "items_in", count], ["items out", "items_out", count],
    ["busy s", "busy_s", seconds], ["idle s", "idle_s", seconds], ["blocked s", "blocked_s", seconds]];

  function line(label, run) {
    return el("p", {}, el("strong", { text: `${label}: ` }),
      el("a", { href: `/runs/${encodeURIComponent(run.id)}`, text: `run ${run.id}` }),
      `, ${run.workflow} on ${run.backend}, `, status(run.status), `, ${seconds(run.duration_s)} s`);
  }

  function render(body) {
    const header = el("tr", {}, el("th", { text: "pe" }), figures.map(([label]) => [el("th", { class: "num", text: `${label} A` }), el("th", { class: "num", text: "B" })]));
    const rows = body.pes.map((pe) => el("tr", {}, el("td", { text: pe.pe }),
      figures.map(([, key, format]) => [pe.a, pe.b].map((side) => el("td", { class: "num", text: side ? format(side[key]) : "-" })))));
    document.getElementById("page").replaceChildren(
      el("h1", { text: "Two runs compared" }),
      line("A", body.a), line("B", body.b),
      body.same_graph ? null : el("p", { class: "callout none", text: "The graphs differ: a PE only in one run shows - in the other." }),
      el("table", { class: "grid", id: "compared" }, el("thead", {}, header), el("tbody", {}, rows)));
  }

  const a = params.get("a") || "", b = params.get("b") || "";
  getJSON(`/api/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`)
    .then(({ body }) => render(body))
    .catch((error) => {
      document.getElementById("page").replaceChildren(el("h1", { text: "Two runs compared" }));
      banner(error.message);
    });
})();
