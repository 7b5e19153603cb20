// The runs list: search and filters (answered by /api/runs), two runs picked to compare, and a poll
// every two seconds so that runs saved meanwhile, and runs in progress, show without a reload.
"use strict";

(() => {
  const { el, status, when, seconds, banner, poll } = d4py;
  const EVERY_MS = 2000;
  const filters = ["workflow", "backend", "status"];
  const picked = [];

  function query() {
    const params = new URLSearchParams();
    const text = document.getElementById("search").value.trim();
    if (text) params.set("q", text);
    for (const name of filters) {
      const value = document.getElementById(name).value;
      if (value) params.set(name, value);
    }
    const encoded = params.toString();
    return encoded ? `/api/runs?${encoded}` : "/api/runs";
  }

  function fillChoices(name, values) {
    const select = document.getElementById(name);
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "", text: "all" }), ...values.map((v) => el("option", { value: v, text: v })));
    if (chosen && !values.includes(chosen)) select.append(el("option", { value: chosen, text: chosen }));
    select.value = chosen;
  }

  function togglePick(id, box) {
    const at = picked.indexOf(id);
    if (box.checked && at < 0) picked.push(id);
    if (!box.checked && at >= 0) picked.splice(at, 1);
    while (picked.length > 2) picked.shift(); // the two picked last
    showPicks();
  }

  function showPicks() {
    for (const row of document.querySelectorAll("#runs tbody tr[data-id]")) {
      const on = picked.includes(row.dataset.id);
      row.classList.toggle("picked", on);
      row.querySelector("input").checked = on;
    }
    const button = document.getElementById("compare");
    button.disabled = picked.length !== 2;
    button.title = picked.length === 2 ? `compare ${picked[0]} and ${picked[1]}` : "pick two runs";
  }

  function row(run) {
    const box = el("input", { type: "checkbox", "aria-label": `pick run ${run.id}` });
    box.addEventListener("change", () => togglePick(run.id, box));
    const duration = run.status === "running" ? `${seconds(run.duration_s)} so far` : seconds(run.duration_s);
    return el("tr", { "data-id": run.id },
      el("td", {}, box),
      el("td", {}, el("a", { href: `/runs/${encodeURIComponent(run.id)}`, text: run.id })),
      el("td", { text: run.workflow }),
      el("td", { text: run.backend }),
      el("td", {}, status(run.status)),
      el("td", { text: when(run.started) }),
      el("td", { class: "num", text: duration }));
  }

  function render(body) {
    document.getElementById("store").textContent = `runs in ${body.store}`;
    for (const name of filters) fillChoices(name, body.choices[name]);
    const tbody = document.querySelector("#runs tbody");
    tbody.replaceChildren(...body.runs.map(row));
    if (!body.total) tbody.append(el("tr", {}, el("td", { colspan: 7, class: "muted", text: `no runs recorded yet in ${body.store}` })));
    else if (!body.runs.length) tbody.append(el("tr", {}, el("td", { colspan: 7, class: "muted", text: "no run matches" })));
    document.getElementById("count").textContent = `${body.runs.length} of ${body.total} runs`;
    showPicks();
  }

  const poller = poll(query, EVERY_MS, render, (error) => banner(error ? `cannot list the runs: ${error.message}` : ""));
  document.getElementById("filters").addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("search").addEventListener("input", () => poller.now());
  for (const name of filters) document.getElementById(name).addEventListener("change", () => poller.now());
  document.getElementById("compare").addEventListener("click", () => {
    if (picked.length === 2) location.href = `/compare?a=${encodeURIComponent(picked[0])}&b=${encodeURIComponent(picked[1])}`;
  });
  poller.start();
})();
