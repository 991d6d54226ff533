"""Understanding per language (issue 17): the trained model on each language's blind set, the
language identifier on the same messages, and the cross-validation predictions split by the
language of the example. Part of `make nlu-report`; alone, on one model (about 2 minutes):

    .venv/bin/python scripts/language_report.py [models/current.tar.gz]

Each blind set, tests/nlu_heldout_<language>.yml, was written by someone who never saw the
training data (data/nlu/<language>/), from the intents' descriptions only (docs/intents.md).
Scored as buyers meet the model: a message the fallback threshold refuses counts as wrong.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actions.languages import LANGUAGES, identify  # noqa: E402
from scripts import nlu_report  # noqa: E402
from scripts.check_language_data import examples, key  # noqa: E402

RESULTS = ROOT / "results"
MODEL = ROOT / "models" / "current.tar.gz"
OTHERS = [language for language in LANGUAGES if language != "en"]
TARGET = 0.90


def heldout(language: str) -> Path:
    return ROOT / "tests" / f"nlu_heldout_{language}.yml"


def plain(text: str) -> str:
    """The message as typed: annotations "[8100…](order_id)" become their text."""
    import re

    return re.sub(r"\[([^\]]+)\]\(\w+\)", r"\1", text)


def scores(rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Accuracy over all intents and macro-F1 over the seven reasons of (text, truth, predicted)."""
    from sklearn.metrics import f1_score

    truth = [row[1] for row in rows]
    predicted = [row[2] for row in rows]
    reasons = sorted({intent for intent in truth if intent.startswith("reason_")})
    return {
        "messages": len(rows),
        "accuracy": sum(t == p for t, p in zip(truth, predicted, strict=True)) / max(len(rows), 1),
        "reason_macro_f1": float(f1_score(truth, predicted, labels=reasons, average="macro", zero_division=0))
        if reasons
        else None,
        "refused": sum(
            p in ("nlu_fallback", "out_of_scope") and t != "out_of_scope"
            for t, p in zip(truth, predicted, strict=False)
        )
        / max(sum(t != "out_of_scope" for t in truth), 1),
        "errors": [row for row in rows if row[1] != row[2]],
    }


def score_blind_sets(model: Path) -> dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings

    configure_logging_and_warnings(logging.WARNING)
    agent = Agent.load(str(model))
    # Short messages ("gracias", "ok") are in the training data too: also scored without them.
    trained = {key(text) for path in (ROOT / "data" / "nlu").rglob("*.yml") for _, text in examples(path)}
    found: dict[str, Any] = {}
    for language in OTHERS:
        path = heldout(language)
        if not path.exists():
            continue
        messages = [(intent, plain(text)) for intent, text in examples(path)]

        async def parse(messages: list[tuple[str, str]] = messages) -> list[str]:
            return [(await agent.parse_message(text))["intent"]["name"] or "none" for _, text in messages]

        rows = [
            (text, intent, predicted) for (intent, text), predicted in zip(messages, asyncio.run(parse()), strict=True)
        ]
        named = [identify(text) for _, text in messages]
        unseen = [row for row in rows if key(row[0]) not in trained]
        found[language] = {
            **scores(rows),
            "unseen": {name: value for name, value in scores(unseen).items() if name != "errors"},
            "identified": sum(name == language for name in named) / len(named),
            "identified_wrong": sum(name not in (None, language) for name in named) / len(named),
            "wrong_examples": [
                text for (_, text), name in zip(messages, named, strict=True) if name not in (None, language)
            ][:10],
        }
    return found


def language_of_examples() -> dict[str, str]:
    """Training text → its language (data/nlu/<language>/; everything else is English)."""
    languages: dict[str, str] = {}
    for language in OTHERS:
        for path in sorted((ROOT / "data" / "nlu" / language).glob("*.yml")):
            for _, text in examples(path):
                languages[plain(text)] = language
    return languages


def split_cross_validation(rows: list[tuple[str, str, str]]) -> dict[str, Any]:
    languages = language_of_examples()
    by_language: dict[str, list[tuple[str, str, str]]] = {language: [] for language in LANGUAGES}
    for row in rows:
        by_language[languages.get(plain(row[0]), "en")].append(row)
    return {language: scores(found) for language, found in by_language.items() if found}


def lines(blind: dict[str, Any], cross: dict[str, Any] | None) -> list[str]:
    table = [
        "| language | blind set: messages | accuracy, all intents | reason macro-F1 | refused "
        "| the messages not in the training data: how many, accuracy, reason macro-F1 "
        "| identified as the language / as another | cross-validation: examples | accuracy | reason macro-F1 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for language in LANGUAGES:
        row = blind.get(language)
        cv = (cross or {}).get(language)
        cells = [language]
        if row:
            cells += [
                str(row["messages"]),
                f"{row['accuracy']:.3f}",
                f"{row['reason_macro_f1']:.3f}",
                f"{row['refused']:.1%}",
                f"{row['unseen']['messages']}, {row['unseen']['accuracy']:.3f}, {row['unseen']['reason_macro_f1']:.3f}",
                f"{row['identified']:.1%} / {row['identified_wrong']:.1%}",
            ]
        else:
            cells += ["(English: tests/nlu_heldout.yml)", "", "", "", "", ""]
        cells += [str(cv["messages"]), f"{cv['accuracy']:.3f}", f"{cv['reason_macro_f1']:.3f}"] if cv else ["", "", ""]
        table.append("| " + " | ".join(cells) + " |")
    return [
        "## Per language (issue 17)",
        "",
        f"Targets: reason macro-F1 ≥ {TARGET} and all-intent accuracy ≥ {TARGET} in each language. The blind sets "
        'are scored as buyers meet the model (a refused message is wrong). "Identified": the language identifier '
        "(actions/languages.py) names the message's language; a message it cannot tell keeps the conversation's.",
        "",
        *table,
        "",
    ]


def cross_validation_by_language() -> dict[str, Any] | None:
    """The folds' predictions that `scripts/nlu_report.py` wrote, split by language; None
    before its first run."""
    path = nlu_report.CROSS_VALIDATION / "predictions.json"
    if not path.exists():
        return None
    return split_cross_validation([(p["text"], p["intent"], p["predicted"]) for p in json.loads(path.read_text())])


def main() -> None:
    model = Path(sys.argv[1]) if len(sys.argv) > 1 else MODEL
    blind = score_blind_sets(model)
    cross = cross_validation_by_language()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "nlu_languages.json").write_text(
        json.dumps({"blind": blind, "cross_validation": cross}, indent=2, ensure_ascii=False)
    )
    text = "\n".join(lines(blind, cross))
    (RESULTS / "nlu_languages.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
