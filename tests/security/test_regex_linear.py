"""No regex that runs on a buyer's text takes more than linear time (issue 12, item 2).

Rasa runs the NLU patterns of data/nlu/patterns.yml over the whole message on the event
loop; `[^@\\s]+@…` took 15 s on 60 kB and held up every other conversation. Each pattern
(those, actions/identity.py's and the channels') is timed on 10 kB and 40 kB of adversarial
text: linear time grows 4×, quadratic 16×. A plain unit test: no stack.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml

from actions import identity
from channels import common, facebook, guard, slack, socketio, telegram

ROOT = Path(__file__).resolve().parents[2]
SMALL, LARGE = 10_000, 40_000
# Linear is 4×; quadratic would be 16×. Timer noise on a shared machine stays well below 6×.
MAX_GROWTH = 6.0
# Below this, a run on 40 kB cannot be quadratic (the old email pattern took ~6 s there).
TOO_FAST_TO_MATTER = 0.02


@pytest.fixture(autouse=True)
def fresh_demo_data() -> None:
    """This module needs no stack: it replaces tests/security's fixture that starts one."""


def nlu_patterns() -> list[tuple[str, re.Pattern]]:
    data = yaml.safe_load((ROOT / "data" / "nlu" / "patterns.yml").read_text())
    found = []
    for item in data["nlu"]:
        for line in item["examples"].splitlines():
            example = line.strip().removeprefix("- ").strip()
            if example:  # as RegexFeaturizer runs them (case_sensitive: false in config.yml)
                found.append((f"{item['regex']}: {example}", re.compile(example, re.IGNORECASE)))
    return found


def module_patterns() -> list[tuple[str, re.Pattern]]:
    modules = (identity, common, facebook, guard, slack, socketio, telegram)
    return [
        (f"{module.__name__}.{name}", value)
        for module in modules
        for name, value in vars(module).items()
        if isinstance(value, re.Pattern)
    ]


PATTERNS = nlu_patterns() + module_patterns()

# Text built to make a backtracking engine retry from every position.
ADVERSARIAL = {
    "letters": lambda n: "cancel " + "a" * n,
    "at signs": lambda n: "a@" * (n // 2),
    "dotted domain": lambda n: "x@" + "a." * (n // 2),
    "no tld": lambda n: "a" * (n // 2) + "@" + "b" * (n // 2),
    "digits": lambda n: "1" * n,
    "spaced digits": lambda n: "1 " * (n // 2) + "x",
    "dashed digits": lambda n: "1-" * (n // 2) + "-",
    "dots": lambda n: "." * n,
    "slack links": lambda n: "<http://a.b> " * (n // 13),
    "slack mailto": lambda n: "<mailto:" * (n // 8),
}


def best_time(pattern: re.Pattern, text: str, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _match in pattern.finditer(text):
            pass
        pattern.match(text)
        times.append(time.perf_counter() - start)
    return min(times)


def test_every_pattern_is_found():
    names = [name for name, _ in PATTERNS]
    assert any(name.startswith("email_address") for name in names), names
    assert any(name.startswith("order_number") for name in names), names
    assert any(name.startswith("actions.identity.") for name in names), names
    assert "channels.slack.SLACK_LINK" in names, names


@pytest.mark.parametrize("name,pattern", PATTERNS, ids=[name for name, _ in PATTERNS])
@pytest.mark.parametrize("kind", sorted(ADVERSARIAL))
def test_pattern_time_grows_linearly(name, pattern, kind):
    build = ADVERSARIAL[kind]
    small, large = best_time(pattern, build(SMALL)), best_time(pattern, build(LARGE))
    if large < TOO_FAST_TO_MATTER:
        return
    growth = large / max(small, 1e-6)
    assert growth < MAX_GROWTH, f"{name} on {kind}: {small:.4f} s at 10 kB, {large:.4f} s at 40 kB ({growth:.1f}×)"


def test_the_old_email_pattern_is_caught():
    """The check itself: the pattern issue 12 measured fails it."""
    old = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.IGNORECASE)
    text = ADVERSARIAL["letters"]
    small, large = best_time(old, text(SMALL // 2), 1), best_time(old, text(LARGE // 2), 1)
    assert large / small > MAX_GROWTH


@pytest.mark.parametrize(
    "text,found",
    [
        ("my email is alex.buyer@example.com thanks", "alex.buyer@example.com"),
        ("ALEX.BUYER@EXAMPLE.COM", "ALEX.BUYER@EXAMPLE.COM"),
        ("a+b@mail.example.co.uk", "a+b@mail.example.co.uk"),
        ("no email here @ all", None),
        ("alex@localhost", None),
    ],
)
def test_the_bounded_email_pattern_matches_as_before(text, found):
    (email,) = [pattern for name, pattern in nlu_patterns() if name.startswith("email_address")]
    old = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.IGNORECASE)
    match, old_match = email.search(text), old.search(text)
    assert (match.group(0) if match else None) == found == (old_match.group(0) if old_match else None)
