"""The action server, for the Rasa server only (SECURITY.md).

rasa-sdk's own server (stock ``rasa run actions``) listens on every interface and runs any
action for whoever POSTs a tracker, so a crafted tracker (any ``order_id`` and
``customer_id``) reads or changes any order. This entry point serves the same rasa-sdk app
on loopback by default, and refuses every call but ``GET /health`` that lacks the secret
shared with the Rasa server::

    ACTION_SERVER_TOKEN=... python -m actions.server [--port 5055] [--host 127.0.0.1]

Rasa sends the secret as the query parameter ``token`` (``token:`` under
``action_endpoint`` in endpoints.yml); a proxy or a probe may send ``Authorization: Bearer``.

Plain ``rasa run actions`` gets the same rules: this module is also a rasa-sdk plugin
(:func:`attach_sanic_app_extensions`, registered by ``actions/__init__.py`` when rasa-sdk's
server loads the actions), so it refuses to start without the secret, refuses calls without
it, and listens on loopback unless ``SANIC_HOST`` (or ``ACTION_SERVER_HOST``) says otherwise.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
from collections.abc import Mapping

import pluggy
from rasa_sdk.endpoint import create_app
from rasa_sdk.utils import configure_colored_logging, update_sanic_log_level
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions import identity, webhook
from actions.identity import MissingSecret
from actions.languages import conversation_language
from actions.replies import LANGUAGE

TOKEN_VARIABLE = "ACTION_SERVER_TOKEN"
HOST_VARIABLE = "ACTION_SERVER_HOST"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5055
# Start scripts and load balancers probe it without the secret; it says nothing but "ok".
OPEN_ROUTES = frozenset({("GET", "/health")})
UNAUTHORISED = {"error": "unauthorised"}

logger = logging.getLogger("actions.server")  # also when run as __main__
hookimpl = pluggy.HookimplMarker("rasa_sdk")


def shared_secret(env: Mapping[str, str]) -> str:
    """The secret from the environment; an action server without one must not start,
    since it would serve every order to anyone who reaches the port."""
    return identity.require_secret(
        env,
        TOKEN_VARIABLE,
        "the action server's shared secret, the same value the Rasa server sends (endpoints.yml, "
        "action_endpoint `token:`),",
        "; in this project `source .venv/bin/activate` (after `make setup`) sets this checkout's own, "
        "from var/secrets.env. See SECURITY.md",
    )


def presented_token(request: Request) -> str:
    """What the caller offers: Rasa's ``?token=`` query parameter, or a bearer token."""
    query = request.args.get("token")
    if query:
        return str(query)
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def require_secret(app: Sanic, token: str) -> Sanic:
    """Answer 401 before any handler runs (so no action executes) unless the caller
    presents the secret; compared in constant time, as bytes (``compare_digest`` rejects
    non-ASCII ``str``)."""
    expected = token.encode()

    async def check(request: Request) -> HTTPResponse | None:
        if (request.method, request.path) in OPEN_ROUTES:
            return None
        if hmac.compare_digest(presented_token(request).encode(), expected):
            return None
        logger.warning("Refused %s %s from %s: no valid token.", request.method, request.path, request.ip)
        return response.json(UNAUTHORISED, status=401)

    def first_in_line(app: Sanic, _loop: object = None) -> None:
        """Ahead of the CORS middleware rasa-sdk adds, which answers OPTIONS itself and puts
        itself first again when the server starts."""
        if check in app.request_middleware:
            app.request_middleware.remove(check)
        app.request_middleware.appendleft(check)

    first_in_line(app)
    app.register_listener(first_in_line, "before_server_start")
    return app


def speak_the_buyers_language(app: Sanic) -> Sanic:
    """Every message an action renders comes out in the conversation's language: the slots
    `language` and `language_hint` of the tracker Rasa sends with the call (actions/languages.py).
    Request middleware runs in the handler's task, so the setting is this call's alone."""

    async def choose(request: Request) -> None:
        if request.method != "POST" or request.path != "/webhook":
            return
        try:
            slots = (request.json.get("tracker") or {}).get("slots") or {}
        except Exception:  # an unreadable body: rasa-sdk answers it
            slots = {}
        LANGUAGE.set(conversation_language(slots if isinstance(slots, dict) else {}))

    app.register_middleware(choose, "request")
    return app


def build_app(token: str) -> Sanic:
    """rasa-sdk's app for our actions, allowing no CORS origin (no browser calls it), with the check."""
    return send_webhooks(speak_the_buyers_language(require_secret(create_app("actions", cors_origins=None), token)))


def send_webhooks(app: Sanic) -> Sanic:
    """With HANDOFF_WEBHOOK_URL set, post each handoff to the team's helpdesk from a background
    task (actions/webhook.py). A URL without a usable secret stops the start-up."""
    configured = webhook.settings(os.environ)
    if configured is None:
        return app
    url, secret = configured

    async def start(app: Sanic, _loop: object = None) -> None:
        from actions.service import get_service  # the store opens once the server runs

        app.add_task(webhook.delivery_loop(get_service().handoffs, url, secret))
        logger.info("Handoffs are also posted to %s", url)

    app.register_listener(start, "after_server_start")
    return app


@hookimpl
def attach_sanic_app_extensions(app: Sanic) -> None:
    """rasa-sdk's hook, called by plain ``rasa run actions`` (``rasa_sdk.endpoint.run``) on
    its app before it starts: the same secret and the same loopback default as :func:`main`.
    rasa-sdk reads ``SANIC_HOST`` (default 0.0.0.0) right after this hook."""
    try:
        token = shared_secret(os.environ)
        send_webhooks(speak_the_buyers_language(require_secret(app, token)))
    except (MissingSecret, webhook.WebhookMisconfigured) as refusal:
        raise SystemExit(f"rasa run actions: {refusal}") from None
    os.environ.setdefault("SANIC_HOST", os.environ.get(HOST_VARIABLE) or DEFAULT_HOST)
    logger.info("Action server: token required, except GET /health; host %s", os.environ["SANIC_HOST"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m actions.server", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--host",
        default=os.environ.get(HOST_VARIABLE) or DEFAULT_HOST,
        help=f"address to listen on (default: ${HOST_VARIABLE} or {DEFAULT_HOST}); never a public one",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    args = parser.parse_args(argv)
    try:
        token = shared_secret(os.environ)
        app = build_app(token)
    except (MissingSecret, webhook.WebhookMisconfigured) as refusal:
        sys.exit(f"actions.server: {refusal}")
    configure_colored_logging(logging.INFO)
    update_sanic_log_level()
    logger.info("Action server on http://%s:%s (token required, except GET /health)", args.host, args.port)
    # One worker; more capacity is more action servers behind the balancer (README, Scale-out).
    app.run(args.host, args.port, workers=1)


if __name__ == "__main__":
    main()
