"""Build the project's spaCy pipeline from its own files: no model download.

A blank English pipeline with the lookup lemmatizer from ``spacy-lookups-data`` and an
entity ruler that finds order numbers (16 digits, spaces or dashes allowed) and emails.
Rasa's SpacyNLP loads the result from ``build/spacy_en_orders``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import spacy

OUTPUT = Path(__file__).resolve().parent.parent / "build" / "spacy_en_orders"

SEPARATOR = {"TEXT": {"IN": ["-", "–", "—", "."]}, "OP": "?"}


def digit_group(length: int) -> dict:
    return {"TEXT": {"REGEX": rf"^\d{{{length}}}$"}}


def order_number_patterns() -> list[dict]:
    """16 digits written as one block or in groups (4-4-4-4, 8-8, 4-12 …)."""
    groupings = [
        [16],
        [4, 4, 4, 4],
        [8, 8],
        [4, 12],
        [12, 4],
        [4, 4, 8],
        [8, 4, 4],
        [2, 14],
        [3, 13],
    ]
    patterns = []
    for grouping in groupings:
        tokens: list[dict] = []
        for index, length in enumerate(grouping):
            if index:
                tokens.append(dict(SEPARATOR))
            tokens.append(digit_group(length))
        patterns.append({"label": "order_id", "pattern": tokens})
    # "8100.0000.0000.0003" stays one token: the tokenizer does not split dots between digits.
    patterns.append({"label": "order_id", "pattern": [{"TEXT": {"REGEX": r"^\d{4}([.\-–]\d{4}){3}$"}}]})
    return patterns


def email_patterns() -> list[dict]:
    return [{"label": "email", "pattern": [{"LIKE_EMAIL": True}]}]


def build(output: Path = OUTPUT) -> Path:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"validate": True})
    nlp.initialize()  # loads the lemma tables; it also empties the ruler, so patterns go after
    ruler.add_patterns(order_number_patterns() + email_patterns())
    nlp.meta["name"] = "en_orders"
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = "Tokenizer, lookup lemmatizer and order/email entity ruler"
    output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    return output


if __name__ == "__main__":
    path = build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT)
    print(f"spaCy pipeline written to {path}")
