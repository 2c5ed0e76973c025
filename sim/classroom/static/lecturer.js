// The projector: long-polls /class/api/lecturer (the server answers as soon as an hour has
// run or someone acted) and sends the lecturer's controls. The key comes from the page's
// address fragment (#key=...), which the browser never sends to any server.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const key = new URLSearchParams(location.hash.slice(1)).get("key") || "";
  const METRIC_NAMES = {
    total_client_spend: "client spend", total_worker_income: "workers' income",
    worker_share_of_spend: "workers' share of spend", total_delivered: "actions delivered",
    total_removed: "removed by moderation", total_surviving: "surviving",
    hourly_pay_median: "median hourly pay", moderators_employed: "moderators",
  };
  const SHARES = new Set(["worker_share_of_spend", "recruiter_margin", "share_delivered", "top10_share_of_tasks"]);
  let version = -1, charts = {}, state = null;

  function el(tag, attrs, ...kids) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    for (const kid of kids) node.append(kid);
    return node;
  }
  function table(columns, rows) {
    return el("table", {}, el("tr", {}, ...columns.map((c) => el("th", { text: c }))),
      ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", { text: String(c) })))));
  }
  const fmt = (name, v) => v === null || v === undefined ? "—" : SHARES.has(name) ? (100 * v).toFixed(1) + "%" :
    Math.abs(v) >= 100 ? Math.round(v).toLocaleString() : Number(v).toLocaleString(undefined, { maximumFractionDigits: 3 });
  function error(text) { $("error").textContent = text || ""; $("error").hidden = !text; }

  async function control(body) {
    const response = await fetch("/class/api/control", {
      method: "POST", headers: { "Content-Type": "application/json", "X-Lecturer-Key": key }, body: JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = { error: "no answer" }; }
    error(response.ok ? "" : data.error);
    return data;
  }

  function draw(id, option) {
    if (!window.echarts || !option) return;
    if (!charts[id]) charts[id] = echarts.init($(id));
    charts[id].setOption(option, true);
  }

  function render(s) {
    const v = s.view;
    $("hour").textContent = v.hour;
    $("hours").textContent = v.hours;
    $("state").textContent = v.state;
    $("pace-now").textContent = v.pace + " h a minute";
    $("join-code").textContent = v.join_code || "session ended";
    $("join-url").textContent = s.join.url;
    if (!$("qr").dataset.done && v.join_code) { $("qr").innerHTML = s.join.qr; $("qr").dataset.done = "1"; }  // SVG drawn by the server (segno)
    if (!v.join_code) $("qr").replaceChildren();
    const select = $("trigger-event");
    if (select.options.length !== v.triggers.length) {
      select.replaceChildren(...v.triggers.map((t) => el("option", { value: t, text: t })));
    }
    $("trigger-row").hidden = !v.triggers.length;
    $("tiles").replaceChildren(...Object.entries(v.metrics).map(([k, x]) =>
      el("div", { class: "tile" }, el("div", { class: "v", "data-testid": "metric-" + k, text: fmt(k, x) }), el("div", { class: "k", text: METRIC_NAMES[k] || k }))));
    $("roles").replaceChildren(table(["role", "students", "free"], Object.keys(v.role_counts).map((r) =>
      [r, v.role_counts[r], v.free_agents[r]])));
    $("players").replaceChildren(table(["nickname", "role", "agent"], v.players.map((p) => [p.nickname, p.role || "choosing…", p.agent_label || ""])));
    $("leaderboard-card").hidden = !v.leaderboard.length;
    $("leaderboard").replaceChildren(table(["nickname", "role", "score"], v.leaderboard.map((r) => [r.nickname, r.role, fmt("", r.score) + " " + r.unit])));
    $("predictions-card").hidden = !s.spreads.length;
    $("predictions").replaceChildren(...s.spreads.map((sp) => {
      const q = sp.question, shown = s.revealed.includes(q.id);
      const box = el("div", { class: "card", "data-testid": "prediction-" + q.id },
        el("b", { text: q.text }), el("div", { "data-testid": "answers-" + q.id, text: sp.count + (sp.count === 1 ? " answer" : " answers") }));
      if (shown) {
        const quant = Object.entries(sp.quantiles).map(([p, x]) => Math.round(100 * Number(p)) + "th: " + fmt(q.metric, x)).join(" · ");
        const numbers = sp.answers.filter((x) => typeof x === "number");
        const range = numbers.length ? "answers from " + fmt(q.metric, Math.min(...numbers)) + " to " + fmt(q.metric, Math.max(...numbers)) + " · " : "";
        box.append(el("div", { "data-testid": "spread-" + q.id, text: "Class: " + range + (quant || Object.entries(sp.choice_counts).map(([c, n]) => c + " " + n).join(" · ") || "no answers") }));
        box.append(el("div", { "data-testid": "outcome-" + q.id, text: "Model: " + (sp.outcome === null ? "not known yet" : fmt(q.metric, sp.outcome) + " at hour " + sp.outcome_hour) }));
      } else {
        const b = el("button", { class: "secondary", "data-testid": "reveal-" + q.id, text: "Reveal answers beside the outcome" });
        b.addEventListener("click", () => control({ do: "reveal", question: q.id }));
        box.append(b);
      }
      return box;
    }));
    if (s.exported) $("exported").textContent = "Exported to " + s.exported;
    const over = v.state === "ended";
    for (const id of ["resume", "pause", "step", "set-pace", "trigger", "pose", "export"]) $(id).disabled = over;
    draw("money", s.money);
    draw("network", s.network);
  }

  async function poll() {
    try {
      const response = await fetch("/class/api/lecturer?after=" + version, { headers: { "X-Lecturer-Key": key } });
      const data = await response.json();
      if (!response.ok) { error(data.error); setTimeout(poll, 3000); return; }
      state = data;
      version = data.version;
      render(data);
      setTimeout(poll, 0);
    } catch (e) {
      error("cannot reach the class server");
      setTimeout(poll, 2000);
    }
  }

  $("resume").addEventListener("click", () => control({ do: "resume" }));
  $("pause").addEventListener("click", () => control({ do: "pause" }));
  $("step").addEventListener("click", () => control({ do: "step", hours: 1 }));
  $("set-pace").addEventListener("click", () => control({ do: "pace", pace: $("pace").value }));
  $("trigger").addEventListener("click", () => control({ do: "trigger", event: $("trigger-event").value }));
  $("pose").addEventListener("click", () => control({ do: "pose", text: $("question-text").value, kind: "share", metric: $("question-metric").value }));
  $("export").addEventListener("click", async () => {
    $("exported").textContent = "Ending the session and writing the export…";
    const answer = await control({ do: "export", keep_nicknames: $("keep-nicknames").checked });
    $("exported").textContent = answer.folder ? "Exported to " + answer.folder : "";
  });
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
  poll();
})();
