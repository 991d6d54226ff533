"""The agent console (console/, issue 14): accounts, the session cookie, CSRF, the sign-in
limits, who may claim, answer, hand back and close, and what reaches Rasa's HTTP API.

The console runs in this process on a free port (a thread with its own event loop), with a
temporary order database and a small stand-in for Rasa's HTTP API that records the events
posted to it."""

from __future__ import annotations

import asyncio
import io
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from sanic import Sanic

from actions.demo_data import open_handoff_store
from actions.replies import render, say
from actions.vocabulary import HandoffState, HandoffTrigger
from console import accounts, server, sessions
from tests.support.stack import free_port

ROOT = Path(__file__).resolve().parents[1]
SECRET = "unit-console-session-secret-0123456789abcdef"
PASSWORDS = {"alice": "alice-password-123", "bob": "bob-password-4567"}
NAMES = {"alice": "Alice Martin", "bob": "Bob Chen"}
ITERATIONS = accounts.MIN_ITERATIONS  # the least the console accepts: quick tests


def entry(username: str) -> str:
    return accounts.entry_for(username, NAMES[username], PASSWORDS[username], ITERATIONS)


AGENTS_TEXT = f"{entry('alice')};\n{entry('bob')}"


# --- accounts ------------------------------------------------------------------------------


def test_an_entry_is_read_and_its_password_checked():
    agents = accounts.parse_agents(AGENTS_TEXT)
    assert set(agents) == {"alice", "bob"}
    alice = agents["alice"]
    assert alice.name == "Alice Martin" and alice.password_hash.startswith(f"pbkdf2_sha256${ITERATIONS}$")
    assert accounts.check_password(PASSWORDS["alice"], alice.password_hash)
    assert not accounts.check_password(PASSWORDS["bob"], alice.password_hash)
    directory = accounts.Directory(agents)
    assert directory.authenticate(" Alice ", PASSWORDS["alice"]) == alice  # names are case-blind
    assert directory.authenticate("alice", "wrong-password-000") is None


def test_a_display_name_may_hold_a_colon():
    agent = accounts.parse_entry(f"carol:Carol: Tier 2:{accounts.hash_password('x' * 12, ITERATIONS)}")
    assert (agent.username, agent.name) == ("carol", "Carol: Tier 2")


@pytest.mark.parametrize(
    "bad",
    [
        "alice",
        "alice:Alice",
        "alice:Alice:plain-text-password",
        "alice:Alice:md5$1$abc$def",
        f"alice:Alice:{accounts.hash_password('x' * 12, 1000)}",  # too few iterations
        f"Alice Smith:Alice:{accounts.hash_password('x' * 12, ITERATIONS)}",  # not a username
        f"alice::{accounts.hash_password('x' * 12, ITERATIONS)}",  # no display name
        "alice:Alice:pbkdf2_sha256$260000$not base64$!!",
    ],
)
def test_a_malformed_entry_is_refused_without_repeating_its_hash(bad):
    with pytest.raises(accounts.AccountError) as refusal:
        accounts.parse_agents(bad)
    assert "entry 1" in str(refusal.value)
    secret_part = bad.rpartition(":")[2]
    if "$" in secret_part:
        assert secret_part not in str(refusal.value)


def test_an_agent_listed_twice_is_refused():
    with pytest.raises(accounts.AccountError, match="listed twice"):
        accounts.parse_agents(f"{entry('alice')};{entry('alice')}")


def test_an_unknown_username_costs_a_full_password_check(monkeypatch):
    directory = accounts.Directory(accounts.parse_agents(AGENTS_TEXT))
    checked: list[str] = []
    real = accounts.check_password
    monkeypatch.setattr(
        accounts, "check_password", lambda password, encoded: checked.append(encoded) or real(password, encoded)
    )
    assert directory.authenticate("mallory", "whatever-password") is None
    assert len(checked) == 1 and checked[0].startswith(f"pbkdf2_sha256${accounts.DEFAULT_ITERATIONS}$")


