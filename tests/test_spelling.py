"""Typo-robust key words (addons/spelling.py): a misspelt key word is mapped onto it, a
run-together pair is split, and nothing else is touched."""

from __future__ import annotations

import pytest

from addons.spelling import Speller, damerau_levenshtein

COUNTS = {"cancel": 40, "canceling": 9, "order": 80, "refund": 30, "package": 12, "my": 90, "where": 50, "is": 70,
          "want": 20, "don't": 15, "pizza": 6, "seller": 25, "sell": 7}  # fmt: skip
KEY_WORDS = ["cancel", "canceling", "order", "refund", "package", "seller", "want"]  # not "pizza": off-topic
speller = Speller(COUNTS, {"canceling": "cancel"}, KEY_WORDS, min_length=4)


@pytest.mark.parametrize(
    "typed,meant",
    [
        ("acnceling", "canceling"),  # two letters swapped
        ("oredr", "order"),
        ("refnud", "refund"),
        ("pakage", "package"),  # one letter missing
        ("cancle", "cancel"),
        ("seler", "seller"),
        ("ordr", "order"),
        ("orders", "order"),  # unknown in this small vocabulary: one edit away
    ],
)
def test_a_misspelt_key_word_is_mapped_onto_it(typed, meant):
    assert speller.correct(typed) == meant


@pytest.mark.parametrize("typed", ["order", "pizzza", "bank", "xyz", "c4ncel", "canceld order"])
def test_known_short_off_topic_or_far_words_are_left_alone(typed):
    assert speller.correct(typed) is None


def test_run_together_words_are_split_when_one_half_is_a_key_word():
    assert speller.split("myorder") == ("my", "order")
    assert speller.split("don'twant") == ("don't", "want")
    assert speller.split("whereis") is None, "neither half is a key word"


def test_damerau_levenshtein_counts_a_swap_as_one_edit():
    assert damerau_levenshtein("acnceling", "canceling", 2) == 1
    assert damerau_levenshtein("refund", "refunded", 1) == 2
    assert damerau_levenshtein("abc", "abc", 0) == 0
