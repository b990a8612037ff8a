// The web demo's page: each phone is a thin view of the fake Bot API's
// state (/api/view); what a person does is posted back as that person.
"use strict";
(function () {
  let texts = { zh: {}, en: {} };
  let state = null;
  const panes = new Map(); // key -> {el, ...}
  const ui = { tab: {}, actor: null, seen: {}, gen: -1, console: "" };

  function T(lang, key, vars) {
    let s = (texts[lang] && texts[lang][key]) || (texts.zh && texts.zh[key]) || key;
    for (const k in vars || {}) s = s.split("{" + k + "}").join(vars[k]);
    return s;
  }
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  async function post(action, body) {
    const r = await fetch("/api/" + action, {
      method: "POST", headers: { "Content-Type": "application/json", "X-Demo": "1" }, body: JSON.stringify(body || {}),
    });
    if (!r.ok) {
      let msg = await r.text();
      try { const e = JSON.parse(msg); msg = T(state ? state.lang : "zh", "err." + e.error); } catch (_) { /* a developer's message */ }
      document.getElementById("status").textContent = "⚠ " + msg.trim();
    }
    return r.ok;
  }

  let loading = false, again = false;
  async function refresh() {
    if (loading) { again = true; return; }
    loading = true;
    try {
      const r = await fetch("/api/view");
      if (r.ok) { state = await r.json(); render(); }
    } finally {
      loading = false;
      if (again) { again = false; refresh(); }
    }
  }

  function render() {
    const L = state.lang;
    document.documentElement.lang = L === "en" ? "en" : "zh-CN";
    document.querySelectorAll("[data-t]").forEach((e) => { e.textContent = T(L, e.dataset.t); });
    document.title = T(L, "title");
    document.getElementById("lang").value = L;
    const p = state.player;
    const running = p.state === "playing" || p.state === "paused";
    const starting = state.status !== "ready";
    document.getElementById("play").textContent = T(L, running && p.state === "paused" ? "continue" : "play");
    document.getElementById("play").disabled = starting || p.state === "playing";
    document.getElementById("pause").disabled = starting || p.state !== "playing";
    document.getElementById("step").disabled = starting;
    for (const r of ["resident", "technician"]) document.getElementById("add-" + r).disabled = starting || running;
    document.getElementById("add-lead").disabled = starting || (state.people || []).some((x) => x.role === "lead" && x.pane);
    const status = document.getElementById("status");
    status.dataset.status = state.status;
    status.dataset.player = p.state;
    status.textContent = state.status === "ready" ? T(L, "player." + p.state) : T(L, "status." + state.status) + (state.failure ? ": " + state.failure : "");
    document.getElementById("scene-title").textContent = p.scene || (running ? "" : T(L, "hint"));
    document.getElementById("doing").textContent = p.error ? "⚠ " + p.error : (p.doing || "");
    if (state.gen !== ui.gen) { ui.gen = state.gen; ui.seen = {}; }
    renderPanes();
    if (state.console && state.console !== ui.console) {
      ui.console = state.console;
      document.getElementById("console").src = state.console;
    }
  }

  // paneSpecs lists the phones: residents, technicians, the group, the lead.
  function paneSpecs() {
    const people = state.people || [];
    const specs = [];
    for (const role of ["resident", "technician"]) {
      for (const p of people) if (p.role === role && p.pane) specs.push({ key: "p" + p.id, person: p });
    }
    if (state.group) specs.push({ key: "group", group: true });
    for (const p of people) if (p.role === "lead" && p.pane) specs.push({ key: "p" + p.id, person: p });
    return specs;
  }

  function renderPanes() {
    const box = document.getElementById("phones");
    const specs = paneSpecs();
    const keys = new Set(specs.map((s) => s.key));
    for (const [k, pane] of panes) if (!keys.has(k)) { pane.el.remove(); panes.delete(k); }
    specs.forEach((spec, i) => {
      let pane = panes.get(spec.key);
      if (!pane) { pane = makePane(spec); panes.set(spec.key, pane); }
      if (box.children[i] !== pane.el) box.insertBefore(pane.el, box.children[i] || null);
      updatePane(pane, spec);
    });
  }

  function staff() { return (state.people || []).filter((p) => p.role === "technician" || p.role === "lead"); }

  function makePane(spec) {
    const pane = { key: spec.key, el: el("section", "phone"), sig: "", texts: {} };
    pane.el.dataset.pane = spec.group ? "group" : String(spec.person.id);
    pane.head = el("div", "pane-head");
    pane.name = el("b");
    pane.role = el("span", "role");
    pane.head.append(pane.name, pane.role, el("span", "grow"));
    if (spec.group) {
      pane.actor = el("select", "actor");
      pane.actor.onchange = () => { ui.actor = Number(pane.actor.value); refresh(); };
      pane.head.append(pane.actor);
    } else {
      if (spec.person.role === "technician") {
        pane.tabs = el("span", "tabs");
        pane.tabBot = el("button", "tab-bot");
        pane.tabGroup = el("button", "tab-group");
        pane.tabBot.onclick = () => { ui.tab[spec.key] = "bot"; pane.sig = ""; render(); };
        pane.tabGroup.onclick = () => { ui.tab[spec.key] = "group"; pane.sig = ""; render(); };
        pane.tabs.append(pane.tabBot, pane.tabGroup);
        pane.head.append(pane.tabs);
      }
      pane.lang = el("select", "pane-lang");
      for (const [v, label] of [["zh", "中文"], ["en", "EN"]]) { const o = el("option", "", label); o.value = v; pane.lang.append(o); }
      pane.lang.onchange = () => post("lang", { user: pane.user, lang: pane.lang.value });
      pane.head.append(pane.lang);
    }
    pane.msgs = el("div", "msgs");
    pane.list = el("div", "list");
    pane.msgs.append(pane.list);
    pane.stick = true;
    // Only the person's own scrolling decides whether the chat follows new
    // messages (a scroll the page made, reported late, must not).
    pane.userAt = 0;
    for (const ev of ["wheel", "touchstart", "mousedown", "keydown"]) pane.msgs.addEventListener(ev, () => { pane.userAt = Date.now(); }, { passive: true });
    pane.msgs.onscroll = () => {
      if (Date.now() - pane.userAt < 1500) pane.stick = pane.msgs.scrollHeight - pane.msgs.scrollTop - pane.msgs.clientHeight < 80;
    };
    // A photo or a late font can grow the chat after it was drawn: stay at
    // the bottom unless the person scrolled up.
    new ResizeObserver(() => { if (pane.stick) pane.msgs.scrollTop = pane.msgs.scrollHeight; }).observe(pane.list);
    pane.reply = el("div", "replykb");
    pane.compose = el("form", "compose");
    pane.input = el("input");
    pane.input.autocomplete = "off";
    pane.send = el("button", "send");
    pane.send.type = "submit";
    pane.photo = el("button", "photo", "📷");
    pane.photo.type = "button";
    pane.compose.append(pane.input, pane.send, pane.photo);
    pane.compose.onsubmit = (ev) => {
      ev.preventDefault();
      const text = pane.input.value.trim();
      if (!text || !pane.user) return;
      pane.input.value = "";
      post("send", { user: pane.user, chat: pane.chat, text: text });
    };
    pane.photo.onclick = () => { if (pane.user) post("photo", { user: pane.user, chat: pane.chat }); };
    pane.toast = el("div", "toast");
    pane.el.append(pane.head, pane.msgs, pane.reply, pane.compose, pane.toast);
    return pane;
  }

  function updatePane(pane, spec) {
    const L = spec.group ? state.lang : spec.person.lang;
    let chat, user, me;
    if (spec.group) {
      const people = staff();
      if (!people.some((p) => p.id === ui.actor)) ui.actor = people.length ? people[0].id : null;
      const opts = people.map((p) => p.id + ":" + p.name).join("|");
      if (pane.actor.dataset.opts !== opts) {
        pane.actor.dataset.opts = opts;
        pane.actor.replaceChildren(...people.map((p) => { const o = el("option", "", T(L, "as", { name: p.name })); o.value = p.id; return o; }));
      }
      pane.actor.value = String(ui.actor);
      chat = state.group; user = ui.actor;
      pane.name.textContent = state.group_title;
      pane.role.textContent = T(L, "role.group");
    } else {
      const p = spec.person;
      const tab = ui.tab[spec.key] || "bot";
      chat = tab === "group" ? state.group : p.id;
      user = p.id;
      pane.name.textContent = p.name;
      pane.role.textContent = T(L, "role." + p.role);
      pane.lang.value = p.lang;
      if (pane.tabs) {
        pane.tabBot.textContent = T(L, "tab.bot");
        pane.tabGroup.textContent = T(L, "tab.group");
        pane.tabBot.classList.toggle("on", tab === "bot");
        pane.tabGroup.classList.toggle("on", tab === "group");
      }
    }
    me = user;
    pane.user = user; pane.chat = chat;
    pane.el.dataset.chat = String(chat);
    pane.input.placeholder = T(L, "type");
    pane.send.textContent = T(L, "send");
    pane.photo.title = T(L, "photo");
    const c = (state.chats || {})[String(chat)] || { messages: [] };
    const sig = JSON.stringify([L, me, c]);
    if (sig !== pane.sig) {
      pane.sig = sig;
      drawMessages(pane, c, me, chat < 0, L);
    }
    // The answer to this person's last tap in this chat, as a toast.
    const key = pane.key + ":" + chat + ":" + me;
    const mine = (state.answers || []).filter((a) => a.from === me && a.chat === chat && a.text);
    const last = mine.length ? mine[mine.length - 1] : null;
    if (!(key in ui.seen)) ui.seen[key] = last ? last.seq : 0;
    if (last && last.seq > ui.seen[key]) {
      ui.seen[key] = last.seq;
      pane.toast.textContent = last.text;
      pane.toast.dataset.seq = String(last.seq);
      pane.toast.classList.add("show");
      clearTimeout(pane.toastTimer);
      pane.toastTimer = setTimeout(() => pane.toast.classList.remove("show"), last.alert ? 5000 : 2500);
    }
  }

  function drawMessages(pane, c, me, group, L) {
    const atBottom = pane.stick;
    const seen = pane.texts;
    pane.texts = {};
    pane.list.replaceChildren();
    if (!c.messages.length) pane.list.append(el("div", "empty", T(L, "empty")));
    for (const m of c.messages) {
      const b = el("div", "msg" + (m.bot ? " bot" : " me") + (m.photo ? " pic" : ""));
      b.dataset.msg = String(m.id);
      if (!m.bot && group) b.append(el("span", "from", m.from));
      if (m.bot && group) b.append(el("span", "from", "🤖"));
      if (m.photo) {
        const img = el("img");
        img.alt = "photo";
        img.src = m.photo;
        b.append(img);
      }
      if (m.doc) { const a = el("a", "doc", "📄 " + (m.doc || "file")); a.href = m.doc_url; a.download = m.doc; b.append(a); }
      if (m.contact) b.append(el("span", "contact", "📱 " + m.contact));
      if (m.text) b.append(el("span", "text", m.text));
      b.append(el("span", "meta", (m.edited ? T(L, "edited") + " · " : "") + m.time));
      if (m.buttons && m.buttons.length) {
        const kb = el("div", "kb");
        for (const row of m.buttons) {
          const r = el("div", "row");
          for (const btn of row) {
            const x = el("button", "ib", btn.text);
            x.type = "button";
            if (btn.url) x.onclick = () => window.open(btn.url, "_blank", "noopener");
            else x.onclick = () => post("tap", { user: pane.user, chat: pane.chat, msg: m.id, data: btn.data });
            r.append(x);
          }
          kb.append(r);
        }
        b.append(kb);
      }
      const now = JSON.stringify([m.text, m.buttons]);
      if (m.bot && m.edited && seen[m.id] !== undefined && seen[m.id] !== now) b.classList.add("flash");
      pane.texts[m.id] = now;
      pane.list.append(b);
    }
    pane.reply.replaceChildren();
    for (const row of c.keyboard || []) {
      const r = el("div", "row");
      for (const btn of row) {
        const x = el("button", btn.contact ? "contact" : "reply", btn.text);
        x.type = "button";
        x.onclick = () => btn.contact ? post("contact", { user: pane.user }) : post("send", { user: pane.user, chat: pane.chat, text: btn.text });
        r.append(x);
      }
      pane.reply.append(r);
    }
    pane.reply.style.display = (c.keyboard || []).length ? "" : "none";
    pane.stick = atBottom;
    if (pane.stick) pane.msgs.scrollTop = pane.msgs.scrollHeight;
  }

  function wire() {
    const ctl = (action) => () => post(action, {});
    document.getElementById("play").onclick = () => post(state && (state.player.state === "paused") ? "continue" : "play", { lang: document.getElementById("lang").value });
    document.getElementById("pause").onclick = ctl("pause");
    document.getElementById("step").onclick = () => post("step", { lang: document.getElementById("lang").value });
    document.getElementById("reset").onclick = () => post("reset", { lang: document.getElementById("lang").value });
    document.getElementById("lang").onchange = (e) => post("reset", { lang: e.target.value });
    for (const r of ["resident", "technician", "lead"]) document.getElementById("add-" + r).onclick = () => post("add", { role: r });
    document.getElementById("console-login").onclick = () => { ui.console = ""; post("console", {}); };
  }

  async function start() {
    wire();
    const r = await fetch("/api/texts");
    if (r.ok) texts = await r.json();
    await refresh();
    const es = new EventSource("/api/events");
    es.onmessage = () => refresh();
  }
  start();
})();
