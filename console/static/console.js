/* The agent console. Everything a buyer or the bot wrote is inserted with textContent, never
   as HTML: buyer text is hostile. Every POST carries the session's CSRF token and a JSON body. */
(function () {
  "use strict";

  var POLL_MS = 2000;
  var TRIGGERS = {
    asked: "asked for a person",
    locked: "locked out after failed checks",
    misunderstood: "misunderstood twice"
  };
  // The language the buyer writes in (the summary's "language"): the agent answers in it.
  var LANGUAGE_NAMES = { en: "English", es: "Spanish", pt: "Portuguese", fr: "French", ru: "Russian" };
  var STATES = {
    waiting: "waiting",
    with_agent: "with an agent",
    handed_back: "handed back to the bot",
    closed: "closed"
  };
  var WHO = { buyer: "Buyer", bot: "Bot", agent: "Agent" };

  var state = { csrf: "", agent: null, selected: null, detail: null, lines: [], timer: null, busy: false };
  var $ = function (id) { return document.getElementById(id); };

  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = state.csrf;
      options.body = JSON.stringify(body || {});
    }
    return fetch(path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.status === 401 && path !== "/api/login") signedOut();
        return { status: response.status, ok: response.ok, data: data };
      });
    });
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds || 0));
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min " + (seconds % 60) + " s";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function clock(iso) {
    var date = new Date(iso);
    return isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // --- signing in and out ---------------------------------------------------------------

  function showSignIn() {
    $("desk").hidden = true;
    $("account").hidden = true;
    $("sign-in").hidden = false;
    $("username").focus();
  }

  function signedIn(data) {
    state.csrf = data.csrf;
    state.agent = data.agent;
    $("agent-name").textContent = "Signed in as " + data.agent.name;
    $("account").hidden = false;
    $("sign-in").hidden = true;
    $("desk").hidden = false;
    poll();
  }

  function signedOut() {
    clearTimeout(state.timer);
    state.timer = null;
    state.csrf = "";
    state.agent = null;
    state.selected = null;
    state.detail = null;
    state.lines = [];
    $("queue").textContent = "";
    $("conversation").hidden = true;
    $("conversation-empty").hidden = false;
    $("conversation-heading").textContent = "Conversation";
    showSignIn();
  }

  $("sign-in-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var error = $("sign-in-error");
    error.textContent = "";
    var username = $("username").value.trim();
    var password = $("password").value;
    if (!username || !password) {
      error.textContent = "Enter your username and password.";
      return;
    }
    api("POST", "/api/login", { username: username, password: password }).then(function (answer) {
      $("password").value = "";
      if (answer.ok) {
        signedIn(answer.data);
      } else if (answer.status === 429) {
        error.textContent = "Too many failed sign-ins. Try again in 15 minutes.";
      } else if (answer.status === 401) {
        error.textContent = "Wrong username or password.";
      } else {
        error.textContent = "Sign-in failed (" + answer.status + ").";
      }
    }, function () {
      error.textContent = "The console cannot be reached. Check the connection and try again.";
    });
  });

  $("sign-out").addEventListener("click", function () {
    api("POST", "/api/logout").then(signedOut, signedOut);
  });

  // --- the queue -------------------------------------------------------------------------

  function queueLabel(item) {
    return item.customer + " · " + (item.order_id ? "order " + item.order_id : "no order");
  }

  function queueDetail(item) {
    var where = item.state === "waiting"
      ? "#" + item.position + " in line, waiting " + duration(item.waiting_seconds)
      : (item.mine ? "with you" : "with " + (item.agent_name || "an agent")) + ", " + duration(item.waiting_seconds);
    return where + " · " + (TRIGGERS[item.trigger] || item.trigger || "") + " · " + (item.channel || "");
  }

  function renderQueue(items) {
    var list = $("queue");
    var focusedId = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.handoffId : undefined;
    var existing = {};
    Array.prototype.forEach.call(list.children, function (li) { existing[li.dataset.handoffId] = li; });
    var seen = {};
    items.forEach(function (item, index) {
      var id = String(item.id);
      seen[id] = true;
      var li = existing[id];
      if (!li) {
        li = el("li");
        li.dataset.handoffId = id;
        var button = el("button", null, "queue-item");
        button.type = "button";
        button.dataset.handoffId = id;
        button.setAttribute("data-testid", "queue-item");
        button.appendChild(el("span", null, "queue-title"));
        button.appendChild(el("span", null, "queue-detail"));
        button.addEventListener("click", function () { select(item.id); });
        li.appendChild(button);
      }
      var itemButton = li.firstChild;
      itemButton.querySelector(".queue-title").textContent = queueLabel(item);
      itemButton.querySelector(".queue-detail").textContent = queueDetail(item);
      itemButton.dataset.state = item.state;
      itemButton.classList.toggle("mine", !!item.mine);
      if (String(state.selected) === id) itemButton.setAttribute("aria-current", "true");
      else itemButton.removeAttribute("aria-current");
      if (list.children[index] !== li) list.insertBefore(li, list.children[index] || null);
    });
    Object.keys(existing).forEach(function (id) { if (!seen[id]) list.removeChild(existing[id]); });
    if (focusedId && !seen[focusedId] && document.activeElement === document.body) $("queue-heading").focus();
    var waiting = items.filter(function (item) { return item.state === "waiting"; }).length;
    var status = waiting === 0 ? "Nobody is waiting." : (waiting === 1 ? "1 buyer is waiting." : waiting + " buyers are waiting.");
    if (items.length > waiting) status += " " + (items.length - waiting) + " with an agent.";
    if ($("queue-status").textContent !== status) $("queue-status").textContent = status;
    document.title = (waiting ? "(" + waiting + ") " : "") + "Agent console — order assistant";
  }

  // --- one conversation ----------------------------------------------------------------------

  function select(id) {
    if (state.selected !== id) {
      state.selected = id;
      state.detail = null;
      state.lines = [];
      $("transcript").textContent = "";
      $("action-status").textContent = "";
      $("reply-text").value = "";
      updateCount();
    }
    loadDetail().then(function () { $("conversation-heading").focus(); });
    Array.prototype.forEach.call(document.querySelectorAll(".queue-item"), function (button) {
      if (button.dataset.handoffId === String(id)) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    });
  }

  function term(list, name, value) {
    if (value === undefined || value === null || value === "") return;
    list.appendChild(el("dt", name));
    var dd = el("dd");
    if (value instanceof Node) dd.appendChild(value);
    else dd.textContent = String(value);
    list.appendChild(dd);
  }

  function record(value) {
    if (value === null || typeof value !== "object") return String(value);
    return Object.keys(value).filter(function (key) { return value[key] !== null && value[key] !== ""; })
      .map(function (key) { return key.replace(/_/g, " ") + ": " + record(value[key]); }).join(", ");
  }

  function renderSummary(summary, handoff) {
    var dl = $("summary");
    dl.textContent = "";
    var verified = summary.customer_id
      ? summary.customer + " (verified" + (summary.verified_by ? " by " + summary.verified_by : "") + ")"
      : "not verified";
    term(dl, "Customer", verified);
    var order = summary.order;
    if (order && typeof order === "object") {
      var facts = el("ul", null, "facts");
      [["Order", order.order_id], ["Product", order.product], ["Status", order.status], ["Seller", order.seller],
       ["Placed", order.placed_at], ["Tracking", order.tracking_number]].forEach(function (fact) {
        if (fact[1]) facts.appendChild(el("li", fact[0] + ": " + fact[1]));
      });
      term(dl, "Order", facts);
    } else {
      term(dl, "Order", summary.order_id || "none identified");
    }
    term(dl, "Reason", summary.reason_label || summary.reason || "not given");
    term(dl, "Buyer's words", summary.buyer_words);
    term(dl, "Bot advised", summary.bot_offered || "nothing pending");
    var done = summary.done;
    var doneList = el("ul", null, "facts");
    if (done && typeof done === "object") {
      Object.keys(done).forEach(function (kind) {
        (Array.isArray(done[kind]) ? done[kind] : [done[kind]]).forEach(function (entry) {
          doneList.appendChild(el("li", kind.replace(/_/g, " ") + ": " + record(entry)));
        });
      });
    }
    term(dl, "Bot did", doneList.children.length ? doneList : "nothing yet");
    term(dl, "Why handed over", TRIGGERS[summary.trigger || handoff.trigger] || summary.trigger || handoff.trigger);
    term(dl, "Channel", handoff.channel);
    term(dl, "Buyer's language", LANGUAGE_NAMES[summary.language] || LANGUAGE_NAMES.en);
    var known = ["customer", "customer_id", "verified_by", "order", "order_id", "reason", "reason_label",
      "buyer_words", "bot_offered", "done", "trigger", "language"];
    Object.keys(summary).forEach(function (key) {
      if (known.indexOf(key) < 0) term(dl, key.replace(/_/g, " "), record(summary[key]));
    });
  }

  function sameLine(a, b) { return a.who === b.who && a.text === b.text && a.at === b.at; }

  function renderTranscript(lines) {
    var list = $("transcript");
    var scroller = $("transcript-log");
    var old = state.lines;
    var prefix = old.length <= lines.length && old.every(function (line, i) { return sameLine(line, lines[i]); });
    if (!prefix) {
      list.textContent = "";
      old = [];
    }
    var nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
    lines.slice(old.length).forEach(function (line) {
      var li = el("li", null, "line line-" + line.who);
      li.setAttribute("data-testid", "transcript-entry");
      li.dataset.who = line.who;
      var meta = el("span", null, "line-meta");
      meta.textContent = (line.who === "agent" && line.agent ? line.agent + " (agent)" : WHO[line.who] || line.who) +
        (line.at ? " · " + clock(line.at) : "");
      li.appendChild(meta);
      li.appendChild(el("span", line.text, "line-text"));
      list.appendChild(li);
    });
    state.lines = lines.slice();
    if (nearBottom || !prefix) scroller.scrollTop = scroller.scrollHeight;
  }

  function renderDetail(data) {
    var handoff = data.handoff;
    state.detail = data;
    $("conversation-empty").hidden = true;
    $("conversation").hidden = false;
    $("conversation-heading").textContent = "Conversation with " + handoff.customer +
      (handoff.order_id ? " about order " + handoff.order_id : "");
    var who = handoff.state === "with_agent"
      ? (handoff.mine ? "You are handling this conversation." : (handoff.agent_name || "Another agent") + " is handling this conversation.")
      : handoff.state === "waiting"
        ? "Waiting for an agent for " + duration(handoff.waiting_seconds) + " (#" + handoff.position + " in line)."
        : "This conversation was " + (STATES[handoff.state] || handoff.state) + (handoff.agent_name ? " by " + handoff.agent_name : "") + ".";
    $("conversation-state").textContent = who;
    var mine = handoff.state === "with_agent" && handoff.mine;
    $("claim").hidden = handoff.state !== "waiting";
    $("hand-back").hidden = !mine;
    $("close").hidden = !mine;
    $("reply-form").hidden = !mine;
    renderSummary(data.summary || {}, handoff);
    var problem = $("transcript-problem");
    problem.hidden = data.live !== false;
    problem.textContent = data.live === false ? "The live conversation cannot be read right now; showing the summary's transcript." : "";
    renderTranscript(data.transcript || []);
  }

  function loadDetail() {
    var id = state.selected;
    if (id === null) return Promise.resolve();
    return api("GET", "/api/handoffs/" + id).then(function (answer) {
      if (state.selected !== id) return;
      if (answer.ok) renderDetail(answer.data);
      else if (answer.status === 404) $("action-status").textContent = "This conversation no longer exists.";
    });
  }

  // --- acting on it ------------------------------------------------------------------------

  function act(path, body, done, after) {
    if (state.busy || state.selected === null) return;
    state.busy = true;
    var status = $("action-status");
    status.textContent = "";
    api("POST", "/api/handoffs/" + state.selected + "/" + path, body).then(function (answer) {
      state.busy = false;
      status.textContent = done(answer);
      // The queue too: a conversation just claimed must not still read "waiting" there.
      return refresh().then(function () { if (answer.ok && after) after(); });
    }, function () {
      state.busy = false;
      status.textContent = "The console cannot be reached. Nothing was sent; try again.";
    });
  }

  function failure(answer) {
    if (answer.status === 409) return "Another agent has already claimed this conversation" + (answer.data.agent_name ? ": " + answer.data.agent_name + "." : ".");
    if (answer.status === 403) return "Only the agent handling this conversation can do that.";
    if (answer.status === 502) return "The buyer could not be reached: " + (answer.data.error || "try again.");
    return (answer.data && answer.data.error) || "That did not work (" + answer.status + ").";
  }

  $("claim").addEventListener("click", function () {
    act("claim", {}, function (answer) {
      if (!answer.ok) return failure(answer);
      return answer.data.buyer_notified ? "You have the conversation. The buyer was told you joined."
        : "You have the conversation, but the buyer could not be told yet.";
    }, function () { if (!$("reply-form").hidden) $("reply-text").focus(); });
  });

  $("hand-back").addEventListener("click", function () {
    act("hand-back", {}, function (answer) {
      return answer.ok ? "Handed back to the bot." : failure(answer);
    }, function () { $("queue-heading").focus(); });
  });

  $("close").addEventListener("click", function () {
    act("close", {}, function (answer) {
      return answer.ok ? "Conversation closed." : failure(answer);
    }, function () { $("queue-heading").focus(); });
  });

  function updateCount() { $("reply-count").textContent = String($("reply-text").value.length); }

  $("reply-text").addEventListener("input", updateCount);
  $("reply-text").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      $("reply-form").requestSubmit ? $("reply-form").requestSubmit() : send();
    }
  });

  function send() {
    var box = $("reply-text");
    var text = box.value.trim();
    if (!text) {
      $("action-status").textContent = "Write a reply first.";
      box.focus();
      return;
    }
    act("reply", { text: text }, function (answer) {
      if (!answer.ok) return failure(answer);
      box.value = "";
      updateCount();
      return "Sent.";
    }, function () { box.focus(); });
  }

  $("reply-form").addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });

  // --- polling -----------------------------------------------------------------------------

  function refresh() {
    return api("GET", "/api/queue").then(function (answer) {
      if (answer.ok) renderQueue(answer.data.queue || []);
      return loadDetail();
    });
  }

  function poll() {
    clearTimeout(state.timer);
    if (!state.agent) return;
    refresh().catch(function () {
      $("queue-status").textContent = "The console cannot be reached; retrying…";
    }).then(function () {
      if (state.agent) state.timer = setTimeout(poll, POLL_MS);
    });
  }

  api("GET", "/api/me").then(function (answer) {
    if (answer.ok) signedIn(answer.data);
    else showSignIn();
  }, showSignIn);
})();
