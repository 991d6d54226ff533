/*
 * Order-assistant chat widget: talks to Rasa's socket.io channel.
 * - Bot text is only ever inserted as text nodes (never as HTML); http(s) links become anchors.
 * - The session id (issued and signed by the server) and the transcript live in this tab's
 *   sessionStorage: a reload continues the chat, a closed tab or "End chat" forgets it, so the
 *   next person at this browser starts from nothing.
 * - Messages typed while offline are queued and sent on reconnect: nothing is lost.
 * - A signed customer identity (from the site's session) rides in every message's metadata.
 */
(function () {
  "use strict";

  var STORE_KEY = "orderAssistant.v1";
  var URL_PATTERN = /(https?:\/\/[^\s<>"']+)/g;

  function loadState() {
    try {
      window.localStorage.removeItem(STORE_KEY);  // older versions kept the chat there
      var state = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "{}");
      return { sessionId: state.sessionId || null, history: Array.isArray(state.history) ? state.history : [], open: !!state.open };
    } catch (error) {
      return { sessionId: null, history: [], open: false };
    }
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

    var launcher = el("button", "oa-launcher", "Chat");
    launcher.setAttribute("aria-label", "Open the order assistant");
    launcher.dataset.testid = "launcher";
    var panel = el("section", "oa-panel");
    panel.setAttribute("aria-label", "Order assistant");
    panel.hidden = !state.open;
    var header = el("div", "oa-header");
    var title = el("div");
    title.appendChild(el("strong", null, "Order assistant"));
    var status = el("div", "oa-status", "connecting…");
    status.dataset.testid = "status";
    title.appendChild(status);
    header.appendChild(title);
    var ender = el("button", "oa-end", "End chat");
    ender.type = "button";
    ender.dataset.testid = "end-chat";
    ender.setAttribute("aria-label", "End chat and forget this conversation");
    header.appendChild(ender);
    var closer = el("button", null, "✕");
    closer.setAttribute("aria-label", "Close");
    closer.style.cssText = "background:none;border:0;color:#fff;font-size:18px;cursor:pointer";
    header.appendChild(closer);
    var log = el("div", "oa-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    var form = el("form", "oa-form");
    var input = el("input");
    input.placeholder = "Type a message…";
    input.maxLength = 2000;
    input.setAttribute("aria-label", "Message");
    var send = el("button", null, "Send");
    send.type = "submit";
    form.appendChild(input);
    form.appendChild(send);
    panel.appendChild(header);
    panel.appendChild(log);
    panel.appendChild(form);
    document.body.appendChild(panel);
    document.body.appendChild(launcher);

    var typing = el("div", "oa-msg oa-bot oa-typing");
    typing.dataset.testid = "typing";
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
        typingTimer = setTimeout(function () { showTyping(false); }, 15000);
      } else if (typing.parentNode) {
        typing.parentNode.removeChild(typing);
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
      var metadata = {};
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

    // Only the last bot message's buttons stay clickable after a reload.
    state.history.forEach(function (entry, index) {
      render(entry, index === state.history.length - 1 && !entry.used);
    });

    var socket = window.io(rasaUrl, { path: "/socket.io", transports: ["websocket", "polling"], reconnectionDelayMax: 5000 });

    socket.on("connect", function () {
      status.textContent = "connecting…";
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      state.sessionId = typeof sessionId === "string" ? sessionId : (sessionId && sessionId.session_id) || state.sessionId;
      save();
      status.textContent = "online";
      while (queue.length) emit(queue.shift());
    });
    socket.on("disconnect", function () { status.textContent = "reconnecting…"; });
    socket.on("connect_error", function () { status.textContent = "offline — retrying…"; });
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

    // Ends the conversation on the server (a new session clears what was proven) and here.
    function endChat() {
      if (socket.connected && state.sessionId) emit("/session_start");
      window.sessionStorage.removeItem(STORE_KEY);
      state = { sessionId: null, history: [], open: state.open };
      queue = [];
      while (log.firstChild) log.removeChild(log.firstChild);
      greet();
      save();
      socket.disconnect();
      socket.connect();
    }

    function greet() {
      var greeting = { from: "bot", text: "Hi! I can help you cancel an order, check where it is, contact the seller or open a dispute." };
      state.history.push(greeting);
      save();
      render(greeting, false);
    }

    function toggle(open) {
      panel.hidden = !open;
      state.open = open;
      save();
      if (open) { input.focus(); scroll(); }
    }
    launcher.addEventListener("click", function () { toggle(panel.hidden); });
    closer.addEventListener("click", function () { toggle(false); });
    ender.addEventListener("click", endChat);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      sendMessage(input.value);
      input.value = "";
    });

    if (!state.history.length) greet();
    return { open: function () { toggle(true); }, endChat: endChat, socket: socket };
  }

  window.OrderAssistant = { init: init };
})();
