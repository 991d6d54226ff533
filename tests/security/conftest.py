"""The attacks run against the same real stack as the end-to-end tests (one per session),
and the chat-page ones in the same headless Chromium."""

from tests.e2e.conftest import chat, fresh_demo_data, stack  # noqa: F401 (pytest fixtures)
from tests.e2e.test_chat_page import browser_page, chromium, page_url  # noqa: F401 (pytest fixtures)
