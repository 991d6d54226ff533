"""The chat page in headless Chromium: what one buyer proved must not reach the next person
at the same browser (a reopened tab, "End chat", signing out)."""

from __future__ import annotations

import re

from tests.e2e.test_chat_page import ARTIFACTS, EMAIL, bot_texts, type_message, wait_online

ORDER = "8100000000000012"


def ask(page, text: str, pattern: str, timeout_ms: int = 45000) -> str:
    """Send a message and wait for a new bot message matching the pattern."""
    before = len(bot_texts(page))
    type_message(page, text)
    for _ in range(timeout_ms // 200):
        new = bot_texts(page)[before:]
        for reply in new:
            if re.search(pattern, reply):
                return reply
        page.wait_for_timeout(200)
    raise AssertionError(f"no new bot message matching {pattern!r}; got {bot_texts(page)[before:]}")


def verify_by_email(page, page_url) -> None:
    page.goto(page_url)
    page.get_by_label("Open the order assistant").click()
    wait_online(page)
    ask(page, f"where is order {ORDER}", "email address")
    assert "Power bank" in ask(page, EMAIL, "Power bank")


def test_a_reopened_tab_starts_a_new_unverified_chat(browser_page, page_url):
    """Old: the session id and transcript lived in localStorage, so the next tab (or the next
    person at this browser) continued the verified conversation."""
    verify_by_email(browser_page, page_url)
    context = browser_page.context
    browser_page.close()
    page = context.new_page()
    page.goto(page_url)
    page.get_by_label("Open the order assistant").click()
    wait_online(page)
    assert not any("Power bank" in text for text in bot_texts(page)), "the old transcript is shown"
    answer = ask(page, f"where is order {ORDER}", "email|Power bank")
    page.screenshot(path=str(ARTIFACTS / "security-reopened-tab.png"))
    assert "Power bank" not in answer and "email" in answer


def test_end_chat_forgets_the_conversation(browser_page, page_url):
    page = browser_page
    verify_by_email(page, page_url)
    page.get_by_test_id("end-chat").click()
    wait_online(page)
    assert not any("Power bank" in text for text in bot_texts(page))
    answer = ask(page, f"where is order {ORDER}", "email|Power bank")
    page.screenshot(path=str(ARTIFACTS / "security-end-chat.png"))
    assert "Power bank" not in answer and "email" in answer


def test_signing_out_ends_the_signed_in_chat(browser_page, page_url):
    page = browser_page
    page.goto(page_url)
    page.get_by_role("button", name="Sign in as Alex Buyer (demo)").click()
    page.get_by_label("Open the order assistant").click()
    wait_online(page)
    assert "Power bank" in ask(page, f"where is order {ORDER}", "Power bank|email")
    page.get_by_role("button", name="Sign out").click()
    wait_online(page)
    answer = ask(page, f"where is order {ORDER}", "email|Power bank")
    assert "Power bank" not in answer and "email" in answer
