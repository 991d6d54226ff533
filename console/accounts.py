"""Support agents' accounts, from the environment (``SUPPORT_AGENTS``).

Each entry is ``username:Display Name:pbkdf2_sha256$<iterations>$<salt b64>$<hash b64>``;
entries are separated by ``;`` or new lines. Make one with::

    python -m console.accounts add alice "Alice Martin"          # asks for the password
    printf '%s' "$PASSWORD" | python -m console.accounts add alice "Alice Martin" --password-stdin

and add the printed line to ``SUPPORT_AGENTS``. Only the hash is kept: PBKDF2-HMAC-SHA256
with a random salt and at least 200,000 iterations, compared in constant time. A wrong
username costs the same work as a wrong password, so timing does not tell which names exist.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import re
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass

AGENTS_ENV = "SUPPORT_AGENTS"
ALGORITHM = "pbkdf2_sha256"
DEFAULT_ITERATIONS = 260_000
MIN_ITERATIONS = 200_000
MAX_ITERATIONS = 5_000_000  # a typo must not make every sign-in take minutes
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MAX_NAME_LENGTH = 80


class AccountError(ValueError):
    """An entry of SUPPORT_AGENTS that cannot be used (its text is never repeated: it holds a hash)."""


@dataclass(frozen=True)
class Agent:
    username: str
    name: str
    password_hash: str = ""

    @property
    def fingerprint(self) -> str:
        """Changes when the password does: a session cookie carries it, so a new password (or
        a removed agent) ends the sessions signed in with the old one."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def hash_password(password: str, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{ALGORITHM}${iterations}${_b64(salt)}${_b64(digest)}"


def _parse_hash(encoded: str) -> tuple[int, bytes, bytes]:
    parts = encoded.split("$")
    if len(parts) != 4 or parts[0] != ALGORITHM:
        raise AccountError(f"the password hash is not {ALGORITHM}$<iterations>$<salt>$<hash>")
    try:
        iterations = int(parts[1])
        salt, digest = _unb64(parts[2]), _unb64(parts[3])
    except ValueError:
        raise AccountError("the password hash is malformed (iterations or base64)") from None
    if not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise AccountError(f"the password hash has {iterations} iterations; at least {MIN_ITERATIONS} are required")
    if len(salt) < 8 or len(digest) < 16:
        raise AccountError("the password hash has too short a salt or hash")
    return iterations, salt, digest


def check_password(password: str, encoded: str) -> bool:
    iterations, salt, expected = _parse_hash(encoded)
    given = hashlib.pbkdf2_hmac("sha256", password.encode()[:MAX_PASSWORD_LENGTH], salt, iterations)
    return hmac.compare_digest(given, expected)


def parse_entry(entry: str) -> Agent:
    username, sep1, rest = entry.strip().partition(":")
    name, sep2, encoded = rest.rpartition(":")
    if not (sep1 and sep2):
        raise AccountError("an entry must be username:Display Name:pbkdf2_sha256$...")
    username, name = username.strip(), name.strip()
    if not USERNAME.match(username):
        raise AccountError(f"username {username[:64]!r}: use 1-64 lower-case letters, digits, '.', '_' or '-'")
    if not name or len(name) > MAX_NAME_LENGTH or any(ord(char) < 32 or char == ";" for char in name):
        raise AccountError(f"agent {username}: a display name has 1-{MAX_NAME_LENGTH} printable characters, no ';'")
    try:
        _parse_hash(encoded.strip())
    except AccountError as error:
        raise AccountError(f"agent {username}: {error}") from None
    return Agent(username, name, encoded.strip())


def parse_agents(text: str) -> dict[str, Agent]:
    """Every agent in SUPPORT_AGENTS, by username. Raises AccountError on a bad or repeated entry."""
    agents: dict[str, Agent] = {}
    for number, entry in enumerate(re.split(r"[;\n]", text), start=1):
        if not entry.strip():
            continue
        try:
            agent = parse_entry(entry)
        except AccountError as error:
            raise AccountError(f"{AGENTS_ENV}, entry {number}: {error}") from None
        if agent.username in agents:
            raise AccountError(f"{AGENTS_ENV}, entry {number}: agent {agent.username} is listed twice")
        agents[agent.username] = agent
    return agents


def agents_from_env(env: Mapping[str, str]) -> dict[str, Agent]:
    return parse_agents(env.get(AGENTS_ENV, ""))


class Directory:
    """The agents, and the one way to check a sign-in."""

    def __init__(self, agents: Mapping[str, Agent]) -> None:
        self.agents = dict(agents)
        # Checked when the username is unknown: the same work as a real check.
        self._decoy = hash_password(secrets.token_urlsafe(16), DEFAULT_ITERATIONS)

    def get(self, username: str) -> Agent | None:
        return self.agents.get(username)

    def authenticate(self, username: str, password: str) -> Agent | None:
        agent = self.agents.get(username.strip().lower())
        matches = check_password(password, agent.password_hash if agent else self._decoy)
        return agent if agent is not None and matches else None


def entry_for(username: str, name: str, password: str, iterations: int = DEFAULT_ITERATIONS) -> str:
    """The SUPPORT_AGENTS entry for a new agent (validated as the server will read it)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at most {MAX_PASSWORD_LENGTH} characters")
    entry = f"{username}:{name}:{hash_password(password, iterations)}"
    parse_entry(entry)
    return entry


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m console.accounts", description="Support agents' accounts.")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="print the SUPPORT_AGENTS entry for an agent")
    add.add_argument("username", help="lower-case letters, digits, '.', '_' or '-'")
    add.add_argument("name", help="the display name buyers see, e.g. 'Alice Martin'")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    args = parser.parse_args(argv)
    if args.password_stdin:
        password = sys.stdin.read().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.username}: ")
        if getpass.getpass("Again: ") != password:
            sys.exit("console.accounts: the passwords differ")
    try:
        print(entry_for(args.username, args.name, password))
    except AccountError as error:
        sys.exit(f"console.accounts: {error}")


if __name__ == "__main__":
    main()
