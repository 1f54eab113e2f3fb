// The dashboard: renders the "dashboard" server-sent events (mgmt/web/live.py).
// Every value goes into the page as text (textContent), never as markup.
"use strict";
(function () {
  const POINTS = 60;
  const history = new Map(); // tunnel -> rates, oldest first

  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text === undefined || text === null ? "" : String(text);
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  function fill(tableId, rows, make, empty) {
    const body = document.querySelector(`#${tableId} tbody`);
    const out = rows.map(make);
    if (out.length === 0 && empty) {
      const tr = document.createElement("tr");
      const td = cell(tr, empty, "sub");
      td.colSpan = 9;
      out.push(tr);
    }
    body.replaceChildren(...out);
  }

  function render(data) {
    fill("peers", data.peers, (p) => {
      const tr = document.createElement("tr");
      tr.dataset.state = p.state;
      for (const k of ["local-address", "remote-address", "state", "side", "uptime", "exchange-mode"]) {
        cell(tr, p[k], k === "state" ? `state state-${p.state}` : "");
      }
      return tr;
    }, "no peers");
    fill("sas", data.sas, (sa) => {
      const tr = document.createElement("tr");
      cell(tr, sa.protocol === "AH" ? "A" : "E", "flag");
      for (const k of ["spi", "src-address", "dst-address", "state", "auth-algorithm", "enc-algorithm"]) {
        cell(tr, sa[k]);
      }
      cell(tr, Number(sa["current-bytes"]).toLocaleString("en"), "num");
      cell(tr, Number(sa["current-packets"]).toLocaleString("en"), "num");
      return tr;
    }, "no installed SAs");
    fill("stats", Object.entries(data.statistics), ([name, value]) => {
      const tr = document.createElement("tr");
      cell(tr, name);
      cell(tr, value, "num");
      return tr;
    }, "all counters are zero");
    const log = document.getElementById("log");
    log.replaceChildren(...data.log.map((line) => {
      const li = document.createElement("li");
      const time = document.createElement("span");
      time.className = "time";
      time.textContent = line.time;
      const topics = document.createElement("span");
      topics.className = "topics";
      topics.textContent = line.topics;
      li.append(time, " ", topics, " ", line.message);
      if (/error|critical/.test(line.topics)) li.className = "bad";
      return li;
    }));
    const current = new Set();
    for (const t of data.tunnels) {
      current.add(t.tunnel);
      const values = history.get(t.tunnel) || [];
      values.push(t.rate);
      if (values.length > POINTS) values.shift();
      history.set(t.tunnel, values);
    }
    for (const name of [...history.keys()]) if (!current.has(name)) history.delete(name);
    window.PyChart.draw(document.getElementById("chart"), history, POINTS);
  }

  window.Dashboard = { render };
})();
