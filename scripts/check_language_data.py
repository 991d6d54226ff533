"""Check NLU training or test files before they are added: they parse, every intent exists,
annotations are order numbers and emails, and no message is written twice (anywhere in
data/nlu, ignoring case, accents and punctuation), then count the examples per intent.

    .venv/bin/python scripts/check_language_data.py data/nlu/es        (a folder or files)
    .venv/bin/python scripts/check_language_data.py tests/nlu_heldout_es.yml --against data/nlu/es
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ANNOTATION = re.compile(r"\[([^\]]+)\]\((\w+)\)")
ORDER_ID = re.compile(r"^#?81\d{2}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def intents() -> set[str]:
    domain = yaml.safe_load((ROOT / "domain" / "intents.yml").read_text())
    return {next(iter(item)) if isinstance(item, dict) else item for item in domain["intents"]}


def files(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        found += sorted(path.rglob("*.yml")) if path.is_dir() else [path]
    return found


def key(text: str) -> str:
    """What makes two messages the same: case, accents, punctuation and spacing do not."""
    text = ANNOTATION.sub(r"\1", text)
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def examples(path: Path) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text()) or {}
    found = []
    for item in data.get("nlu", []):
        if "intent" not in item:
            continue
        for line in str(item.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                found.append((item["intent"], line[2:].strip()))
    return found


def problems_in(path: Path, known: set[str]) -> list[str]:
    problems = []
    for intent, text in examples(path):
        if intent not in known:
            problems.append(f"{path}: unknown intent {intent!r}")
        for value, entity in ANNOTATION.findall(text):
            if entity == "order_id" and not ORDER_ID.match(value):
                problems.append(f"{path}: {value!r} is not a 16-digit order number starting 81: {text!r}")
            elif entity == "email" and not EMAIL.match(value):
                problems.append(f"{path}: {value!r} is not an email: {text!r}")
            elif entity not in ("order_id", "email"):
                problems.append(f"{path}: unknown entity {entity!r}: {text!r}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--against", nargs="*", default=[str(ROOT / "data" / "nlu")],
                        help="files or folders the messages must not repeat (default: data/nlu)")  # fmt: skip
    args = parser.parse_args()
    checked = [path.resolve() for path in files(args.paths)]
    known = intents()
    problems: list[str] = []
    seen: dict[str, str] = {}
    for path in [p for p in map(Path.resolve, files(args.against)) if p not in checked]:
        for intent, text in examples(path):
            seen.setdefault(key(text), f"{path.relative_to(ROOT)} ({intent})")
    counts: Counter[str] = Counter()
    for path in checked:
        problems += problems_in(path, known)
        for intent, text in examples(path):
            counts[intent] += 1
            where = f"{path.relative_to(ROOT)} ({intent})"
            if key(text) in seen:
                problems.append(f"written twice: {text!r} in {where} and {seen[key(text)]}")
            seen.setdefault(key(text), where)
    for intent in sorted(known):
        print(f"{counts[intent]:5d}  {intent}")
    print(f"{sum(counts.values()):5d}  in all")
    for problem in problems:
        print("PROBLEM:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
