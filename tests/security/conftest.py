"""The attacks run against the same real stack as the end-to-end tests (one per session),
and the chat-page ones in the same headless Chromium. Unit-level attacks need neither."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import chat, stack  # noqa: F401 (pytest fixtures)
from tests.e2e.test_chat_page import browser_page, chromium, page_url  # noqa: F401 (pytest fixtures)


@pytest.fixture(autouse=True)
def fresh_demo_data(request) -> None:
    """Each attack on the live stack starts from the demo data; unit tests start nothing."""
    if "stack" in request.fixturenames:
        request.getfixturevalue("stack").store().reset()
