// The configuration view: every /ip ipsec menu, built from the schema the console uses
// (GET /web/menus), its rows from print (GET /web/items), every change one command through
// the command layer (POST /web/run). Errors are the command layer's text, shown as text.
"use strict";
(function () {
  let menus = [];
  let current = null; // the menu shown
  let rows = [];
  let refs = {};
  let editing = null; // the row being edited, or null for add

  const $ = (id) => document.getElementById(id);
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const readonly = () => meta("pyipsec-readonly") === "1";

  async function api(url, body) {
    const init = { credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      init.method = "POST";
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRF-Token"] = meta("csrf-token");
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    if (response.status === 401) { window.location.href = "/login"; throw new Error("logged out"); }
    let data = {};
    try { data = await response.json(); } catch (e) { data = { error: response.statusText }; }
    if (!response.ok) {
      const err = new Error(data.error || response.statusText);
      err.arg = data.arg;
      throw err;
    }
    return data;
  }

  function button(text, onClick, cls) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    if (cls) b.className = cls;
    b.addEventListener("click", onClick);
    return b;
  }

  function showError(id, message) { $(id).textContent = message || ""; }

  async function run(command, args, errorId) {
    showError(errorId, "");
    try {
      await api("/web/run", { path: current.path, command, args });
      return true;
    } catch (err) {
      showError(errorId, err.message);
      if (err.arg) {
        const field = document.querySelector(`#form-fields [name="${CSS.escape(err.arg)}"]`);
        if (field) field.classList.add("invalid");
      }
      return false;
    }
  }

  function flagLetters(row) {
    return current.flags.filter((f) => row.flags.includes(f.name)).map((f) => f.letter).join("");
  }

  function renderTable() {
    const head = document.querySelector("#items thead");
    const body = document.querySelector("#items tbody");
    const single = current.kind === "single" || current.kind === "runtime-single";
    if (single) {
      head.replaceChildren();
      const values = rows.length ? rows[0].values : {};
      body.replaceChildren(...Object.entries(values).map(([k, v]) => {
        const tr = document.createElement("tr");
        const th = document.createElement("th");
        th.textContent = k;
        const td = document.createElement("td");
        td.textContent = v;
        tr.append(th, td);
        return tr;
      }));
      return;
    }
    const cols = current.columns;
    const htr = document.createElement("tr");
    for (const name of ["", "#", ...cols, "comment", ""]) {
      const th = document.createElement("th");
      th.textContent = name;
      htr.appendChild(th);
    }
    head.replaceChildren(htr);
    body.replaceChildren(...rows.map((row, n) => {
      const tr = document.createElement("tr");
      tr.dataset.id = row[".id"];
      if (row.flags.includes("disabled")) tr.className = "disabled";
      const cells = [["flags", flagLetters(row)], ["number", String(n)],
        ...cols.map((c) => [`col-${c}`, row.values[c] ?? ""]), ["comment", row.comment]];
      for (const [cls, text] of cells) {
        const td = document.createElement("td");
        td.className = cls;
        td.textContent = text;
        tr.appendChild(td);
      }
      const actions = document.createElement("td");
      actions.className = "actions";
      if (!readonly() && current.kind === "list") {
        const cmds = current.commands;
        const id = row[".id"];
        if (cmds.includes("set")) actions.appendChild(button("Edit", () => openForm(row), "edit"));
        if (cmds.includes("enable") && row.flags.includes("disabled")) {
          actions.appendChild(button("Enable", () => act("enable", id), "enable"));
        } else if (cmds.includes("disable") && !row.flags.includes("dynamic")) {
          actions.appendChild(button("Disable", () => act("disable", id), "disable"));
        }
        if (current.ordered && cmds.includes("move") && !row.flags.includes("dynamic")) {
          // move puts the item before the destination; without one, at the end
          if (n > 0) actions.appendChild(button("↑", () => act("move", id, rows[n - 1][".id"]), "up"));
          if (n < rows.length - 1) {
            const after = rows[n + 2];
            actions.appendChild(button("↓", () => act("move", id, after ? after[".id"] : ""), "down"));
          }
        }
        if (cmds.includes("remove") && !row.flags.includes("default")) {
          actions.appendChild(button("Remove", () => {
            if (window.confirm(`Remove item ${n}?`)) act("remove", id);
          }, "remove"));
        }
      }
      tr.appendChild(actions);
      return tr;
    }));
  }

  async function act(command, id, destination) {
    const args = id === undefined ? {} : { numbers: id };
    if (destination) args.destination = destination;
    if (await run(command, args, "menu-error")) await reload();
  }

  function renderToolbar() {
    const bar = $("menu-toolbar");
    const items = [];
    if (!readonly()) {
      if (current.commands.includes("add")) items.push(button("Add", () => openForm(null), "add"));
      if (current.kind === "single" && current.commands.includes("set")) {
        items.push(button("Edit", () => openForm(rows[0] || null), "edit"));
      }
      for (const action of current.actions) items.push(button(action, () => act(action), "action"));
    }
    bar.replaceChildren(...items);
    bar.querySelectorAll("button.add").forEach((b) => { b.id = "add-item"; });
  }

  function widget(prop, value) {
    const choices = prop.ref ? (refs[prop.name] || []) : prop.choices;
    let input;
    if (prop.kind === "bool" || prop.kind === "enum") {
      input = document.createElement("select");
      const blank = document.createElement("option");
      blank.value = "";
      blank.textContent = prop.default === null ? "" : `(${prop.default})`;
      input.appendChild(blank);
      for (const c of choices) {
        const opt = document.createElement("option");
        opt.value = c;
        opt.textContent = c;
        input.appendChild(opt);
      }
    } else {
      input = document.createElement("input");
      input.type = prop.secret ? "password" : "text";
      input.autocomplete = "off";
      if (prop.default) input.placeholder = prop.default;
      if (choices.length) {
        const list = document.createElement("datalist");
        list.id = `choices-${prop.name}`;
        for (const c of choices) {
          const opt = document.createElement("option");
          opt.value = c;
          list.appendChild(opt);
        }
        input.setAttribute("list", list.id);
        input.dataset.listId = list.id;
        input.listElement = list;
      }
    }
    input.name = prop.name;
    input.id = `field-${prop.name}`;
    input.value = value ?? "";
    input.dataset.initial = input.value;
    input.addEventListener("input", () => input.classList.remove("invalid"));
    return input;
  }

  function openForm(row) {
    editing = row;
    const single = current.kind === "single";
    $("form-title").textContent = row === null ? `New ${current.name} item`
      : single ? `${current.name}` : `${current.name} item ${rows.indexOf(row)}`;
    const fields = [];
    for (const prop of current.properties) {
      if (prop.readonly) continue;
      const label = document.createElement("label");
      const name = document.createElement("span");
      name.textContent = prop.name + (prop.required ? " *" : "");
      const value = row === null ? "" : (row.values[prop.name] ?? "");
      const input = widget(prop, value);
      label.append(name, input);
      if (input.listElement) label.appendChild(input.listElement);
      fields.push(label);
    }
    $("form-fields").replaceChildren(...fields);
    showError("form-error", "");
    $("item-form").hidden = false;
    $("item-form").scrollIntoView({ block: "nearest" });
  }

  async function submitForm(event) {
    event.preventDefault();
    const args = {};
    for (const input of $("form-fields").querySelectorAll("input, select")) {
      input.classList.remove("invalid");
      const changed = input.value !== input.dataset.initial;
      if (editing === null ? input.value !== "" : changed) args[input.name] = input.value;
    }
    let ok;
    if (editing === null) {
      ok = await run("add", args, "form-error");
    } else if (Object.keys(args).length === 0) {
      ok = true;
    } else {
      if (current.kind === "list") args.numbers = editing[".id"];
      ok = await run("set", args, "form-error");
    }
    if (ok) {
      $("item-form").hidden = true;
      await reload();
    }
  }

  async function reload() {
    if (current === null) return;
    showError("menu-error", "");
    try {
      const data = await api(`/web/items?path=${encodeURIComponent(current.path)}`);
      rows = data.rows;
      refs = data.refs;
      renderTable();
    } catch (err) {
      showError("menu-error", err.message);
    }
  }

  async function show(path) {
    current = menus.find((m) => m.path === path) || menus[0];
    for (const li of $("menus").children) li.classList.toggle("current", li.dataset.path === current.path);
    $("menu-title").textContent = current.name;
    $("menu-description").textContent = current.description;
    $("item-form").hidden = true;
    renderToolbar();
    await reload();
  }

  async function init() {
    const data = await api("/web/menus");
    menus = data.menus;
    $("menus").replaceChildren(...menus.map((m) => {
      const li = document.createElement("li");
      li.dataset.path = m.path;
      const a = document.createElement("a");
      a.href = `#config/${m.path}`;
      a.textContent = m.path.split("/").slice(2).join(" ");
      li.appendChild(a);
      return li;
    }));
    $("item-form").addEventListener("submit", submitForm);
    $("form-cancel").addEventListener("click", () => { $("item-form").hidden = true; });
  }

  // the change feed said these menus changed (another user, the console, the daemon)
  function changed(paths) {
    if (current !== null && paths.includes(current.path) && $("item-form").hidden) reload();
  }

  window.ConfigView = { init, show, changed, menus: () => menus };
})();