def test_the_accounts_command_prints_an_entry_from_a_password_on_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
    accounts.main(["add", "dana", "Dana Ortiz", "--password-stdin"])
    printed = capsys.readouterr().out.strip()
    agent = accounts.parse_entry(printed)
    assert (agent.username, agent.name) == ("dana", "Dana Ortiz")
    assert int(agent.password_hash.split("$")[1]) >= 200_000
    assert accounts.check_password("a-long-enough-password", agent.password_hash)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(SystemExit, match="at least 12"):
        accounts.main(["add", "dana", "Dana Ortiz", "--password-stdin"])


# --- the session cookie -------------------------------------------------------------------


def test_a_signed_session_round_trips_and_a_changed_byte_is_refused():
    session = sessions.new_session("alice", "f" * 16, now=1000.0)
    cookie = sessions.sign(session, SECRET)
    assert sessions.verify(cookie, SECRET, now=1001.0) == session
    payload, mac = cookie.split(".")
    forged = sessions._encode(json.dumps({"u": "bob", "e": session.expires, "c": session.csrf, "f": "f" * 16}).encode())
    assert sessions.verify(f"{forged}.{mac}", SECRET, now=1001.0) is None
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    assert sessions.verify(f"{payload}.{flipped}", SECRET, now=1001.0) is None
    assert sessions.verify(cookie, "another-secret-of-enough-length-0123456789", now=1001.0) is None
    for junk in (None, "", "no-dot", "a.b.c", "x" * 5000):
        assert sessions.verify(junk, SECRET, now=1001.0) is None


def test_a_session_expires_after_eight_hours():
    session = sessions.new_session("alice", "f" * 16, now=1000.0)
    cookie = sessions.sign(session, SECRET)
    assert sessions.verify(cookie, SECRET, now=1000.0 + 8 * 3600 - 1) is not None
    assert sessions.verify(cookie, SECRET, now=1000.0 + 8 * 3600) is None


@pytest.mark.parametrize("secret", [None, "too-short"])
def test_the_console_refuses_to_start_without_a_strong_secret(monkeypatch, secret):
    monkeypatch.delenv(sessions.SECRET_ENV, raising=False)
    if secret:
        monkeypatch.setenv(sessions.SECRET_ENV, secret)
    monkeypatch.setenv(accounts.AGENTS_ENV, AGENTS_TEXT)
    with pytest.raises(SystemExit) as refusal:
        server.main(["--port", str(free_port())])
    assert "CONSOLE_SESSION_SECRET" in str(refusal.value.code) and "at least 32" in str(refusal.value.code)


def test_the_console_refuses_to_start_without_agents(monkeypatch):
    monkeypatch.setenv(sessions.SECRET_ENV, SECRET)
    monkeypatch.setenv(accounts.AGENTS_ENV, "")
    with pytest.raises(SystemExit, match="SUPPORT_AGENTS names no agent"):
        server.main(["--port", str(free_port())])


# --- the transcript -------------------------------------------------------------------------


def test_the_transcript_is_the_summarys_then_the_trackers_since_the_handoff_once():
    created = "2026-11-28T12:00:00+00:00"
    before = [
        {"who": "buyer", "text": "cancel my order", "at": "2026-11-28T11:59:40+00:00"},
        {"who": "buyer", "text": "a person please", "at": "2026-11-28T12:00:00+00:00"},
    ]
    base = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc).timestamp()
    events = [
        {"event": "user", "text": "cancel my order", "timestamp": base - 20},
        {"event": "user", "text": "a person please", "timestamp": base + 0.4},  # the same second: in both
        {"event": "action", "name": "action_human_handoff", "timestamp": base + 0.5},
        {"event": "bot", "text": "You're number 1 in the queue.", "timestamp": base + 0.6},
        {"event": "bot", "text": "Hi, Alice here", "metadata": {"agent": "Alice"}, "timestamp": base + 30},
        {"event": "user", "text": "<script>alert(1)</script>", "timestamp": base + 40},
        {"event": "user", "text": '/affirm{"language_hint": "fr"}', "timestamp": base + 50},  # a button
    ]
    lines = server.merge_transcript(before, events, created)
    assert [(line["who"], line["text"]) for line in lines] == [
        ("buyer", "cancel my order"),
        ("buyer", "a person please"),
        ("bot", "You're number 1 in the queue."),
        ("agent", "Hi, Alice here"),
        ("buyer", "<script>alert(1)</script>"),
        ("buyer", "/affirm"),
    ]
    assert lines[3]["agent"] == "Alice" and lines[4]["at"] == "2026-11-28T12:00:40+00:00"


