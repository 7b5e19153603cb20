// One run: its facts and error, the bottleneck, the logical graph and the physical layout coloured by
// busy and blocked time, profiles over time, the timeline, the communication matrix and per-instance
// details. The served page polls its run while the run is in progress; the report is the same page
// with its data inlined and no polling.
"use strict";

(() => {
  const { COLOURS, el, svg, seconds, count, bytes, when, status, data, banner, poll, timeBar, heat, legend } = d4py;
  const LIVE_MS = 1000;
  let profileChoice = null; // kept across live updates
  let lineage = null; // the address of the run's lineage page, when it kept provenance

  const name = (i) => `${i.pe}[${i.index}]`;
  const section = (id, title, ...children) => el("section", { id }, el("h2", { text: title }), children);
  const note = (text) => el("p", { class: "muted", text });
  const maxOf = (values) => values.reduce((a, b) => Math.max(a, b), 0);

  function facts(run) {
    const processes = new Set(run.instances.map((i) => `${i.host}/${i.pid}`)).size;
    const running = run.status === "running";
    const rows = [
      ["workflow", run.workflow.source || "-"],
      ["graph", `${run.workflow.graph.pes.length} PEs, ${run.workflow.graph.connections.length} connections, hash ${run.workflow.hash}`],
      ["started", when(run.started)],
      [running ? "running for" : "took", `${seconds(run.duration_s)} s${running ? ` (last update ${when(run.ended)})` : ""}`],
      ["processes", `${processes || "-"}${run.processes !== null ? `, at most ${run.processes} by -n` : ""}; driver pid ${run.pid} on ${run.host}`],
      ["inputs", Object.entries(run.inputs).map(([pe, n]) => `${pe}: ${n}`).join(", ") || "-"],
      ["versions", Object.entries(run.versions).map(([k, v]) => `${k} ${v}`).join(", ")],
    ];
    const options = Object.entries(run.options).map(([k, v]) => `${k}=${v}`).join(" ") || "none";
    return el("section", { id: "summary" },
      el("h1", {}, el("span", { id: "workflow-name", text: run.workflow.name }), " ", status(run.status)),
      el("p", { class: "muted" }, `run ${run.id} on ${run.backend}`,
        lineage ? [" · ", el("a", { id: "lineage-link", href: lineage, text: "lineage: where each output came from" })] : null),
      el("table", { class: "facts" }, rows.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { text: v }))),
        el("tr", {}, el("th", { text: "options" }), el("td", {}, el("details", {}, el("summary", { text: `${Object.keys(run.options).length} options` }), el("code", { text: options }))))));
  }

  function error(run) {
    const e = run.error;
    if (!e) return null;
    const where = [["PE", e.pe], ["instance", e.instance], ["stage", e.stage], ["item", e.item]].filter(([, v]) => v !== undefined && v !== null);
    return section("error", "Error", el("div", { class: "error" },
      el("p", {}, el("strong", { text: `${e.type}: ` }), el("span", { class: "message", text: e.message })),
      where.length ? el("table", { class: "facts" }, where.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { text: String(v) })))) : null,
      e.traceback ? el("pre", { class: "traceback", text: e.traceback }) : null));
  }

  function bottleneck(run, analysis) {
    const b = analysis.bottleneck;
    if (!b) {
      const why = run.instances.length ? "no PE did measurable work" : "no instance reported";
      return el("p", { id: "bottleneck", class: "callout none", text: `No bottleneck named: ${why}.` });
    }
    return el("p", { id: "bottleneck", class: "callout" }, "Bottleneck: ", el("strong", { class: "pe", text: b.pe }), `: ${b.reason}.`,
      el("br"), el("span", { class: "muted", text: "The PE whose instances were busiest in its own code, per instance; more instances of it, or a faster process(), would shorten the run." }));
  }

  function graph(run, analysis) {
    const W = 220, H = 70, GX = 80, GY = 26, PAD = 16;
    const totals = Object.fromEntries(analysis.pes.map((p) => [p.pe, p]));
    const columns = {};
    const place = {};
    for (const pe of run.workflow.graph.pes) {
      const layer = analysis.layers[pe.id] || 0;
      columns[layer] = (columns[layer] || 0) + 1;
      place[pe.id] = { x: PAD + layer * (W + GX), y: PAD + (columns[layer] - 1) * (H + GY) };
    }
    const layers = Object.keys(columns).length || 1;
    const rows = maxOf(Object.values(columns)) || 1;
    const width = PAD * 2 + layers * (W + GX) - GX, height = PAD * 2 + rows * (H + GY) - GY;
    const hottest = maxOf(analysis.pes.map((p) => p.busy_per_instance_s));
    const drawing = svg("svg", { id: "graph-drawing", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "logical graph" },
      svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
        svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a97a3" }))));
    for (const c of run.workflow.graph.connections) {
      const a = place[c.from], b = place[c.to];
      if (!a || !b) continue;
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
      drawing.append(svg("path", { class: "edge", d: `M ${x1} ${y1} C ${x1 + GX / 2} ${y1}, ${x2 - GX / 2} ${y2}, ${x2} ${y2}`, "marker-end": "url(#arrow)" },
        svg("title", { text: `${c.from}.${c.output} -> ${c.to}.${c.input} (${c.grouping})` })));
      drawing.append(svg("text", { class: "small", x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, "text-anchor": "middle", text: c.grouping }));
    }
    for (const pe of run.workflow.graph.pes) {
      const p = place[pe.id], t = totals[pe.id] || { instances: 0, items_in: 0, items_out: 0, busy_s: 0, idle_s: 0, blocked_s: 0, busy_per_instance_s: 0 };
      const isBottleneck = analysis.bottleneck && analysis.bottleneck.pe === pe.id;
      const failed = run.error && run.error.pe === pe.id;
      const marks = [isBottleneck ? "bottleneck" : null, failed ? "failed" : null].filter(Boolean);
      const total = t.busy_s + t.idle_s + t.blocked_s, inner = W - 20;
      let x = p.x + 10;
      const bar = [["busy", t.busy_s], ["idle", t.idle_s], ["blocked", t.blocked_s]].map(([kind, v]) => {
        const w = total ? (inner * v) / total : 0, part = svg("rect", { x, y: p.y + H - 16, width: w, height: 8, fill: COLOURS[kind] });
        x += w;
        return part;
      });
      drawing.append(svg("g", { class: "pe", "data-pe": pe.id },
        svg("title", { text: `${pe.id} (${pe.class}): ${t.instances} instances; busy ${seconds(t.busy_s)} s, idle ${seconds(t.idle_s)} s, blocked ${seconds(t.blocked_s)} s` }),
        svg("rect", { class: ["node", ...marks].join(" "), x: p.x, y: p.y, width: W, height: H, rx: 6, fill: heat(hottest ? t.busy_per_instance_s / hottest : 0) }),
        svg("text", { x: p.x + 10, y: p.y + 18, "font-weight": 600, text: pe.id + marks.map((m) => `  (${m})`).join("") }),
        svg("text", { class: "small", x: p.x + 10, y: p.y + 34, text: `${pe.instances} instance${pe.instances === 1 ? "" : "s"} · in ${count(t.items_in)} · out ${count(t.items_out)}` }),
        svg("text", { class: "small", x: p.x + 10, y: p.y + 49, text: `busy ${seconds(t.busy_s)} s · blocked ${seconds(t.blocked_s)} s` }),
        bar));
    }
    return section("graph", "Logical graph", legend("busy", "idle", "blocked"),
      note("Each PE, coloured by its busy seconds per instance (darker is busier); the bar splits its instances' time into busy, idle and blocked."),
      el("div", { class: "scroll" }, drawing));
  }

  function layout(run) {
    if (!run.instances.length) return section("layout", "Physical layout", note("No instance reported before the run ended."));
    const hottest = maxOf(run.instances.map((i) => i.busy_s));
    const hosts = new Map();
    for (const i of run.instances) {
      if (!hosts.has(i.host)) hosts.set(i.host, new Map());
      const processes = hosts.get(i.host);
      if (!processes.has(i.process)) processes.set(i.process, []);
      processes.get(i.process).push(i);
    }
    const chip = (i) => el("div", { class: "instance", "data-instance": name(i), style: { background: heat(hottest ? (0.6 * i.busy_s) / hottest : 0) } },
      el("span", { class: "name", text: name(i) }), timeBar(i.busy_s, i.idle_s, i.blocked_s),
      el("span", { class: "muted", text: `busy ${seconds(i.busy_s)} s, blocked ${seconds(i.blocked_s)} s` }));
    return section("layout", "Physical layout", legend("busy", "idle", "blocked"),
      note("Which instance ran in which process, on which host."),
      el("div", { class: "hosts" }, [...hosts].map(([host, processes]) => el("div", { class: "host" }, el("h3", { text: `host ${host}` }),
        el("div", { class: "processes" }, [...processes].sort((a, b) => a[0] - b[0]).map(([number, instances]) =>
          el("div", { class: "process" }, el("div", { class: "muted", text: `process ${number} · pid ${instances[0].pid}` }), instances.map(chip))))))));
  }

  function chart(series, first, last, kinds, stacked, label) {
    const n = last - first + 1, W = 720, H = 150, L = 46, B = 20;
    const bw = Math.max(2, Math.min(40, (W - L) / n - 2));
    const columns = series.map((s) => ({ at: s[0] - first, values: kinds.map(([, index]) => s[index]) }));
    const top = maxOf(columns.map((c) => (stacked ? c.values.reduce((a, b) => a + b, 0) : maxOf(c.values)))) || 1;
    const y = (v) => ((H - B) * v) / top;
    const drawing = svg("svg", { class: "chart", width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label },
      svg("line", { class: "axis", x1: L, y1: H - B, x2: W, y2: H - B }),
      svg("text", { class: "small", x: L - 4, y: 10, "text-anchor": "end", text: stacked ? seconds(top) : count(top) }),
      svg("text", { class: "small", x: L - 4, y: H - B, "text-anchor": "end", text: "0" }),
      svg("text", { class: "small", x: L, y: H - 4, text: "+0 s" }),
      n > 1 ? svg("text", { class: "small", x: L + ((n - 1) * (W - L)) / n, y: H - 4, text: `+${n - 1} s` }) : null);
    const step = (W - L) / n;
    for (const c of columns) {
      let base = H - B;
      c.values.forEach((v, k) => {
        const h = y(v), w = stacked ? bw : bw / kinds.length, x = L + c.at * step + (stacked ? 0 : k * w);
        drawing.append(svg("rect", { x, y: base - h, width: Math.max(w - (stacked ? 0 : 1), 1), height: h, fill: COLOURS[kinds[k][0]], "data-kind": kinds[k][0], "data-value": v },
          svg("title", { text: `+${c.at} s: ${kinds[k][0]} ${stacked ? `${seconds(v)} s` : count(v)}` })));
        if (stacked) base -= h;
      });
    }
    return drawing;
  }

  function profiles(run, analysis) {
    if (analysis.first_second === null) return section("profiles", "Profiles over time", note("No per-second data recorded for this run."));
    const choices = [...analysis.pes.filter((p) => p.series.length).map((p) => ({ key: `pe:${p.pe}`, label: `PE ${p.pe} (all instances)`, series: p.series })),
      ...run.instances.map((i) => ({ key: `instance:${name(i)}`, label: `instance ${name(i)}`, series: i.series }))];
    const busiest = analysis.bottleneck ? `pe:${analysis.bottleneck.pe}` : null;
    if (!choices.some((c) => c.key === profileChoice)) profileChoice = choices.some((c) => c.key === busiest) ? busiest : choices[0].key;
    const select = el("select", { id: "profile-choice", "aria-label": "profile of" }, choices.map((c) => el("option", { value: c.key, text: c.label })));
    select.value = profileChoice;
    const holder = el("div", { id: "profile-charts" });
    const draw = () => {
      const chosen = choices.find((c) => c.key === select.value);
      profileChoice = chosen.key;
      holder.replaceChildren(
        el("h3", { text: "Items per second" }), legend("in", "out"),
        chart(chosen.series, analysis.first_second, analysis.last_second, [["in", 1], ["out", 2]], false, "items per second"),
        el("h3", { text: "Seconds busy, idle and blocked, per second" }), legend("busy", "idle", "blocked"),
        chart(chosen.series, analysis.first_second, analysis.last_second, [["busy", 3], ["idle", 4], ["blocked", 5]], true, "time per second"));
    };
    select.addEventListener("change", draw);
    draw();
    return section("profiles", "Profiles over time", el("div", { class: "profile-controls" }, el("label", {}, "Profile of ", select)), holder);
  }

  function timeline(run, analysis) {
    if (analysis.first_second === null) return section("timeline", "Timeline", note("No per-second data recorded for this run."));
    const first = analysis.first_second, n = analysis.last_second - first + 1;
    const LABEL = 150, RH = 22, TOP = 18, cw = Math.max(4, Math.min(60, 720 / n));
    const width = LABEL + n * cw + 10, height = TOP + run.instances.length * RH + 4;
    const drawing = svg("svg", { id: "timeline-drawing", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "timeline" });
    const every = Math.max(1, Math.ceil(n / 12));
    for (let s = 0; s < n; s += every) drawing.append(svg("text", { class: "small", x: LABEL + s * cw, y: 12, text: `+${s}s` }));
    run.instances.forEach((i, row) => {
      const y0 = TOP + row * RH;
      drawing.append(svg("text", { x: 0, y: y0 + 14, text: name(i) }));
      drawing.append(svg("rect", { x: LABEL, y: y0 + 1, width: n * cw, height: RH - 3, fill: "#f3f5f7" }));
      for (const [second, itemsIn, itemsOut, busy, idle, blocked] of i.series) {
        const x = LABEL + (second - first) * cw;
        let base = y0 + RH - 2;
        const cell = svg("g", {}, svg("title", { text: `${name(i)} +${second - first} s: busy ${seconds(busy)} s, idle ${seconds(idle)} s, blocked ${seconds(blocked)} s; items in ${itemsIn}, out ${itemsOut}` }));
        for (const [kind, v] of [["busy", busy], ["idle", idle], ["blocked", blocked]]) {
          const h = Math.min(1, v) * (RH - 3);
          cell.append(svg("rect", { x, y: base - h, width: Math.max(cw - 1, 1), height: h, fill: COLOURS[kind] }));
          base -= h;
        }
        drawing.append(cell);
      }
    });
    return section("timeline", "Timeline", legend("busy", "idle", "blocked"),
      note("Each instance, second by second: the height of each colour is the share of that second spent busy, idle or blocked."),
      el("div", { class: "scroll" }, drawing));
  }

  function matrix(analysis) {
    const m = analysis.matrix;
    if (!m) return section("matrix", "Communication matrix", note("Not recorded for this run: its instances reported no items sent to other instances."));
    const cells = new Map(m.cells.map(([s, r, items, size]) => [`${s}\u0000${r}`, [items, size]]));
    // Shaded by items: bytes count only what crossed between processes, so they would hide fused traffic.
    const hottest = maxOf(m.cells.map((c) => c[2]));
    return section("matrix", "Communication matrix", note("Items each instance (row) sent to each instance (column), and the bytes of those that crossed between processes (0 within one)."),
      el("div", { class: "scroll" }, el("table", { class: "grid matrix" },
        el("thead", {}, el("tr", {}, el("th", { text: "from \\ to" }), m.receivers.map((r) => el("th", { text: r })))),
        el("tbody", {}, m.senders.map((s) => el("tr", {}, el("th", { text: s }), m.receivers.map((r) => {
          const cell = cells.get(`${s}\u0000${r}`);
          if (!cell) return el("td", { class: "cell muted", text: "-" });
          const share = hottest ? cell[0] / hottest : 0;
          return el("td", { class: "cell", style: { background: heat(share) }, title: `${s} -> ${r}: ${cell[0]} items, ${cell[1]} bytes` },
            `${count(cell[0])} items`, el("small", { text: bytes(cell[1]) }));
        })))))));
  }

  function instances(run) {
    if (!run.instances.length) return section("instances", "Instances", note("No instance reported before the run ended."));
    const head = ["instance", "process", "host", "pid", "items in", "items out", "busy s", "idle s", "blocked s", ""];
    return section("instances", "Instances", el("table", { class: "grid" },
      el("thead", {}, el("tr", {}, head.map((h, k) => el("th", { class: k >= 4 && k < 9 ? "num" : null, text: h })))),
      el("tbody", {}, run.instances.map((i) => el("tr", {},
        el("td", { text: name(i) }), el("td", { text: i.process }), el("td", { text: i.host }), el("td", { text: i.pid }),
        el("td", { class: "num", text: count(i.items_in) }), el("td", { class: "num", text: count(i.items_out) }),
        el("td", { class: "num", text: seconds(i.busy_s) }), el("td", { class: "num", text: seconds(i.idle_s) }),
        el("td", { class: "num", text: seconds(i.blocked_s) }), el("td", {}, timeBar(i.busy_s, i.idle_s, i.blocked_s)))))));
  }

  function ports(run) {
    const rows = [];
    for (const i of run.instances) {
      for (const [port, size] of Object.entries(i.bytes_in || {})) rows.push([name(i), "in", port, i.reads[port], size]);
      for (const [port, size] of Object.entries(i.bytes_out || {})) rows.push([name(i), "out", port, i.writes[port], size]);
    }
    if (!rows.length) return null;
    return section("ports", "Bytes per port", el("table", { class: "grid" },
      el("thead", {}, el("tr", {}, ["instance", "", "port", "items", "bytes"].map((h) => el("th", { text: h })))),
      el("tbody", {}, rows.map(([who, way, port, items, size]) => el("tr", {}, el("td", { text: who }), el("td", { text: way }),
        el("td", { text: port || "(calls)" }), el("td", { class: "num", text: count(items) }), el("td", { class: "num", text: bytes(size) }))))));
  }

  function keys(run) {
    const rows = [];
    for (const i of run.instances) for (const [port, top] of Object.entries(i.keys || {})) for (const [key, n] of top) rows.push([name(i), port, key, n]);
    if (!rows.length) return null;
    const most = maxOf(rows.map((r) => r[3]));
    return section("keys", "Most frequent group keys (skew)", el("table", { class: "grid" },
      el("thead", {}, el("tr", {}, ["instance", "port", "key", "items", ""].map((h) => el("th", { text: h })))),
      el("tbody", {}, rows.map(([who, port, key, n]) => el("tr", {}, el("td", { text: who }), el("td", { text: port }),
        el("td", {}, el("code", { text: key })), el("td", { class: "num", text: count(n) }),
        el("td", {}, el("span", { class: "bar" }, el("span", { class: "busy", style: { width: `${(100 * n) / most}%` } }))))))));
  }

  function latency(run) {
    const measured = run.instances.filter((i) => i.latency && Object.keys(i.latency).length);
    if (!measured.length) return null;
    return section("latency", "Item latency (sampled)", el("table", { class: "grid" },
      el("thead", {}, el("tr", {}, ["instance", "samples", "p50 s", "p95 s", "max s"].map((h) => el("th", { text: h })))),
      el("tbody", {}, measured.map((i) => el("tr", {}, el("td", { text: name(i) }), el("td", { class: "num", text: count(i.latency.samples) }),
        ["p50_s", "p95_s", "max_s"].map((k) => el("td", { class: "num", text: seconds(i.latency[k]) })))))));
  }

  function render(body) {
    const { run, analysis } = body;
    document.title = `d4py: ${run.workflow.name} (${run.id})`;
    const parts = [facts(run), error(run), bottleneck(run, analysis), graph(run, analysis), layout(run), profiles(run, analysis),
      timeline(run, analysis), matrix(analysis), instances(run), ports(run), keys(run), latency(run)];
    document.getElementById("page").replaceChildren(...parts.filter((part) => part !== null));
  }

  const initial = data();
  if (!initial) return;
  lineage = initial.lineage || null;
  render(initial);
  if (!initial.live) {
    const home = document.querySelector(".top .home");
    home.replaceWith(el("span", { class: "home", text: "d4py run report" }));
    document.getElementById("live").textContent = `run ${initial.run.id}`;
    return;
  }
  const indicator = document.getElementById("live");
  if (initial.run.status !== "running") return;
  indicator.textContent = "live: updating every second";
  const poller = poll(() => initial.api, LIVE_MS, (body) => {
    render(body);
    if (body.run.status !== "running") {
      poller.stop();
      indicator.textContent = `finished: ${body.run.status}`;
    }
  }, (failure) => banner(failure ? `cannot update the run: ${failure.message}` : ""));
  poller.start();
})();
