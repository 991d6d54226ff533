"""The agent console: support agents sign in, see the conversations handed to a person, claim
one, read its summary and transcript, answer the buyer, and hand back to the bot or close.

    CONSOLE_SESSION_SECRET=... SUPPORT_AGENTS=... python -m console.server [--port 8090]
        [--rasa-url http://localhost:5005] [--host 127.0.0.1]

The queue is the order database's (``ORDER_DB_URL`` or ``ORDER_DB_PATH``;
:mod:`actions.handoff_store`), shared with the action servers and with every other console
process; the conversation itself is Rasa's, read and written through its HTTP API
(:mod:`console.rasa_api`).

Security: a signed session cookie (HttpOnly, SameSite=Strict, Secure behind TLS), a CSRF
token on every POST (and a same-origin ``Origin`` on sign-in), JSON bodies only, sign-in
failures counted in the database (5 per agent name or 20 per address in 15 minutes), and a
strict Content-Security-Policy with no inline script or style.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.database import default_location, describe_location, to_datetime, utc_now
from actions.demo_data import open_handoff_store
from actions.handoff_store import HandoffStore
from actions.languages import LANGUAGES, as_pressed
from actions.replies import render, say
from actions.vocabulary import HandoffState
from console import sessions
from console.accounts import MAX_PASSWORD_LENGTH, AccountError, Agent, Directory, agents_from_env
from console.rasa_api import TOKEN_ENV, RasaApi, RasaUnavailable

logger = logging.getLogger("console.server")


def buyers_language(row: dict[str, Any] | None) -> str:
    """The language the buyer was talking in when the handoff began (actions/handoff.py):
    the console's own notices to the buyer ("… has joined") go out in it."""
    language = ((row or {}).get("summary") or {}).get("language")
    return language if language in LANGUAGES else "en"


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
DEFAULT_RASA_URL = "http://localhost:5005"
SECURE_COOKIES_ENV = "CONSOLE_SECURE_COOKIES"
BEHIND_TLS_PROXY_ENV = "CONSOLE_BEHIND_TLS_PROXY"
PUBLIC_ORIGIN_ENV = "CONSOLE_PUBLIC_ORIGIN"

STATIC = Path(__file__).resolve().parent / "static"
FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/console.js": ("console.js", "text/javascript; charset=utf-8"),
    "/console.css": ("console.css", "text/css; charset=utf-8"),
}

LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_AGENT = 5
MAX_FAILURES_PER_ADDRESS = 20
MAX_REPLY_CHARS = 2000
MAX_TRANSCRIPT_LINES = 500

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _on(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "on", "true", "yes")


@dataclass
class Settings:
    rasa_url: str
    secret: str
    agents: Directory
    db_path: Path | str  # the order database: a SQLite file or a PostgreSQL URL
    rasa_token: str | None = None
    secure_cookies: bool = False  # always mark the cookie Secure
    behind_tls_proxy: bool = False  # trust X-Forwarded-Proto / X-Forwarded-For from the proxy
    public_origin: str | None = None  # e.g. https://support.example.com, when a proxy rewrites Host
    clock: Callable[[], datetime] = field(default=utc_now)

    @classmethod
    def from_env(cls, env: Mapping[str, str], rasa_url: str) -> Settings:
        """Raises sessions.MissingSecret or AccountError when the console must not start."""
        secret = sessions.session_secret(env)
        agents = agents_from_env(env)
        if not agents:
            raise AccountError(
                "SUPPORT_AGENTS names no agent: add one with `python -m console.accounts add <username> "
                '"<Display Name>"` and put the printed entry in SUPPORT_AGENTS'
            )
        return cls(
            rasa_url=rasa_url,
            secret=secret,
            agents=Directory(agents),
            db_path=default_location(),
            rasa_token=env.get(TOKEN_ENV) or None,
            secure_cookies=_on(env.get(SECURE_COOKIES_ENV)),
            behind_tls_proxy=_on(env.get(BEHIND_TLS_PROXY_ENV)),
            public_origin=(env.get(PUBLIC_ORIGIN_ENV) or "").strip().rstrip("/").lower() or None,
        )


