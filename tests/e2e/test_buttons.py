"""Every button also works when typed: its title, sent as text, means its payload."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import yaml

from actions.adapter import main_topic_buttons, reason_button, yes_no_buttons
from actions.vocabulary import Reason

ROOT = Path(__file__).resolve().parents[2]


def all_buttons() -> list[tuple[str, str]]:
    ours = yes_no_buttons() + main_topic_buttons() + [reason_button(reason) for reason in Reason]
    buttons = {(b["title"], b["payload"]) for b in ours}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        for variants in (yaml.safe_load(path.read_text()).get("responses") or {}).values():
            for variant in variants:
                buttons |= {(b["title"], b["payload"]) for b in variant.get("buttons", [])}
    return sorted(buttons)


@pytest.mark.parametrize("title,payload", all_buttons())
def test_typed_button_title_means_the_payload(stack, title, payload):
    parsed = requests.post(f"{stack.rasa_url}/model/parse", json={"text": title}, timeout=30).json()
    assert parsed["intent"]["name"] == payload.lstrip("/"), parsed["intent_ranking"][:3]