# --- a console on a free port, against a stand-in for Rasa's HTTP API -----------------------------


class RasaStandIn:
    """Rasa's HTTP API as the console uses it: a conversation's tracker, and appended events."""

    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []
        self.reads: list[dict[str, Any]] = []
        self.events: dict[str, list[dict]] = {}
        self.fail = False
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                match = re.fullmatch(r"/conversations/([^/]+)/tracker", url.path)
                if not match:
                    return self._answer(404, {})
                conversation = unquote(match[1])
                stand_in.reads.append({"conversation": conversation, "query": parse_qs(url.query)})
                return self._answer(200, {"sender_id": conversation, "events": stand_in.events.get(conversation, [])})

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                match = re.fullmatch(r"/conversations/([^/]+)/tracker/events", url.path)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                if not match:
                    return self._answer(404, {})
                if stand_in.fail:
                    return self._answer(500, {"error": "broken"})
                stand_in.posted.append({"conversation": unquote(match[1]), "query": parse_qs(url.query), "body": body})
                return self._answer(200, {})

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class ServedConsole:
    """The console app served on a free loopback port from a thread with its own event loop."""

    def __init__(self, app: Sanic) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        async def start() -> None:
            self.served = await app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True)
            assert self.served is not None
            await self.served.startup()
            await self.served.before_start()
            await self.served.after_start()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(start())
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert started.wait(20), "the console did not start"

    def close(self) -> None:
        async def stop() -> None:
            await self.served.before_stop()
            self.served.close()
            await self.served.wait_closed()
            await self.served.after_stop()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(20)


@pytest.fixture(scope="module")
def directory() -> accounts.Directory:
    return accounts.Directory(accounts.parse_agents(AGENTS_TEXT))


@pytest.fixture
def rasa() -> Iterator[RasaStandIn]:
    stand_in = RasaStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture
def make_console(order_db, rasa, directory, monkeypatch):
    """Start a console (settings may be changed); all of them share one database."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    started: list[ServedConsole] = []

    def make(**changes: Any) -> ServedConsole:
        settings = server.Settings(rasa_url=rasa.url, secret=SECRET, agents=directory, db_path=order_db, **changes)
        console = ServedConsole(server.build_app(settings, name=f"console_{uuid.uuid4().hex}"))
        started.append(console)
        return console

    yield make
    for console in started:
        console.close()


@pytest.fixture
def console(make_console) -> ServedConsole:
    return make_console()


@pytest.fixture
def handoffs(order_db):
    return open_handoff_store(order_db)


def queue_one(handoffs, conversation: str = "buyer-1", channel: str = "socketio") -> int:
    summary = {
        "trigger": "asked",
        "customer_id": "C1",
        "customer": "Alex Buyer",
        "verified_by": "email",
        "order_id": "8100000000000002",
        "order": {"order_id": "8100000000000002", "status": "paid", "product": "Headphones"},
        "reason": "changed_mind",
        "transcript": [{"who": "buyer", "text": "a person please", "at": "2026-11-28T12:00:00+00:00"}],
    }
    return handoffs.open_handoff(conversation, channel, HandoffTrigger.ASKED, summary).id


def sign_in(console: ServedConsole, username: str, password: str | None = None, **headers: str) -> requests.Response:
    return requests.post(
        f"{console.url}/api/login",
        json={"username": username, "password": password or PASSWORDS[username]},
        headers={"Origin": console.url, **headers},
        timeout=30,
    )


def agent_session(console: ServedConsole, username: str) -> requests.Session:
    """A signed-in agent's browser: the cookie, the CSRF token and a same-origin Origin."""
    answer = sign_in(console, username)
    assert answer.status_code == 200, answer.text
    browser = requests.Session()
    browser.headers.update({"Origin": console.url, "X-CSRF-Token": answer.json()["csrf"]})
    browser.cookies.set(sessions.COOKIE_NAME, answer.cookies[sessions.COOKIE_NAME])
    return browser


