"""The chat page in a browser set to Spanish (es-ES): the widget's own words and the whole
conversation are in Spanish, checked with the assistant's own identifier."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect, sync_playwright

from actions.languages import identify
from actions.replies import template
from tests.e2e import test_chat_page as chat_page
from tests.e2e.test_chat_page import ARTIFACTS, BROWSER_ARGS, bot_texts, local_only_context

# The chat page's fixtures: Debian's chromium, the page server under the real CSP.
chromium, page_url = chat_page.chromium, chat_page.page_url

EMAIL = "alex.buyer@example.com"


def words(key: str) -> str:
    return template(key, "es")


def send(page, text: str) -> str:
    """Type a message; the assistant's next message, once it stops arriving."""
    before = len(bot_texts(page))
    page.get_by_label(words("widget.message_label")).fill(text)
    page.get_by_role("button", name=words("widget.send")).click()
    deadline = time.time() + 45
    while time.time() < deadline:
        texts = bot_texts(page)
        if len(texts) > before and not page.get_by_test_id("typing").is_visible():
            time.sleep(0.3)
            return "\n".join(bot_texts(page)[before:])
        time.sleep(0.1)
    raise AssertionError(f"no answer to {text!r}")


def test_a_spanish_browser_gets_the_widget_and_the_conversation_in_spanish(chromium, page_url, stack):
    ARTIFACTS.mkdir(exist_ok=True)
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=BROWSER_ARGS)
        context = local_only_context(browser, blocked, locale="es-ES")
        page = context.new_page()
        page.goto(page_url)
        launcher = page.get_by_test_id("launcher")
        expect(launcher).to_have_text(words("widget.launcher_open"))
        expect(launcher).to_have_attribute("lang", "es")
        launcher.click()
        expect(page.get_by_test_id("status")).to_have_text(words("widget.online"), timeout=30000)
        expect(page.get_by_label(words("widget.message_label"))).to_have_attribute(
            "placeholder", words("widget.placeholder")
        )
        expect(page.get_by_role("button", name=words("button.cancel_order"))).to_be_visible()
        answers = [
            send(page, "hola, quiero cancelar mi pedido"),
            send(page, "8100000000000002"),
            send(page, EMAIL),
            send(page, "me equivoqué de talla"),
            send(page, "sí"),
        ]
        page.screenshot(path=str(ARTIFACTS / "chat-page-es.png"), full_page=True)
        every_bot_message = bot_texts(page)
        context.close()
        browser.close()
    assert blocked == []
    assert stack.store().cancellation_requests("8100000000000002"), answers
    for text in every_bot_message:
        assert identify(text) in ("es", None), text
        if len(text.split()) >= 5:
            assert identify(text) == "es", text


@pytest.mark.parametrize("locale", ["en-US", "es-ES", "pt-BR", "fr-FR", "ru-RU"])
def test_the_widgets_own_words_fit_their_buttons_in_every_language(chromium, page_url, locale):
    """Found in Chromium: "Закрыть" and "Discuter" ran out of the round launcher."""
    language = locale.split("-")[0]
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=BROWSER_ARGS)
        for viewport in ({"width": 1280, "height": 800}, {"width": 375, "height": 700}):
            page = local_only_context(browser, blocked, locale=locale, viewport=viewport).new_page()
            page.goto(page_url)
            launcher = page.get_by_test_id("launcher")
            expect(launcher).to_have_text(template("widget.launcher_open", language))
            overflowing = "el => el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight"
            assert not launcher.evaluate(overflowing), f"{locale}: {launcher.inner_text()!r} overflows"
            launcher.click()
            expect(launcher).to_have_text(template("widget.launcher_close", language))
            assert not launcher.evaluate(overflowing), f"{locale}: {launcher.inner_text()!r} overflows"
            if language == "ru" and viewport["width"] > 400:
                page.screenshot(path=str(ARTIFACTS / "chat-page-ru-launcher.png"))
            page.context.close()
        browser.close()
    assert blocked == []
