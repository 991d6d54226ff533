"""Who the buyer is (docs/product.md §5): a signed identity from the channel, or a matching email.

No Rasa imports: the action adapters pass in message metadata and slot values.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from typing import Any

import jwt

logger = logging.getLogger(__name__)

IDENTITY_SECRET_ENV = "CUSTOMER_IDENTITY_SECRET"
IDENTITY_ISSUER_ENV = "CUSTOMER_IDENTITY_ISSUER"
IDENTITY_METADATA_KEY = "customer_token"
MAX_VERIFICATION_ATTEMPTS = 3
ALGORITHM = "HS256"
# A token says who it is for and who made it, and is short-lived (SECURITY.md, "Identity").
AUDIENCE = "order-assistant"
DEFAULT_ISSUER = "shop"
MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600
CLOCK_LEEWAY_SECONDS = 60
MIN_SECRET_BYTES = 32
GENERATE_SECRET = "`python -c 'import secrets; print(secrets.token_urlsafe(36))'`"

ORDER_ID_LENGTH = 16
_ORDER_CANDIDATE = re.compile(r"\d(?:[\d \-\u2010-\u2015.]*\d)?")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,190}\.[A-Za-z]{2,24}$")
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,190}\.[A-Za-z]{2,24}")


def customer_from_metadata(metadata: dict[str, Any] | None) -> str | None:
    """The customer id from a valid signed token; anything unsigned, tampered, expired,
    meant for another service or valid for too long is ignored."""
    secret = identity_secret()
    if not secret or not isinstance(metadata, dict):
        return None
    token = metadata.get(IDENTITY_METADATA_KEY)
    if not isinstance(token, str) or len(token) > 4096:
        return None
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=issuer(),
            leeway=CLOCK_LEEWAY_SECONDS,
            options={"require": ["sub", "exp", "iat", "aud", "iss"]},
        )
    except jwt.PyJWTError:
        return None
    lifetime = claims["exp"] - claims["iat"]
    if not isinstance(lifetime, int | float) or lifetime > MAX_TOKEN_LIFETIME_SECONDS:
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) and subject else None


def identity_secret() -> str | None:
    """The signing secret, if it is long enough to be one: a short secret can be guessed,
    so the channel identity is then off (and the email check applies)."""
    secret = os.environ.get(IDENTITY_SECRET_ENV) or ""
    if len(secret.encode()) >= MIN_SECRET_BYTES:
        return secret
    if secret:
        logger.error(f"{IDENTITY_SECRET_ENV} has fewer than {MIN_SECRET_BYTES} bytes: signed identities are off")
    return None


class MissingSecret(Exception):
    """A secret a service needs is unset or too short to stand up to guessing."""


def require_secret(env: Mapping[str, str], name: str, purpose: str, advice: str = "") -> str:
    """The secret in `name`; a service that would run without one must not start. `purpose`
    says what the secret protects, so the operator knows why the start was refused."""
    secret = env.get(name, "")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        state = "is not set" if not secret else f"has {len(secret)} characters"
        raise MissingSecret(
            f"{name} {state}: {purpose} needs at least {MIN_SECRET_BYTES} characters. "
            f"Generate one with {GENERATE_SECRET}{advice}."
        )
    return secret


def issuer() -> str:
    return os.environ.get(IDENTITY_ISSUER_ENV) or DEFAULT_ISSUER


def sign_customer_token(customer_id: str, secret: str, lifetime_seconds: int = 3600) -> str:
    """What the website does for a signed-in buyer (used by the chat page and the tests)."""
    import time

    now = int(time.time())
    claims = {"sub": customer_id, "iat": now, "exp": now + lifetime_seconds, "aud": AUDIENCE, "iss": issuer()}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def normalise_order_id(text: Any) -> str | None:
    """The 16-digit order number in ``text`` (spaces and dashes allowed), or None."""
    if not isinstance(text, str):
        return None
    for candidate in _ORDER_CANDIDATE.findall(text[:2000]):
        digits = re.sub(r"\D", "", candidate)
        if len(digits) == ORDER_ID_LENGTH:
            return digits
    return None


def looks_like_order_number(text: Any) -> bool:
    """A number the buyer clearly meant as an order number, even if malformed."""
    if not isinstance(text, str):
        return False
    digits = re.sub(r"\D", "", text[:2000])
    return len(digits) >= 6


def normalise_email(text: Any) -> str | None:
    """A well-formed email found in ``text``, lower-cased, or None."""
    if not isinstance(text, str):
        return None
    text = text.strip()[:400]
    if _EMAIL.match(text):
        return text.lower()
    found = _EMAIL_IN_TEXT.search(text)
    return found.group(0).lower() if found else None
