"""Who the buyer is (docs/product.md §5): a signed identity from the channel, or a matching email.

No Rasa imports: the action adapters pass in message metadata and slot values.
"""

from __future__ import annotations

import os
import re
from typing import Any

import jwt

IDENTITY_SECRET_ENV = "CUSTOMER_IDENTITY_SECRET"
IDENTITY_METADATA_KEY = "customer_token"
MAX_VERIFICATION_ATTEMPTS = 3
ALGORITHM = "HS256"

ORDER_ID_LENGTH = 16
_ORDER_CANDIDATE = re.compile(r"\d(?:[\d \-\u2010-\u2015.]*\d)?")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,190}\.[A-Za-z]{2,24}$")
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,190}\.[A-Za-z]{2,24}")


def customer_from_metadata(metadata: dict[str, Any] | None) -> str | None:
    """The customer id from a valid signed token; anything unsigned or tampered is ignored."""
    secret = os.environ.get(IDENTITY_SECRET_ENV)
    if not secret or not isinstance(metadata, dict):
        return None
    token = metadata.get(IDENTITY_METADATA_KEY)
    if not isinstance(token, str) or len(token) > 4096:
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) and subject else None


def sign_customer_token(customer_id: str, secret: str, lifetime_seconds: int = 3600) -> str:
    """What the website does for a signed-in buyer (used by the chat page and the tests)."""
    import time

    now = int(time.time())
    return jwt.encode({"sub": customer_id, "iat": now, "exp": now + lifetime_seconds}, secret, algorithm=ALGORITHM)


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
