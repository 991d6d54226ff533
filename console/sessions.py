"""The console's session cookie: signed, not stored.

The cookie holds the agent's username, when the session ends (8 hours after sign-in), the
session's CSRF token and a fingerprint of the agent's password hash, as base64url JSON,
followed by an HMAC-SHA256 of it under ``CONSOLE_SESSION_SECRET``. A changed byte, an
expired session, a removed agent or a changed password: no session.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from actions.identity import MissingSecret, require_secret  # noqa: F401 (console.server catches it)

SECRET_ENV = "CONSOLE_SESSION_SECRET"
COOKIE_NAME = "console_session"
LIFETIME_SECONDS = 8 * 3600
MAX_COOKIE_LENGTH = 1024


def session_secret(env: Mapping[str, str]) -> str:
    return require_secret(
        env,
        SECRET_ENV,
        "the console signs its session cookies with it and",
        " and give every console process the same value",
    )


@dataclass(frozen=True)
class Session:
    username: str
    expires: int  # Unix time
    csrf: str
    fingerprint: str


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _encode(hmac.new(secret.encode(), f"console-session.{payload}".encode(), hashlib.sha256).digest())


def new_session(username: str, fingerprint: str, now: float, lifetime: int = LIFETIME_SECONDS) -> Session:
    return Session(username, int(now) + lifetime, secrets.token_urlsafe(32), fingerprint)


def sign(session: Session, secret: str) -> str:
    payload = _encode(
        json.dumps(
            {"u": session.username, "e": session.expires, "c": session.csrf, "f": session.fingerprint},
            separators=(",", ":"),
        ).encode()
    )
    return f"{payload}.{_mac(secret, payload)}"


def verify(cookie: str | None, secret: str, now: float) -> Session | None:
    """The session the cookie carries, or None (missing, tampered, malformed or expired)."""
    if not cookie or len(cookie) > MAX_COOKIE_LENGTH or cookie.count(".") != 1:
        return None
    payload, mac = cookie.split(".")
    if not hmac.compare_digest(mac.encode(), _mac(secret, payload).encode()):
        return None
    try:
        data = json.loads(_decode(payload))
        session = Session(str(data["u"]), int(data["e"]), str(data["c"]), str(data["f"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    return session if session.expires > now else None