def set_cookie(answer: requests.Response) -> str:
    return answer.headers.get("Set-Cookie", "")


# --- signing in -------------------------------------------------------------------------------


def test_an_api_call_without_a_session_is_401(console, handoffs):
    handoff = queue_one(handoffs)
    for method, path in [
        ("GET", "/api/me"),
        ("GET", "/api/queue"),
        ("GET", "/api/report"),
        ("GET", f"/api/handoffs/{handoff}"),
    ]:
        assert requests.request(method, console.url + path, timeout=10).status_code == 401, path
    for action in ("claim", "reply", "hand-back", "close"):
        answer = requests.post(
            f"{console.url}/api/handoffs/{handoff}/{action}", json={"text": "hi"}, headers={"Origin": console.url}
        )
        assert answer.status_code == 401, action
    forged = requests.get(f"{console.url}/api/me", cookies={sessions.COOKIE_NAME: "e30.AAAA"}, timeout=10)
    assert forged.status_code == 401
    assert handoffs.handoff(handoff)["state"] == "waiting"


def test_signing_in_sets_an_httponly_samesite_strict_cookie(console):
    answer = sign_in(console, "alice")
    assert answer.status_code == 200
    assert answer.json()["agent"] == {"id": "alice", "name": "Alice Martin"}
    cookie = set_cookie(answer)
    assert cookie.startswith(f"{sessions.COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback, nothing says TLS
    me = requests.get(f"{console.url}/api/me", cookies={sessions.COOKIE_NAME: answer.cookies[sessions.COOKIE_NAME]})
    assert me.status_code == 200 and me.json()["csrf"] == answer.json()["csrf"]


def test_the_cookie_is_secure_behind_a_trusted_tls_proxy_only(make_console):
    untrusting = make_console()
    proxied = {"X-Forwarded-Proto": "https"}
    answer = sign_in(untrusting, "alice", **proxied)
    assert answer.status_code == 200 and "Secure" not in set_cookie(answer)

    trusting = make_console(behind_tls_proxy=True)
    origin = trusting.url.replace("http://", "https://")
    answer = sign_in(trusting, "alice", **proxied, Origin=origin)
    assert answer.status_code == 200, answer.text
    assert "Secure" in set_cookie(answer) and "HttpOnly" in set_cookie(answer)
    assert sign_in(trusting, "alice", **proxied).status_code == 403  # http:// is not the origin behind TLS

    always = make_console(secure_cookies=True)
    assert "Secure" in set_cookie(sign_in(always, "alice"))


def test_signing_in_needs_a_same_origin_origin_and_json(console):
    body = {"username": "alice", "password": PASSWORDS["alice"]}
    assert requests.post(f"{console.url}/api/login", json=body, timeout=10).status_code == 403  # no Origin
    foreign = requests.post(f"{console.url}/api/login", json=body, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and "Set-Cookie" not in foreign.headers
    form = requests.post(f"{console.url}/api/login", data=body, headers={"Origin": console.url}, timeout=10)
    assert form.status_code == 415


def test_five_failures_for_a_name_stop_its_sign_ins_in_every_console(make_console, handoffs):
    first = make_console()
    for _ in range(server.MAX_FAILURES_PER_AGENT):
        assert sign_in(first, "alice", "wrong-password-000").status_code == 401
    refused = sign_in(first, "alice")  # even the right password: the limit comes first
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Set-Cookie" not in refused.headers
    # The failures are in the database, not in the process: another console refuses too.
    assert sign_in(make_console(), "alice").status_code == 429
    assert handoffs.login_failures("alice", "127.0.0.1", timedelta(minutes=15)) == (5, 5)
    assert sign_in(first, "bob").status_code == 200  # another agent is not locked out


def test_twenty_failures_from_an_address_stop_its_sign_ins(console, handoffs):
    for number in range(server.MAX_FAILURES_PER_ADDRESS):
        handoffs.record_login_failure(f"guess{number}", "127.0.0.1", timedelta(minutes=15))
    assert sign_in(console, "bob").status_code == 429


# --- CSRF ------------------------------------------------------------------------------------


def test_a_post_without_the_csrf_token_is_refused(console, handoffs, rasa):
    handoff = queue_one(handoffs)
    alice = agent_session(console, "alice")
    url = f"{console.url}/api/handoffs/{handoff}/claim"
    assert alice.post(url, json={}, headers={"X-CSRF-Token": ""}).status_code == 403
    assert alice.post(url, json={}, headers={"X-CSRF-Token": "x" * 43}).status_code == 403
    assert alice.post(url, json={}, headers={"Origin": "https://evil.example"}).status_code == 403
    assert alice.post(url, data="{}", headers={"Content-Type": "text/plain"}).status_code == 415
    assert handoffs.handoff(handoff)["state"] == "waiting" and rasa.posted == []
    assert alice.post(url, json={}).status_code == 200


def test_signing_out_clears_the_cookie(console):
    alice = agent_session(console, "alice")
    answer = alice.post(f"{console.url}/api/logout", json={})
    assert answer.status_code == 200
    assert "Max-Age=0" in set_cookie(answer) and "HttpOnly" in set_cookie(answer)


# --- claiming, answering, handing back ---------------------------------------------------------


def test_two_agents_claiming_at_once_one_wins(console, handoffs, rasa):
    handoff = queue_one(handoffs, "buyer-race")
    browsers = [agent_session(console, "alice"), agent_session(console, "bob")]
    url = f"{console.url}/api/handoffs/{handoff}/claim"
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda browser: browser.post(url, json={}), browsers))
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    winner = handoffs.handoff(handoff)["agent_name"]
    assert winner in ("Alice Martin", "Bob Chen")
    joined = render(say("handoff.joined", agent=winner))
    assert [post["body"] for post in rasa.posted] == [
        [{"event": "bot", "text": joined, "metadata": {"handoff": "joined"}}]
    ]
    post = rasa.posted[0]
    assert post["conversation"] == "buyer-race"
    assert post["query"]["output_channel"] == ["latest"] and post["query"]["execute_side_effects"] == ["true"]