# --- what the pages and the API show ---------------------------------------------------------


def _epoch(text: str | None) -> float | None:
    moment = to_datetime(text) if text else None
    return moment.timestamp() if moment else None


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")


def customer_label(row: Mapping[str, Any]) -> str:
    summary = row.get("summary") or {}
    if not row.get("customer_id") and not summary.get("customer_id"):
        return "not verified"
    name = summary.get("customer")
    return str(name) if isinstance(name, str) and name else str(row.get("customer_id") or summary.get("customer_id"))


def queue_item(row: Mapping[str, Any], position: int, agent: Agent, now: datetime) -> dict[str, Any]:
    created = _epoch(row.get("created_at")) or now.timestamp()
    claimed = _epoch(row.get("claimed_at"))
    return {
        "id": row["id"],
        "state": row["state"],
        "agent_name": row.get("agent_name"),
        "mine": row.get("agent_id") == agent.username,
        "waiting_seconds": max(0, int(now.timestamp() - created)),
        "waited_seconds": max(0, int(claimed - created)) if claimed else None,
        "trigger": row.get("trigger"),
        "customer": customer_label(row),
        "verified": bool(row.get("customer_id") or (row.get("summary") or {}).get("customer_id")),
        "order_id": row.get("order_id") or (row.get("summary") or {}).get("order_id"),
        "channel": row.get("channel"),
        "position": position,
        "created_at": row.get("created_at"),
    }


def queue_items(rows: list[dict[str, Any]], agent: Agent, now: datetime) -> list[dict[str, Any]]:
    """Live handoffs, oldest first; a waiting one's position is its place in line (as the
    buyer was told), 0 once an agent has it."""
    items, waiting = [], 0
    for row in rows:
        if row["state"] == HandoffState.WAITING.value:
            waiting += 1
        items.append(queue_item(row, waiting if row["state"] == HandoffState.WAITING.value else 0, agent, now))
    return items


