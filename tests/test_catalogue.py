"""Every sentence a buyer reads sits in the wording catalogue (actions/locales): the
adapters, the rules, the service and the channels hold message ids, not text."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from actions.languages import LANGUAGES
from actions.replies import MESSAGES, Money, Say, render

ROOT = Path(__file__).resolve().parents[1]
# Where wording must not be: everything that speaks to a buyer, except the catalogue itself.
# (The stores, the database under them, the schema and the demo data hold SQL and data, not
# what the bot says.)
NOT_SPEAKING = (
    "replies.py",
    "languages.py",  # word lists for telling languages apart
    "store.py",
    "handoff_store.py",
    "database.py",
    "postgres.py",
    "schema.py",
    "demo_data.py",
)
SPEAKING = sorted(
    path for folder in ("actions", "channels") for path in (ROOT / folder).glob("*.py") if path.name not in NOT_SPEAKING
)
WORD = re.compile(r"^[\W\d]*[A-Za-z][a-z']+[\W]*$")  # a word as written in a sentence
SENDERS = {"utter_message", "send_text_message", "send_text_with_buttons", "send_response"}


def docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def quiet_parts(tree: ast.AST) -> set[int]:
    """String nodes inside log calls and exceptions: for operators, not for buyers. (The words
    given to identity.require_secret only go into the exception that refuses a start.)"""
    found = set()
    for node in ast.walk(tree):
        is_log = (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("logger", "logging", "parser", "warnings")
        )
        is_refusal = isinstance(node, ast.Call) and (
            (isinstance(node.func, ast.Name) and node.func.id == "require_secret")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "require_secret")
        )
        if is_log or is_refusal or isinstance(node, ast.Raise):
            found |= {id(child) for child in ast.walk(node)}
    return found


def sentences_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    skip = docstrings(tree) | quiet_parts(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or id(node) in skip:
            continue
        if sum(bool(WORD.match(token)) for token in node.value.split()) >= 4:
            name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
            found.append(f"{name}:{node.lineno}: {node.value[:60]!r}")
    return found


@pytest.mark.parametrize("path", SPEAKING, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_sentence_outside_the_catalogue(path):
    assert sentences_in(path) == []


@pytest.mark.parametrize("path", SPEAKING, ids=lambda path: str(path.relative_to(ROOT)))
def test_messages_are_sent_from_the_catalogue_not_from_literals(path):
    tree = ast.parse(path.read_text(), str(path))
    literal_texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SENDERS:
            values = [kw.value for kw in node.keywords if kw.arg == "text"] + list(node.args[1:2])
            for value in values:
                if isinstance(value, ast.Constant | ast.JoinedStr):
                    literal_texts.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert literal_texts == []


def test_the_scan_finds_a_sentence_when_there_is_one(tmp_path):
    planted = tmp_path / "adapter.py"
    planted.write_text('def run(d):\n    d.utter_message(text="Sorry, I cannot do that now.")\n')
    assert sentences_in(planted) and "Sorry" in sentences_in(planted)[0]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_renders_with_its_named_parameters(key, language):
    texts = MESSAGES[key] if isinstance(MESSAGES[key], str) else " ".join(MESSAGES[key].values())
    names = {name for _, name, _, _ in string.Formatter().parse(texts) if name}
    params = {name: Say("order.label", {"order_id": "8100000000000002", "product": "x"}) for name in names}
    for name in names & {"date", "when", "deadline", "placed", "created", "estimate", "opened", "answer_by", "opens"}:
        from datetime import datetime, timezone

        params[name] = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    for name in names & {"age", "left", "price", "rating", "feedback"}:
        params[name] = 3.0
    for name in names & {"amount"}:
        params[name] = Money(3.0, "EUR")
    for name in names & {"count", "weeks", "position", "hours", "limit"}:
        params[name] = 3
    text = render(Say(key, params), language)
    assert "{" not in text and text.strip()
