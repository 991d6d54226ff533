"""The order store's SQLite-style SQL text and values, as psycopg2 and PostgreSQL take them.

The stores write one set of queries for both backends, with sqlite3's ``?`` and ``:name``
placeholders; :mod:`actions.postgres` passes every statement and its parameters through here
before psycopg2 sees them. Kept apart from the connections so the translation can be read and
tested without a server.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from actions.database import Params

# A quoted literal or name (left alone but for %), a cast, a ?, a :name or a %.
_TOKEN = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*")|(::)|(\?)|:([A-Za-z_]\w*)|(%)""")


@lru_cache(maxsize=512)
def pyformat(sql: str) -> str:
    """sqlite's ``?`` and ``:name`` as psycopg2's ``%s`` and ``%(name)s``; a literal % doubled."""

    def swap(match: re.Match[str]) -> str:
        quoted, cast, qmark, name, _ = match.groups()
        if quoted:
            return quoted.replace("%", "%%")
        if cast:
            return cast
        if qmark:
            return "%s"
        if name:
            return f"%({name})s"
        return "%%"

    return _TOKEN.sub(swap, sql)


def _value(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL, which SQLite keeps: it becomes U+FFFD, so the text is
    still stored (and a looked-up id with a NUL still matches nothing) instead of failing."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) and "\x00" in value else value


def adapt_params(params: Params) -> Any:
    """The parameters as psycopg2 takes them (none is an empty tuple), each value made storable."""
    if params is None:
        return ()
    if isinstance(params, dict):
        return {key: _value(value) for key, value in params.items()}
    return tuple(_value(value) for value in params)


def quote(name: str) -> str:
    """A table or column name as a PostgreSQL identifier, safe whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'