def test_only_the_holder_replies_hands_back_or_closes(console, handoffs, rasa):
    handoff = queue_one(handoffs, "buyer-held")
    alice, bob = agent_session(console, "alice"), agent_session(console, "bob")
    base = f"{console.url}/api/handoffs/{handoff}"
    assert bob.post(f"{base}/reply", json={"text": "not yet claimed"}).status_code == 403  # nobody holds it
    assert alice.post(f"{base}/claim", json={}).status_code == 200
    rasa.posted.clear()
    for action in ("reply", "hand-back", "close"):
        assert bob.post(f"{base}/{action}", json={"text": "I am not the holder"}).status_code == 403, action
    assert rasa.posted == [] and handoffs.handoff(handoff)["state"] == "with_agent"
    assert bob.post(f"{console.url}/api/handoffs/9999/claim", json={}).status_code == 404


def test_the_holders_reply_goes_to_rasa_as_a_bot_message_with_the_agent(console, handoffs, rasa):
    handoff = queue_one(handoffs, "buyer/with slash")
    alice = agent_session(console, "alice")
    base = f"{console.url}/api/handoffs/{handoff}"
    assert alice.post(f"{base}/claim", json={}).status_code == 200
    rasa.posted.clear()
    for bad in ("", "   ", "x" * (server.MAX_REPLY_CHARS + 1), 42):
        assert alice.post(f"{base}/reply", json={"text": bad}).status_code == 400
    answer = alice.post(f"{base}/reply", json={"text": "  Hello, I'm looking at your order now.  "})
    assert answer.status_code == 200
    assert rasa.posted == [
        {
            "conversation": "buyer/with slash",
            "query": {"output_channel": ["latest"], "execute_side_effects": ["true"], "include_events": ["NONE"]},
            "body": [
                {"event": "bot", "text": "Hello, I'm looking at your order now.", "metadata": {"agent": "Alice Martin"}}
            ],
        }
    ]


