"""The chat page in a real headless Chromium (Debian's), driven by Playwright: a whole
cancellation by clicking and typing, a reload in the middle, safe rendering of bot text.
Every request that is not to this machine is blocked. Screenshots go to test-artifacts/.

Playwright (requirements-dev.lock) and Chromium (`make browser`) are required: without
either these tests fail, they are never skipped."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests.e2e.conftest import ROOT, free_port, wait_for

ARTIFACTS = ROOT / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
EMAIL = "alex.buyer@example.com"


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium: on PATH, or where Debian puts it."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"Chromium is missing ({path}): `make browser` installs Debian's chromium")
    return path


@pytest.fixture(scope="module")
def page_url(chromium, stack, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("web") / "web.log"
    server = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts" / "serve_web.py"),
            "--port",
            str(port),
            "--rasa-url",
            stack.rasa_url,
        ],
        env=stack.env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(url, server, log)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def browser_page(chromium, page_url):
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(viewport={"width": 1100, "height": 760})

        def only_local(route):
            host = urlsplit(route.request.url).hostname or ""
            if host in LOCAL_HOSTS:
                return route.continue_()
            blocked.append(route.request.url)
            return route.abort()

        context.route("**/*", only_local)
        page = context.new_page()
        page.blocked = blocked
        yield page
        context.close()
        browser.close()
    assert blocked == [], f"the page tried to reach the outside: {blocked}"


def bot_texts(page) -> list[str]:
    return page.locator("[data-testid=bot-message]").all_inner_texts()


def wait_for_bot(page, pattern: str, timeout: float = 45) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for text in reversed(bot_texts(page)):
            if re.search(pattern, text):
                return text
        page.wait_for_timeout(200)
    raise AssertionError(f"no bot message matching {pattern!r}; got {bot_texts(page)[-4:]}")


def wait_online(page) -> None:
    # The page's CSP forbids eval, so waits go through locators, not wait_for_function.
    expect(page.get_by_test_id("status")).to_have_text("online", timeout=30000)


def type_message(page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send").click()


def test_cancel_an_order_in_the_browser_across_a_reload(browser_page, page_url, stack):
    page = browser_page
    page.goto(page_url)
    page.get_by_label("Open the order assistant").click()
    wait_online(page)
    type_message(page, "I want to cancel my order")
    expect_typing = page.locator("[data-testid=typing]")
    wait_for_bot(page, "order number")
    assert expect_typing.count() == 0
    type_message(page, "8100 0000 0000 0002")
    wait_for_bot(page, "email address")
    type_message(page, EMAIL)
    wait_for_bot(page, "Why do you want to cancel")
    page.screenshot(path=str(ARTIFACTS / "chat-reasons.png"))
    page.get_by_role("button", name="I changed my mind").click()
    wait_for_bot(page, "Shall I send the cancellation request")
    page.screenshot(path=str(ARTIFACTS / "chat-confirm.png"))

    page.reload()
    wait_online(page)
    assert any("Shall I send the cancellation request" in text for text in bot_texts(page))
    page.get_by_role("button", name="Yes, go ahead").click()
    wait_for_bot(page, "sent your cancellation request")
    page.screenshot(path=str(ARTIFACTS / "chat-done.png"))
    requests_rows = stack.store().cancellation_requests("8100000000000002")
    assert len(requests_rows) == 1 and requests_rows[0]["reason"] == "changed_mind"


def test_bot_text_is_never_rendered_as_html(browser_page, page_url, stack):
    page = browser_page
    page.goto(page_url)
    page.get_by_label("Open the order assistant").click()
    type_message(page, "hello")
    wait_for_bot(page, "cancel an order")
    session_id = page.evaluate("JSON.parse(sessionStorage.getItem('orderAssistant.v1')).sessionId")
    hostile = '<img src=x onerror="window.__xss=1"><b>bold</b> see http://127.0.0.1:9/help'
    response = requests.post(
        f"{stack.rasa_url}/conversations/{session_id}/tracker/events",
        params={"output_channel": "latest", "execute_side_effects": "true"},
        json=[{"event": "bot", "text": hostile}],
        timeout=30,
    )
    assert response.ok, response.text
    wait_for_bot(page, re.escape("<b>bold</b>"))
    bubble = page.locator("[data-testid=bot-message]").last
    assert bubble.locator("img").count() == 0 and bubble.locator("b").count() == 0
    assert bubble.locator("a").get_attribute("href") == "http://127.0.0.1:9/help"
    assert page.evaluate("window.__xss") is None


def test_signed_in_buyer_is_not_asked_for_an_email(browser_page, page_url):
    page = browser_page
    page.goto(page_url)
    page.get_by_role("button", name="Sign in as Alex Buyer (demo)").click()
    expect(page.get_by_test_id("account")).to_contain_text("Signed in", timeout=30000)
    page.get_by_label("Open the order assistant").click()
    type_message(page, "I want to cancel my order")
    wait_for_bot(page, "order number")
    type_message(page, "8100000000000008")
    text = wait_for_bot(page, "Why do you want to cancel|email address")
    assert "Why do you want to cancel" in text
