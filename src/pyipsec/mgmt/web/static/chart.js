// Throughput chart: one SVG polyline per tunnel over the last samples (no library).
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = ["#2f7ed8", "#d9534f", "#5cb85c", "#f0ad4e", "#8e44ad", "#16a085"];
  const H = 160, PAD_L = 64, PAD_B = 18, PAD_T = 8;

  function el(name, attrs) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }

  // 1234567 -> "1.2 MB/s" (bytes per second, decimal units as iperf prints them)
  function rate(value) {
    const units = ["B/s", "kB/s", "MB/s", "GB/s"];
    let v = value, i = 0;
    while (v >= 1000 && i < units.length - 1) { v /= 1000; i += 1; }
    return (i === 0 ? v.toFixed(0) : v.toFixed(1)) + " " + units[i];
  }

  // series: Map name -> array of numbers (oldest first), all of length <= points
  function draw(container, series, points) {
    const W = Math.max(320, Math.round(container.clientWidth) || 640);
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart-svg", role: "img" });
    let max = 1;
    for (const values of series.values()) for (const v of values) max = Math.max(max, v);
    const plotW = W - PAD_L - 4, plotH = H - PAD_T - PAD_B;
    for (const frac of [0, 0.5, 1]) {
      const y = PAD_T + plotH * (1 - frac);
      svg.appendChild(el("line", { x1: PAD_L, x2: W - 4, y1: y, y2: y, class: "grid-line" }));
      const label = el("text", { x: PAD_L - 6, y: y + 4, class: "axis", "text-anchor": "end" });
      label.textContent = rate(max * frac);
      svg.appendChild(label);
    }
    const note = el("text", { x: W - 4, y: H - 4, class: "axis", "text-anchor": "end" });
    note.textContent = `last ${points} s`;
    svg.appendChild(note);
    let n = 0;
    for (const [name, values] of series) {
      const color = COLORS[n % COLORS.length];
      const step = plotW / Math.max(1, points - 1);
      const offset = points - values.length;
      const coords = values.map((v, i) =>
        `${(PAD_L + (offset + i) * step).toFixed(1)},${(PAD_T + plotH * (1 - v / max)).toFixed(1)}`);
      if (coords.length === 1) coords.push(coords[0]);
      svg.appendChild(el("polyline", { points: coords.join(" "), fill: "none", stroke: color,
        "stroke-width": 2, class: "series" }));
      n += 1;
    }
    const legend = document.createElement("ul");
    legend.className = "legend";
    n = 0;
    for (const [name, values] of series) {
      const li = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = COLORS[n % COLORS.length];
      li.appendChild(swatch);
      li.appendChild(document.createTextNode(
        `${name}: ${rate(values.length ? values[values.length - 1] : 0)}`));
      legend.appendChild(li);
      n += 1;
    }
    container.replaceChildren(svg, legend);
    if (series.size === 0) {
      const empty = document.createElement("p");
      empty.className = "sub";
      empty.textContent = "no installed SAs";
      container.appendChild(empty);
    }
  }

  window.PyChart = { draw, rate };
})();
