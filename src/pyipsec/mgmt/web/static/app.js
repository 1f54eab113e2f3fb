// The page: navigation between the dashboard and the configuration view, and the live
// updates (server-sent events from GET /events).
"use strict";
(function () {
  let configReady = null;

  function route() {
    const hash = window.location.hash.replace(/^#/, "") || "dashboard";
    const [view, ...rest] = hash.split("/");
    const config = view === "config";
    document.getElementById("dashboard").hidden = config;
    document.getElementById("config").hidden = !config;
    document.getElementById("nav-dashboard").classList.toggle("current", !config);
    document.getElementById("nav-config").classList.toggle("current", config);
    if (config) {
      if (configReady === null) configReady = window.ConfigView.init();
      configReady.then(() => window.ConfigView.show(rest.join("/") || "ip/ipsec/policy"));
    }
  }

  function connect() {
    const state = document.getElementById("live-state");
    const source = new EventSource("/events");
    source.addEventListener("open", () => { state.textContent = "live"; state.className = "live on"; });
    source.addEventListener("error", () => {
      state.textContent = "reconnecting";
      state.className = "live off";
      if (source.readyState === EventSource.CLOSED) {
        // refused (the daemon restarted and forgot the session, or it expired): log in
        // again if that is why, else try again in a while
        fetch("/web/dashboard", { credentials: "same-origin" }).then((r) => {
          if (r.status === 401) window.location.href = "/login";
          else window.setTimeout(connect, 3000);
        }, () => window.setTimeout(connect, 3000));
      }
    });
    source.addEventListener("dashboard", (e) => window.Dashboard.render(JSON.parse(e.data)));
    source.addEventListener("config", (e) => window.ConfigView.changed(JSON.parse(e.data)));
    source.addEventListener("logout", () => { source.close(); window.location.href = "/login"; });
  }

  document.addEventListener("DOMContentLoaded", () => {
    window.addEventListener("hashchange", route);
    route();
    connect();
  });
})();
