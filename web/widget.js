/*
 * Order-assistant chat widget: talks to Rasa's socket.io channel.
 * - Bot text is only ever inserted as text nodes (never as HTML); http(s) links become anchors.
 * - The session id (issued and signed by the server) and the transcript live in this tab's
 *   sessionStorage: a reload continues the chat, a closed tab or "End chat" forgets it, so the
 *   next person at this browser starts from nothing.
 * - Messages typed while offline are queued and sent on reconnect: nothing is lost.
 * - A signed customer identity (from the site's session) rides in every message's metadata.
 * - One session per tab: a tab that starts with a copy of another live tab's sessionStorage
 *   (a duplicated tab, or one opened by window.open) finds that out over a BroadcastChannel
 *   and starts its own chat, so two tabs never share a conversation with split transcripts.
 * - Accessible (WCAG 2.1 AA): the launcher tells whether the panel is open (aria-expanded),
 *   Escape closes the panel, focus goes back to the input after a quick reply, and the
 *   connection status and the typing indicator are announced (role=status).
 */
(function () {
  "use strict";

  var STORE_KEY = "orderAssistant.v1";
  var CHANNEL_NAME = "orderAssistant.tabs";
  var CLAIM_WAIT_MS = 250;  // how long a restored tab waits to hear that its session is in use
  // The interface's words, per language: web/locales.js, built from the assistant's catalogue
  // (actions/replies.py and actions/locales) by scripts/build_widget_locales.py.
  var LOCALES = window.ORDER_ASSISTANT_LOCALES || { en: {} };
  var LANGUAGE = pickLanguage(navigator.languages || [navigator.language]);
  function t(key) {
    return (LOCALES[LANGUAGE] || {})[key] || (LOCALES.en || {})[key] || key;
  }
  // The browser's first language the assistant speaks ("es-ES" → "es"), else English.
  function pickLanguage(tags) {
    for (var i = 0; i < tags.length; i++) {
      var code = String(tags[i] || "").toLowerCase().split(/[-_]/)[0];
      if (LOCALES[code]) return code;
    }
    return "en";
  }
  var GREETING = t("widget.greeting");
  // The main choices, at once (the same as the assistant's own greeting, utter_greet).
  var GREETING_BUTTONS = [
    { title: t("button.cancel_order"), payload: "/cancel_order" },
    { title: t("button.where_is_order"), payload: "/check_order_status" },
    { title: t("button.contact_seller"), payload: "/contact_seller" },
    { title: t("button.talk_to_person"), payload: "/human_handoff" }
  ];
  var URL_PATTERN = /(https?:\/\/[^\s<>"']+)/g;

  function freshState(open) {
    return { sessionId: null, history: [], open: !!open };
  }

  function loadState() {
    try {
      window.localStorage.removeItem(STORE_KEY);  // older versions kept the chat there
      var state = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "{}");
      return { sessionId: state.sessionId || null, history: Array.isArray(state.history) ? state.history : [], open: !!state.open };
    } catch (error) {
      return freshState(false);
    }
  }

  function randomId() {
    if (window.crypto && window.crypto.getRandomValues) {
      return Array.prototype.map.call(window.crypto.getRandomValues(new Uint32Array(4)), function (n) { return n.toString(16); }).join("");
    }
    return String(Math.random()).slice(2) + String(Date.now());
  }

  /*
   * Which tab holds which session. Every tab answers "taken" when another tab asks about the
   * session it holds; a tab that restored a session from sessionStorage asks once and waits
   * CLAIM_WAIT_MS. A reload asks too, but the page it replaces is gone and cannot answer.
   * onTaken runs when another live tab holds the session; whenClaimed(fn) runs fn after that.
   * Only half of a session id is broadcast: enough to match, not enough to resume it.
   */
  function tabClaims(getSessionId, onTaken) {
    function tag() {
      var id = getSessionId();
      return id ? String(id).slice(0, Math.ceil(id.length / 2)) : null;
    }
    var tabId = randomId();
    var settled = false;
    var waiting = [];
    var channel = null;
    try { channel = new window.BroadcastChannel(CHANNEL_NAME); } catch (error) { channel = null; }

    function settle() {
      if (settled) return;
      settled = true;
      while (waiting.length) waiting.shift()();
    }

    if (channel) {
      channel.onmessage = function (event) {
        var message = event.data || {};
        var mine = tag();
        if (message.type === "probe" && message.tabId !== tabId && mine && message.session === mine) {
          channel.postMessage({ type: "taken", to: message.tabId });
        } else if (message.type === "taken" && message.to === tabId && !settled) {
          onTaken();
          settle();
        }
      };
    }
    var restored = tag();
    if (channel && restored) {
      channel.postMessage({ type: "probe", tabId: tabId, session: restored });
      setTimeout(settle, CLAIM_WAIT_MS);
    } else {
      settle();
    }
    return {
      whenClaimed: function (fn) { if (settled) fn(); else waiting.push(fn); }
    };
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function appendText(container, text) {
    var parts = String(text).split(URL_PATTERN);
    parts.forEach(function (part, index) {
      if (index % 2 === 1) {
        var link = el("a", null, part);
        link.href = part;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        container.appendChild(link);
      } else if (part) {
        container.appendChild(document.createTextNode(part));
      }
    });
  }

  function init(options) {
    var rasaUrl = options.rasaUrl;
    var getToken = options.getToken || function () { return null; };
    var state = loadState();
    var queue = [];

    var launcher = el("button", "oa-launcher");
    launcher.type = "button";
    launcher.dataset.testid = "launcher";
    launcher.setAttribute("aria-controls", "oa-panel");
    var panel = el("section", "oa-panel");
    panel.id = "oa-panel";
    panel.setAttribute("aria-labelledby", "oa-title");
    panel.hidden = !state.open;

    var header = el("div", "oa-header");
    var title = el("div");
    var heading = el("h2", "oa-title", t("widget.title"));
    heading.id = "oa-title";
    title.appendChild(heading);
    var status = el("div", "oa-status", t("widget.connecting"));
    status.dataset.testid = "status";
    status.setAttribute("role", "status");  // announced: connecting, online, offline
    title.appendChild(status);
    header.appendChild(title);
    var ender = el("button", "oa-end", t("widget.end_chat"));
    ender.type = "button";
    ender.dataset.testid = "end-chat";
    ender.setAttribute("aria-label", t("widget.end_chat_label"));
    header.appendChild(ender);
    var closer = el("button", "oa-close", "✕");
    closer.type = "button";
    closer.dataset.testid = "close";
    closer.setAttribute("aria-label", t("widget.close_label"));
    header.appendChild(closer);

    var log = el("div", "oa-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", t("widget.conversation_label"));
    log.tabIndex = 0;  // scrollable: reachable by keyboard
    var form = el("form", "oa-form");
    var input = el("input");
    input.type = "text";
    input.placeholder = t("widget.placeholder");
    input.maxLength = 2000;
    input.autocomplete = "off";
    input.setAttribute("aria-label", t("widget.message_label"));
    var send = el("button", null, t("widget.send"));
    send.type = "submit";
    form.appendChild(input);
    form.appendChild(send);
    // What the typing dots mean, for screen readers.
    var typingNotice = el("div", "oa-sr");
    typingNotice.setAttribute("role", "status");
    typingNotice.dataset.testid = "typing-notice";
    panel.appendChild(header);
    panel.appendChild(log);
    panel.appendChild(form);
    panel.appendChild(typingNotice);
    // Screen readers read the widget in its own language, whatever the host page's.
    panel.setAttribute("lang", LANGUAGE);
    launcher.setAttribute("lang", LANGUAGE);
    document.body.appendChild(panel);
    document.body.appendChild(launcher);

    var typing = el("div", "oa-msg oa-bot oa-typing");
    typing.dataset.testid = "typing";
    typing.setAttribute("aria-hidden", "true");
    typing.appendChild(el("span"));
    typing.appendChild(el("span"));
    typing.appendChild(el("span"));
    var typingTimer = null;

    function save() {
      state.history = state.history.slice(-200);
      window.sessionStorage.setItem(STORE_KEY, JSON.stringify(state));
    }

    function scroll() { log.scrollTop = log.scrollHeight; }

    function showTyping(on) {
      if (typingTimer) { clearTimeout(typingTimer); typingTimer = null; }
      if (on) {
        log.appendChild(typing);
        typingNotice.textContent = t("widget.typing");
        typingTimer = setTimeout(function () { showTyping(false); }, 15000);
      } else {
        if (typing.parentNode) typing.parentNode.removeChild(typing);
        typingNotice.textContent = "";
      }
      scroll();
    }

    function render(entry, live) {
      var bubble = el("div", "oa-msg " + (entry.from === "user" ? "oa-user" : "oa-bot"));
      bubble.dataset.testid = entry.from === "user" ? "user-message" : "bot-message";
      appendText(bubble, entry.text || "");
      log.insertBefore(bubble, typing.parentNode ? typing : null);
      if (entry.buttons && entry.buttons.length) {
        var row = el("div", "oa-buttons");
        entry.buttons.forEach(function (button) {
          var node = el("button", null, button.title);
          node.type = "button";
          node.disabled = !!entry.used || !live;
          node.addEventListener("click", function () {
            entry.used = true;
            Array.prototype.forEach.call(row.querySelectorAll("button"), function (b) { b.disabled = true; });
            sendMessage(button.title, button.payload);
            input.focus();  // the chosen button is now disabled: keep the focus in the chat
          });
          row.appendChild(node);
        });
        log.insertBefore(row, typing.parentNode ? typing : null);
      }
      scroll();
    }

    function disableOldButtons() {
      state.history.forEach(function (entry) { entry.used = true; });
      Array.prototype.forEach.call(log.querySelectorAll(".oa-buttons button"), function (b) { b.disabled = true; });
    }

    function emit(message) {
      // The browser's language: the assistant answers in it until the buyer's words say otherwise.
      var metadata = { language: LANGUAGE };
      var token = getToken();
      if (token) metadata.customer_token = token;
      socket.emit("user_uttered", { message: message, session_id: state.sessionId, metadata: metadata });
    }

    function sendMessage(shown, payload) {
      var text = String(shown || "").trim();
      if (!text) return;
      disableOldButtons();
      var entry = { from: "user", text: text };
      state.history.push(entry);
      save();
      render(entry, false);
      showTyping(true);
      var message = payload || text;
      if (socket.connected && state.sessionId) emit(message); else queue.push(message);
    }

    function clearLog() {
      showTyping(false);
      while (log.firstChild) log.removeChild(log.firstChild);
    }

    function renderHistory() {
      // Only the last bot message's buttons stay clickable after a reload.
      state.history.forEach(function (entry, index) {
        render(entry, index === state.history.length - 1 && !entry.used);
      });
    }

    function greet() {
      var greeting = { from: "bot", text: GREETING, buttons: GREETING_BUTTONS };
      state.history.push(greeting);
      save();
      render(greeting, true);
    }

    renderHistory();
    if (!state.history.length) greet();

    // A copy of another live tab's chat (a duplicated tab): start this tab's own.
    var claims = tabClaims(function () { return state.sessionId; }, function () {
      state = freshState(state.open);
      queue = [];
      clearLog();
      greet();
    });

    var socket = window.io(rasaUrl, { path: "/socket.io", transports: ["websocket", "polling"], reconnectionDelayMax: 5000 });

    socket.on("connect", function () {
      status.textContent = t("widget.connecting");
      claims.whenClaimed(function () {
        if (socket.connected) socket.emit("session_request", { session_id: state.sessionId });
      });
    });
    socket.on("session_confirm", function (sessionId) {
      state.sessionId = typeof sessionId === "string" ? sessionId : (sessionId && sessionId.session_id) || state.sessionId;
      save();
      status.textContent = t("widget.online");
      while (queue.length) emit(queue.shift());
    });
    socket.on("disconnect", function () { status.textContent = t("widget.reconnecting"); });
    socket.on("connect_error", function () { status.textContent = t("widget.offline"); });
    // The message went to a support agent (the bot is paused): no "typing" dots for the bot.
    socket.on("agent_holds_conversation", function () { showTyping(false); });
    socket.on("bot_uttered", function (message) {
      showTyping(false);
      var buttons = (message.quick_replies || message.buttons || []).map(function (b) {
        return { title: String(b.title || ""), payload: String(b.payload || b.title || "") };
      });
      var entry = { from: "bot", text: message.text || "", buttons: buttons };
      state.history.push(entry);
      save();
      render(entry, true);
    });

    // Ends the conversation on the server (a restart forgets what was proven and takes a
    // request for a person out of the queue; Rasa lets it through while an agent holds the
    // conversation, which it does not do for a new session) and here.
    function endChat() {
      if (socket.connected && state.sessionId) emit("/restart");
      window.sessionStorage.removeItem(STORE_KEY);
      state = freshState(state.open);
      queue = [];
      clearLog();
      greet();
      socket.disconnect();
      socket.connect();
      if (!panel.hidden) input.focus();
    }

    // The launcher says what it will do, and aria-expanded tells whether the panel is open.
    function showLauncher(open) {
      launcher.textContent = open ? t("widget.launcher_close") : t("widget.launcher_open");
      launcher.setAttribute("aria-expanded", open ? "true" : "false");
      launcher.setAttribute("aria-label", open ? t("widget.launcher_close_label") : t("widget.launcher_open_label"));
    }

    function toggle(open) {
      panel.hidden = !open;
      state.open = open;
      save();
      showLauncher(open);
      if (open) { input.focus(); scroll(); }
    }

    function close() {
      toggle(false);
      launcher.focus();
    }

    showLauncher(!panel.hidden);
    launcher.addEventListener("click", function () { if (panel.hidden) toggle(true); else close(); });
    closer.addEventListener("click", close);
    // Escape closes the panel from anywhere in it (or on the launcher), and focus goes back
    // to the launcher.
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || panel.hidden) return;
      var focused = document.activeElement;
      if (focused === launcher || panel.contains(focused)) { event.preventDefault(); close(); }
    });
    ender.addEventListener("click", endChat);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      sendMessage(input.value);
      input.value = "";
    });

    return { open: function () { toggle(true); }, endChat: endChat, socket: socket };
  }

  window.OrderAssistant = { init: init };
})();