def _line(event: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = event.get("event")
    text = event.get("text")
    if kind not in ("user", "bot") or not isinstance(text, str) or not text:
        return None
    metadata = event.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    if kind == "user":
        who, text = "buyer", as_pressed(text)
    else:
        who = "agent" if metadata.get("agent") else "bot"
    line = {"who": who, "text": text, "at": _iso(float(event.get("timestamp") or 0))}
    if who == "agent":
        line["agent"] = str(metadata["agent"])
    return line


def merge_transcript(
    summary_lines: list[Any], events: list[dict[str, Any]], created_at: str | None
) -> list[dict[str, Any]]:
    """The summary's transcript (the conversation up to the handoff), then what was said since,
    from Rasa's tracker. Times are kept to the second, so a message of the second the handoff
    was made may be in both: it is shown once."""
    before = [
        {"who": str(line.get("who")), "text": str(line.get("text")), "at": str(line.get("at") or "")}
        for line in summary_lines
        if isinstance(line, dict) and line.get("text")
    ]
    cutoff = _epoch(created_at) or 0.0
    overlap = [line for line in before if (_epoch(line["at"]) or 0.0) >= cutoff - 1]
    after = []
    for event in events:
        if float(event.get("timestamp") or 0) < cutoff:
            continue
        line = _line(event)
        if line is None:
            continue
        twin = next((seen for seen in overlap if (seen["who"], seen["text"]) == (line["who"], line["text"])), None)
        if twin is not None:
            overlap.remove(twin)
            continue
        after.append(line)
    return (before + after)[-MAX_TRANSCRIPT_LINES:]


# --- the app ----------------------------------------------------------------------------------


def _error(status: int, message: str, **extra: Any) -> HTTPResponse:
    return response.json({"error": message, **extra}, status=status)


def build_app(settings: Settings, store: HandoffStore | None = None, name: str = "agent_console") -> Sanic:
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 64 * 1024
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.KEEP_ALIVE_TIMEOUT = 15
    handoffs = store or open_handoff_store(settings.db_path, clock=settings.clock)
    rasa = RasaApi(settings.rasa_url, settings.rasa_token)
    app.ctx.store = handoffs
    app.ctx.rasa = rasa

    async def db(fn: Callable[..., Any], *args: Any) -> Any:
        """A store call, off the event loop (SQLite waits for the write lock)."""
        return await asyncio.to_thread(fn, *args)

    def now() -> datetime:
        return settings.clock()

    def over_tls(request: Request) -> bool:
        if request.transport.get_extra_info("sslcontext"):
            return True
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        return settings.behind_tls_proxy and proto == "https"

    def address(request: Request) -> str:
        """The client: the address the trusted proxy saw (the last X-Forwarded-For entry, the
        one it added), else the peer."""
        if settings.behind_tls_proxy:
            forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
            if forwarded[-1]:
                return forwarded[-1]
        return request.ip or "unknown"

    def own_origin(request: Request) -> str:
        if settings.public_origin:
            return settings.public_origin
        scheme = "https" if over_tls(request) else "http"
        return f"{scheme}://{request.headers.get('Host', '')}".lower()

    def set_session_cookie(request: Request, answer: HTTPResponse, value: str, max_age: int) -> None:
        answer.cookies[sessions.COOKIE_NAME] = value
        cookie = answer.cookies[sessions.COOKIE_NAME]
        cookie["path"] = "/"
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["max-age"] = max_age
        if settings.secure_cookies or over_tls(request):
            cookie["secure"] = True

    def session_of(request: Request) -> tuple[Agent, sessions.Session] | None:
        session = sessions.verify(request.cookies.get(sessions.COOKIE_NAME), settings.secret, now().timestamp())
        agent = settings.agents.get(session.username) if session else None
        if session is None or agent is None or not hmac.compare_digest(session.fingerprint, agent.fingerprint):
            return None
        return agent, session

    async def open_rasa(_app: Sanic, _loop: Any) -> None:
        await rasa.open()

    async def close_rasa(_app: Sanic, _loop: Any) -> None:
        await rasa.close()

    app.register_listener(open_rasa, "before_server_start")
    app.register_listener(close_rasa, "after_server_stop")

    @app.middleware("request")
    async def guard(request: Request) -> HTTPResponse | None:
        """Every API call but sign-in needs a session; every POST a JSON body, no foreign
        Origin, and the session's CSRF token (sign-in: a same-origin Origin instead)."""
        request.ctx.agent = None
        if not request.path.startswith("/api/"):
            return None
        login = request.path == "/api/login"
        if request.method == "POST":
            origin = request.headers.get("Origin")
            if (origin is not None or login) and (origin or "").lower() != own_origin(request):
                logger.warning("Refused %s %s from origin %r", request.method, request.path, origin)
                return _error(403, "cross-origin request refused")
            if request.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
                return _error(415, "send JSON (Content-Type: application/json)")
        if login:
            return None
        found = session_of(request)
        if found is None:
            return _error(401, "sign in first")
        agent, session = found
        if request.method == "POST" and not hmac.compare_digest(
            request.headers.get("X-CSRF-Token", "").encode(), session.csrf.encode()
        ):
            return _error(403, "missing or wrong CSRF token")
        request.ctx.agent = agent
        request.ctx.session = session
        await db(handoffs.agent_seen, agent.username, agent.name)
        return None

    @app.middleware("response")
    async def security_headers(_request: Request, answer: HTTPResponse) -> None:
        for header, value in SECURITY_HEADERS.items():
            answer.headers[header] = value

    # --- the page ---

    def page(path: str) -> Callable[[Request], Any]:
        file, content_type = FILES[path]

        async def serve(_request: Request) -> HTTPResponse:
            return response.raw((STATIC / file).read_bytes(), content_type=content_type)

        return serve

    for path in FILES:
        app.add_route(page(path), path, methods=["GET"], name=f"page_{FILES[path][0].replace('.', '_')}")

    @app.get("/favicon.ico")
    async def no_icon(_request: Request) -> HTTPResponse:
        return response.empty()

    @app.get("/health")
    async def health(_request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    # --- signing in and out ---

    @app.post("/api/login")
    async def login(request: Request) -> HTTPResponse:
        body = request.json if isinstance(request.json, dict) else {}
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
            return _error(400, "username and password are required")
        username = username.strip().lower()[:128]
        if len(password) > MAX_PASSWORD_LENGTH:
            password = password[:MAX_PASSWORD_LENGTH]  # still checked, and so still a failure
        client = address(request)
        by_agent, by_address = await db(handoffs.login_failures, username, client, LOGIN_WINDOW)
        if by_agent >= MAX_FAILURES_PER_AGENT or by_address >= MAX_FAILURES_PER_ADDRESS:
            logger.warning("Sign-in for %r from %s refused: too many failures", username, client)
            answer = _error(429, "too many failed sign-ins: try again later")
            answer.headers["Retry-After"] = str(int(LOGIN_WINDOW.total_seconds()))
            return answer
        agent = await asyncio.to_thread(settings.agents.authenticate, username, password)
        if agent is None:
            await db(handoffs.record_login_failure, username, client, LOGIN_WINDOW)
            logger.warning("Failed sign-in for %r from %s", username, client)
            return _error(401, "wrong username or password")
        session = sessions.new_session(agent.username, agent.fingerprint, now().timestamp())
        await db(handoffs.agent_seen, agent.username, agent.name)
        answer = response.json({"agent": {"id": agent.username, "name": agent.name}, "csrf": session.csrf})
        set_session_cookie(request, answer, sessions.sign(session, settings.secret), sessions.LIFETIME_SECONDS)
        logger.info("Agent %s signed in from %s", agent.username, client)
        return answer

    @app.post("/api/logout")
    async def logout(request: Request) -> HTTPResponse:
        answer = response.json({"signed_out": True})
        set_session_cookie(request, answer, "", 0)
        return answer

    @app.get("/api/me")
    async def me(request: Request) -> HTTPResponse:
        agent: Agent = request.ctx.agent
        return response.json({"agent": {"id": agent.username, "name": agent.name}, "csrf": request.ctx.session.csrf})

    # --- the queue ---

    @app.get("/api/queue")
    async def queue(request: Request) -> HTTPResponse:
        rows = await db(handoffs.queue)
        return response.json({"queue": queue_items(rows, request.ctx.agent, now())})

    @app.get("/api/report")
    async def report(_request: Request) -> HTTPResponse:
        return response.json(await db(handoffs.handoff_report))

    @app.get("/api/handoffs/<handoff_id:int>")
    async def detail(request: Request, handoff_id: int) -> HTTPResponse:
        row = await db(handoffs.handoff, handoff_id)
        if row is None:
            return _error(404, "no such handoff")
        position = await db(handoffs.queue_position, handoff_id)
        summary = dict(row.get("summary") or {})
        lines = summary.pop("transcript", None)
        live, problem = True, None
        try:
            events = await rasa.events(row["conversation_id"])
        except RasaUnavailable as error:
            events, live, problem = [], False, str(error)
        item = queue_item(row, position, request.ctx.agent, now())
        item.update(
            conversation_id=row["conversation_id"],
            claimed_at=row.get("claimed_at"),
            ended_at=row.get("ended_at"),
        )
        return response.json(
            {
                "handoff": item,
                "summary": summary,
                "transcript": merge_transcript(lines if isinstance(lines, list) else [], events, row.get("created_at")),
                "live": live,
                "problem": problem,
            }
        )

    # --- taking part ---

    async def held(request: Request, handoff_id: int) -> dict[str, Any] | HTTPResponse:
        """The handoff, if this agent holds it."""
        row = await db(handoffs.handoff, handoff_id)
        if row is None:
            return _error(404, "no such handoff")
        if row["state"] != HandoffState.WITH_AGENT.value or row.get("agent_id") != request.ctx.agent.username:
            return _error(403, "only the agent who claimed this conversation can do that")
        return row

    async def tell_buyer(row: Mapping[str, Any], events: list[dict[str, Any]]) -> str | None:
        try:
            await rasa.append(row["conversation_id"], events)
        except RasaUnavailable as error:
            logger.error("Handoff %s: Rasa did not take %s: %s", row["id"], [e["event"] for e in events], error)
            return str(error)
        return None

    @app.post("/api/handoffs/<handoff_id:int>/claim")
    async def claim(request: Request, handoff_id: int) -> HTTPResponse:
        agent: Agent = request.ctx.agent
        if not await db(handoffs.claim, handoff_id, agent.username, agent.name):
            row = await db(handoffs.handoff, handoff_id)
            if row is None:
                return _error(404, "no such handoff")
            return _error(409, "this conversation is not waiting any more", agent_name=row.get("agent_name"))
        row = await db(handoffs.handoff, handoff_id)
        text = render(say("handoff.joined", agent=agent.name), buyers_language(row))
        problem = await tell_buyer(row, [{"event": "bot", "text": text, "metadata": {"handoff": "joined"}}])
        logger.info("Agent %s claimed handoff %s", agent.username, handoff_id)
        return response.json({"claimed": True, "buyer_notified": problem is None, "problem": problem})

    @app.post("/api/handoffs/<handoff_id:int>/reply")
    async def reply(request: Request, handoff_id: int) -> HTTPResponse:
        agent: Agent = request.ctx.agent
        body = request.json if isinstance(request.json, dict) else {}
        text = body.get("text")
        text = text.strip() if isinstance(text, str) else ""
        if not 1 <= len(text) <= MAX_REPLY_CHARS:
            return _error(400, f"a reply has 1 to {MAX_REPLY_CHARS} characters")
        row = await held(request, handoff_id)
        if isinstance(row, HTTPResponse):
            return row
        problem = await tell_buyer(row, [{"event": "bot", "text": text, "metadata": {"agent": agent.name}}])
        if problem:
            return _error(502, "the reply could not be delivered: try again", problem=problem)
        return response.json({"sent": True})

    def resumed(text: str) -> list[dict[str, Any]]:
        """The bot back, saying so, and listening: Rasa's rules start from a user message that
        follows ``action_listen``, and a paused conversation never got one."""
        return [{"event": "resume"}, {"event": "bot", "text": text}, {"event": "action", "name": "action_listen"}]

    async def end(request: Request, handoff_id: int, state: HandoffState, message: str) -> HTTPResponse:
        agent: Agent = request.ctx.agent
        row = await held(request, handoff_id)
        if isinstance(row, HTTPResponse):
            return row
        if not await db(handoffs.end, handoff_id, agent.username, state):
            return _error(403, "only the agent who claimed this conversation can do that")
        text = render(say(message, agent=agent.name), buyers_language(row))
        problem = await tell_buyer(row, resumed(text))
        logger.info("Agent %s ended handoff %s: %s", agent.username, handoff_id, state.value)
        if problem:
            return _error(502, "recorded, but the Rasa server could not resume the conversation", problem=problem)
        return response.json({"state": state.value})

    @app.post("/api/handoffs/<handoff_id:int>/hand-back")
    async def hand_back(request: Request, handoff_id: int) -> HTTPResponse:
        return await end(request, handoff_id, HandoffState.HANDED_BACK, "handoff.handed_back")

    @app.post("/api/handoffs/<handoff_id:int>/close")
    async def close(request: Request, handoff_id: int) -> HTTPResponse:
        return await end(request, handoff_id, HandoffState.CLOSED, "handoff.closed")

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m console.server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    parser.add_argument("--rasa-url", default=DEFAULT_RASA_URL, help=f"Rasa's HTTP API (default {DEFAULT_RASA_URL})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env(os.environ, args.rasa_url)
    except (sessions.MissingSecret, AccountError) as refusal:
        sys.exit(f"console.server: {refusal}")
    app = build_app(settings)
    logger.info(
        "Agent console on http://%s:%s (Rasa at %s, %d agents, queue in %s)",
        args.host,
        args.port,
        args.rasa_url,
        len(settings.agents.agents),
        describe_location(settings.db_path),
    )
    app.run(args.host, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