@pytest.mark.parametrize(
    ("action", "state", "message"),
    [("hand-back", HandoffState.HANDED_BACK, "handoff.handed_back"), ("close", HandoffState.CLOSED, "handoff.closed")],
)
def test_handing_back_or_closing_resumes_the_bot(console, handoffs, rasa, action, state, message):
    handoff = queue_one(handoffs, f"buyer-{action}")
    alice = agent_session(console, "alice")
    base = f"{console.url}/api/handoffs/{handoff}"
    assert alice.post(f"{base}/claim", json={}).status_code == 200
    rasa.posted.clear()
    answer = alice.post(f"{base}/{action}", json={})
    assert answer.status_code == 200 and answer.json() == {"state": state.value}
    text = render(say(message, agent="Alice Martin"))
    assert [post["body"] for post in rasa.posted] == [
        [{"event": "resume"}, {"event": "bot", "text": text}, {"event": "action", "name": "action_listen"}]
    ]
    assert handoffs.handoff(handoff)["state"] == state.value
    assert alice.post(f"{base}/reply", json={"text": "too late"}).status_code == 403  # no longer held


def test_a_reply_rasa_does_not_take_is_reported_not_lost_silently(console, handoffs, rasa):
    handoff = queue_one(handoffs)
    alice = agent_session(console, "alice")
    assert alice.post(f"{console.url}/api/handoffs/{handoff}/claim", json={}).status_code == 200
    rasa.fail = True
    answer = alice.post(f"{console.url}/api/handoffs/{handoff}/reply", json={"text": "are you there?"})
    assert answer.status_code == 502


# --- what agents see ------------------------------------------------------------------------------


def test_the_queue_and_a_handoffs_summary_and_transcript(make_console, handoffs, rasa):
    console = make_console(rasa_token="rasa-api-token")
    first = queue_one(handoffs, "buyer-a")
    second = handoffs.open_handoff("buyer-b", "telegram", HandoffTrigger.LOCKED, {"customer": "not verified"}).id
    rasa.events["buyer-a"] = [
        {"event": "user", "text": "<img src=x onerror=alert(1)>", "timestamp": time.time() + 5},
    ]
    alice = agent_session(console, "alice")
    queue = alice.get(f"{console.url}/api/queue").json()["queue"]
    assert [(item["id"], item["position"], item["trigger"], item["customer"]) for item in queue] == [
        (first, 1, "asked", "Alex Buyer"),
        (second, 2, "locked", "not verified"),
    ]
    assert queue[0]["order_id"] == "8100000000000002" and queue[0]["waiting_seconds"] >= 0
    detail = alice.get(f"{console.url}/api/handoffs/{first}")
    assert detail.status_code == 200
    data = detail.json()
    assert data["summary"]["order"]["product"] == "Headphones" and "transcript" not in data["summary"]
    assert [line["text"] for line in data["transcript"]] == ["a person please", "<img src=x onerror=alert(1)>"]
    assert rasa.reads[-1]["query"]["token"] == ["rasa-api-token"]  # Rasa's --auth-token
    assert alice.get(f"{console.url}/api/report").json()["by_trigger"] == {"asked": 1, "locked": 1, "misunderstood": 0}
    assert alice.get(f"{console.url}/api/handoffs/424242").status_code == 404
    # Presence: the bot tells buyers whether anyone is at the desk.
    assert handoffs.agents_at_desk(timedelta(minutes=1)) == 1


def test_every_response_carries_the_security_headers(console):
    for path in ("/", "/console.js", "/console.css", "/api/queue"):
        answer = requests.get(console.url + path, timeout=10)
        assert "default-src 'self'" in answer.headers["Content-Security-Policy"], path
        assert "unsafe-inline" not in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        assert answer.headers["Cache-Control"] == "no-store"
    assert requests.get(f"{console.url}/../server.py", timeout=10).status_code == 404


def test_the_page_has_no_inline_script_or_style_and_never_inserts_html():
    page = (ROOT / "console/static/index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and "<style" not in page and " style=" not in page
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers
    script = (ROOT / "console/static/console.js").read_text()
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", script)
    for testid in ("queue-item", "transcript-entry", "claim", "send", "hand-back", "close", "reply-text", "summary"):
        assert f'"{testid}"' in page or f'"{testid}"' in script, testid
