// The student's page: join, pick a role, then play it. Polls /class/api/me; every
// text from the server goes through textContent (never innerHTML).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 2000;
  const ROLE_TITLES = { worker: "Micro-worker", broker: "Broker", moderator: "Moderator", client: "Client" };
  let timer = null, busyUntil = 0, built = "", answered = {}, ended = false;

  function el(tag, attrs, ...kids) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "onclick") node.addEventListener("click", v);
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const kid of kids) node.append(kid);
    return node;
  }
  function show(id, on) { $(id).hidden = !on; }
  function say(text, isError) {
    const box = isError ? $("error") : $("message");
    const other = isError ? $("message") : $("error");
    other.hidden = true;
    box.textContent = text;
    box.hidden = !text;
  }
  let currency = "USD";
  const money = (v) => (v === null || v === undefined ? "—" :
    (currency === "USD" ? "$" : currency + " ") + Number(v).toFixed(Math.abs(v) < 1 ? 3 : 2));
  const QUEUE_SHOWN = 10;  // items a moderator sees at once (the oldest first)
  const num = (v, d) => (v === null || v === undefined ? "—" : Number(v).toLocaleString(undefined, { maximumFractionDigits: d || 0 }));

  async function call(method, path, body) {
    const options = { method, headers: {}, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch("/class/api/" + path, options);
    let data = {};
    try { data = await response.json(); } catch (e) { data = { error: "the server did not answer properly" }; }
    return { status: response.status, data };
  }

  function tiles(pairs) {
    const box = $("tiles");
    box.replaceChildren(...pairs.map(([k, v, id]) =>
      el("div", { class: "tile" }, el("div", { class: "v", "data-testid": id || "", text: v }), el("div", { class: "k", text: k }))));
  }

  function table(columns, rows) {
    return el("table", {}, el("tr", {}, ...columns.map((c) => el("th", { text: c }))),
      ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", { text: String(c) })))));
  }

  async function act(body) {
    const { status, data } = await call("POST", "act", body);
    if (status === 200) {
      say("Done: it takes effect in hour " + data.hour + ".", false);
      if (data.busy_seconds) busyUntil = Date.now() + 1000 * data.busy_seconds;
    } else {
      say(data.error || "refused", true);
      if (status === 410) stop("This session has ended.");
    }
    refresh();
  }

  // ---------------------------------------------------------------- roles
  function renderWorker(v, busy) {
    tiles([
      ["hourly pay, unpaid time counted", money(v.hourly_pay) + "/h", "hourly-pay"],
      ["earned so far", money(v.earnings), "earnings"],
      ["tasks done", num(v.tasks_done), "tasks-done"],
      ["last hour: done of those you took", num(v.done_last_hour) + " of " + num(v.asked_last_hour), "last-hour"],
      ["hours online (unpaid)", num(v.hours_online, 2) + " (" + num(v.hours_unpaid, 2) + ")", "hours"],
      ["points", num(v.points), "points"],
    ]);
    const body = $("role-body");
    const waiting = el("p", { class: "countdown", id: "countdown", "data-testid": "countdown" });
    const feed = v.tasks.map((t) => {
      const pay = t.pay > 0 ? money(t.pay) + " a task" : t.points + " points a task";
      const open = t.available + t.due_next_hour;
      return el("div", { class: "card task" },
        el("div", { class: "row" },
          el("div", { class: "grow" },
            el("b", { text: t.action + " · " + t.campaign }),
            el("div", { class: "hint", text: pay + " · " + Math.round(t.seconds_per_task) + " s to do · " +
              Math.round(t.search_seconds) + " s to find · " + open + " open" })),
          el("button", { "data-campaign": t.campaign, "data-action": t.action, "data-testid": "do-task",
            onclick: () => act({ campaign: t.campaign, action: t.action, tasks: 1 }) , text: "Do one" })));
    });
    body.replaceChildren(waiting, el("h2", { text: "Open tasks" }),
      ...(feed.length ? feed : [el("p", { class: "hint", text: "No tasks open for you right now: you wait, unpaid." })]));
    for (const b of body.querySelectorAll("button[data-testid=do-task]")) b.disabled = busy;
    tickCountdown();
  }

  function renderBroker(v) {
    tiles([
      ["margin (kept so far)", money(v.margin), "margin"],
      ["orders filled / expired / open", v.orders_filled + " / " + v.orders_expired + " / " + v.orders_open, "orders"],
      ["actions delivered / expired", num(v.actions_delivered) + " / " + num(v.actions_expired), "delivered"],
      ["your workers", num(v.workers), "workers"],
    ]);
    const sig = "broker:" + v.rates.map((r) => r.action).join(",");
    if (built !== sig) {
      built = sig;
      const rows = v.rates.map((r) => {
        const pay = el("input", { type: "number", step: "0.001", min: "0", "data-testid": "pay-" + r.action, "aria-label": "pay for " + r.action });
        const price = el("input", { type: "number", step: "0.001", min: "0", "data-testid": "price-" + r.action, "aria-label": "price for " + r.action });
        return el("div", { class: "card" },
          el("b", { text: r.action }),
          el("div", { class: "hint", "data-testid": "rate-" + r.action }),
          el("label", {}, "Pay to workers per " + r.action, pay),
          el("label", {}, "Price asked per " + r.action, price),
          el("button", { "data-testid": "set-" + r.action, text: "Set rates",
            onclick: () => act({ action: r.action, pay: pay.value, price: price.value }) }));
      });
      $("role-body").replaceChildren(el("h2", { text: "Your rates" }), ...rows);
    }
    for (const r of v.rates) {
      const line = document.querySelector("[data-testid=rate-" + r.action + "]");
      if (line) line.textContent = "now: pay " + money(r.pay) + ", price " + (r.price === null ? "each campaign's own" : money(r.price)) +
        (r.fixed_by_student ? " (set by you)" : "");
    }
  }

  function renderModerator(v) {
    tiles([
      ["capacity (actions an hour)", num(v.capacity_per_hour), "capacity"],
      ["wage", money(v.wage_per_hour) + "/h", "wage"],
      ["reviewed / removed / errors", v.reviewed + " / " + v.removed + " / " + v.errors, "reviewed"],
      ["got through unreviewed", num(v.lapsed), "lapsed"],
      ["fakes standing (platform)", num(v.fakes_standing), "fakes-standing"],
    ]);
    const items = v.queue.slice(0, QUEUE_SHOWN).map((q) => el("div", { class: "card" },
      el("b", { text: q.actions + " " + (q.actions === 1 ? "action" : "actions") + " for " + q.campaign }),
      el("div", { class: "hint", text: "account " + num(q.account_age_days, 1) + " days old · trust " + num(q.account_trust, 2) +
        " · " + q.accounts_of_worker + " accounts of its worker" + (q.outside_audience_region ? " · outside the audience's region" : "") +
        (q.automated ? " · looks automated" : "") }),
      el("div", { class: "row" },
        el("button", { "data-testid": "fake", text: "Fake", onclick: () => act({ item: q.item, verdict: "fake" }) }),
        el("button", { class: "secondary", "data-testid": "genuine", text: "Genuine", onclick: () => act({ item: q.item, verdict: "genuine" }) }))));
    $("role-body").replaceChildren(el("h2", { text: "Review queue (" + num(v.queue_actions) + " flagged actions)" }),
      ...(items.length ? items : [el("p", { class: "hint", text: v.employed ? "Nothing flagged for you yet." : "You are not employed this hour." })]));
  }

  function renderClient(v) {
    tiles([
      ["budget left", money(v.budget_left), "budget-left"],
      ["spent or committed", money(v.committed), "committed"],
      ["surviving actions", num(v.surviving), "surviving"],
    ]);
    const actions = Object.keys(v.prices);
    const sig = "client:" + actions.join(",");
    if (built !== sig) {
      built = sig;
      const what = el("select", { "data-testid": "order-action", "aria-label": "action to buy" },
        ...actions.map((a) => el("option", { value: a, text: a + " (up to " + money(v.prices[a]) + " each)" })));
      const quantity = el("input", { type: "number", min: "1", step: "1", value: "100", "data-testid": "order-quantity" });
      const deadline = el("input", { type: "number", min: "1", step: "1", value: "24", "data-testid": "order-deadline" });
      $("role-body").replaceChildren(
        el("div", { class: "card" }, el("h2", { text: "Place an order" }),
          el("label", {}, "What", what), el("label", {}, "How many", quantity), el("label", {}, "Due within (hours)", deadline),
          el("button", { "data-testid": "place-order", text: "Place order",
            onclick: () => act({ action: what.value, quantity: quantity.value, deadline_hours: deadline.value }) })),
        el("h2", { text: "Your orders" }), el("div", { id: "orders", "data-testid": "orders" }));
    }
    const rows = v.orders.map((o) => [o.action, o.quantity, o.delivered, o.removed, o.surviving, o.expired, o.status, money(o.cost)]);
    $("orders").replaceChildren(rows.length ? table(["what", "ordered", "delivered", "removed", "surviving", "expired", "status", "cost"], rows)
      : el("p", { class: "hint", text: "No orders yet." }),
      ...(v.refused.length ? [el("p", { class: "hint", text: "Not taken by any recruiter: " + v.refused.join(", ") })] : []));
  }

  // ---------------------------------------------------------------- prediction
  function renderQuestion(q) {
    if (!q || answered[q.id]) { show("question", false); return; }
    show("question", true);
    if ($("question").dataset.id === q.id) return;
    $("question").dataset.id = q.id;
    $("question-text").textContent = q.text;
    let input;
    if (q.kind === "choice") {
      input = el("select", { id: "answer", "data-testid": "answer" }, ...q.choices.map((c) => el("option", { value: c, text: c })));
    } else if (q.kind === "share") {
      input = el("input", { id: "answer", type: "number", min: "0", max: "100", step: "1", placeholder: "percent, 0 to 100", "data-testid": "answer" });
    } else {
      input = el("input", { id: "answer", type: "number", min: String(q.low), max: String(q.high), step: "any", "data-testid": "answer" });
    }
    $("answer-input").replaceChildren(input);
    $("answer-form").onsubmit = async (e) => {
      e.preventDefault();
      let value = input.value;
      if (q.kind !== "choice") value = Number(value) / (q.kind === "share" ? 100 : 1);
      const { status, data } = await call("POST", "answer", { question: q.id, value });
      if (status === 200) { answered[q.id] = true; say("Answer sent. Watch the projector.", false); show("question", false); }
      else say(data.error || "refused", true);
    };
  }

  // ---------------------------------------------------------------- state
  function tickCountdown() {
    const box = $("countdown");
    if (!box) return;
    const left = Math.max(0, Math.ceil((busyUntil - Date.now()) / 1000));
    box.textContent = left > 0 ? "Working, then looking for the next task: " + left + " s" : "";
    const buttons = document.querySelectorAll("button[data-testid=do-task]");
    for (const b of buttons) b.disabled = ended || left > 0;
  }
  setInterval(tickCountdown, 250);

  function stop(text) {
    ended = true;
    clearTimeout(timer);
    for (const b of document.querySelectorAll("main button")) b.disabled = true;
    say(text, true);
  }

  async function refresh() {
    clearTimeout(timer);
    if (ended) return;
    const { status, data } = await call("GET", "me");
    if (status === 401 || status === 404) { show("join", true); show("roles", false); show("play", false); return; }
    if (status === 410) { stop(data.error || "This session has ended."); return; }
    if (status !== 200) { say(data.error || "cannot reach the class", true); timer = setTimeout(refresh, POLL_MS); return; }
    show("join", false);
    currency = data.currency || currency;
    const p = data.player;
    $("status").textContent = p.nickname + " · hour " + (data.view ? data.view.hour : "") + " · " + data.state;
    if (!p.role) {
      show("roles", true);
      show("play", false);
      for (const b of document.querySelectorAll("button.role")) {
        const free = data.free[b.dataset.role] || 0;
        b.disabled = free <= 0;
        b.title = free + " left";
      }
    } else {
      show("roles", false);
      show("play", true);
      $("role-title").textContent = ROLE_TITLES[p.role];
      $("agent").textContent = "You drive " + p.agent + ".";
      if (data.busy_seconds) busyUntil = Math.max(busyUntil, Date.now() + 1000 * data.busy_seconds);
      const v = data.view;
      if (p.role === "worker") renderWorker(v, busyUntil > Date.now());
      else if (p.role === "broker") renderBroker(v);
      else if (p.role === "moderator") renderModerator(v);
      else renderClient(v);
    }
    renderQuestion(data.question);
    timer = setTimeout(refresh, POLL_MS);
  }

  $("join").addEventListener("submit", async (e) => {
    e.preventDefault();
    const { status, data } = await call("POST", "join", { code: $("code").value, nickname: $("nickname").value });
    if (status !== 200) { say(data.error || "cannot join", true); return; }
    say("Welcome, " + data.player.nickname + ".", false);
    refresh();
  });
  for (const b of document.querySelectorAll("button.role")) {
    b.addEventListener("click", async () => {
      const { status, data } = await call("POST", "role", { role: b.dataset.role });
      if (status !== 200) say(data.error || "refused", true);
      else say("You are now " + data.player.agent + ".", false);
      refresh();
    });
  }
  const params = new URLSearchParams(location.search);
  if (params.get("code")) $("code").value = params.get("code").slice(0, 12);
  show("join", false);
  refresh();
})();
