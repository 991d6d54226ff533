"""Forged or careless identity tokens prove nothing (unit tests, no stack). Old: a 5-byte
secret was accepted, a 30-year token was accepted, and audience and issuer went unchecked."""

from __future__ import annotations

import time

import jwt
import pytest

from actions.identity import AUDIENCE, IDENTITY_SECRET_ENV, customer_from_metadata, sign_customer_token

SECRET = "a-proper-secret-of-at-least-32-bytes-0123456789"


def claims(**changes) -> dict:
    now = int(time.time())
    base = {"sub": "C1", "iat": now, "exp": now + 600, "aud": AUDIENCE, "iss": "shop"}
    return {key: value for key, value in {**base, **changes}.items() if value is not None}


def proven(token: str) -> str | None:
    return customer_from_metadata({"customer_token": token})


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv(IDENTITY_SECRET_ENV, SECRET)


def test_a_proper_token_proves_the_customer():
    assert proven(sign_customer_token("C1", SECRET)) == "C1"
    assert proven(jwt.encode(claims(), SECRET, algorithm="HS256")) == "C1"


def test_a_short_secret_turns_signed_identities_off(monkeypatch):
    monkeypatch.setenv(IDENTITY_SECRET_ENV, "12345")
    assert proven(sign_customer_token("C1", "12345")) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int(time.time()) + 30 * 365 * 86400},  # valid for thirty years
        {"aud": "another-service"},
        {"aud": None},
        {"iss": "somebody-else"},
        {"iat": None},
        {"exp": int(time.time()) - 120},  # expired
        {"sub": ""},
    ],
    ids=["thirty-years", "other-audience", "no-audience", "other-issuer", "no-issued-at", "expired", "no-subject"],
)
def test_careless_tokens_prove_nothing(changes):
    assert proven(jwt.encode(claims(**changes), SECRET, algorithm="HS256")) is None


def test_unsigned_and_other_algorithms_prove_nothing():
    assert proven(jwt.encode(claims(), None, algorithm="none")) is None
    assert proven(jwt.encode(claims(), "another-secret-of-at-least-32-bytes-xxxxx", algorithm="HS256")) is None
