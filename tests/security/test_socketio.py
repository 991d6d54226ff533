"""Attacks on the chat page's socket.io channel: speaking in someone else's session,
choosing a session id, oversized frames. A real python-socketio client (polling)
against the real Rasa server."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

import requests
import socketio

from channels.socketio import is_issued

WAIT = 60


@dataclass
class Browser:
    """One chat page: a socket, its confirmed session, and what the bot said to it."""

    client: socketio.Client
    session_id: str = ""
    replies: list[str] = field(default_factory=list)
    confirmed: threading.Event = field(default_factory=threading.Event)
    answered: threading.Event = field(default_factory=threading.Event)
    gone: threading.Event = field(default_factory=threading.Event)

    def say(self, text: str, session_id: str | None = None) -> None:
        self.answered.clear()
        self.client.emit("user_uttered", {"message": text, "session_id": session_id or self.session_id})

    def say_and_wait(self, text: str) -> str:
        self.say(text)
        assert self.answered.wait(WAIT), f"no answer to {text!r}"
        return self.replies[-1]


def open_browser(url: str, requested: str | None = None) -> Browser:
    browser = Browser(socketio.Client(reconnection=False))

    @browser.client.on("session_confirm")
    def confirm(session_id: str) -> None:
        browser.session_id = session_id
        browser.confirmed.set()

    @browser.client.on("bot_uttered")
    def bot(message: dict) -> None:
        browser.replies.append(message.get("text") or "")
        browser.answered.set()

    @browser.client.on("disconnect")
    def gone() -> None:
        browser.gone.set()

    browser.client.connect(url, socketio_path="/socket.io", transports=["polling"], wait_timeout=WAIT)
    browser.client.emit("session_request", {"session_id": requested})
    assert browser.confirmed.wait(WAIT), "no session_confirm"
    return browser


def user_texts(stack, session_id: str) -> list[str]:
    events = requests.get(f"{stack.rasa_url}/conversations/{session_id}/tracker", timeout=30).json()["events"]
    return [event.get("text") for event in events if event.get("event") == "user"]


def test_a_socket_cannot_speak_in_another_session(stack):
    """Old: Rasa took each message's own `session_id`, so any socket could write into (and
    read the replies of) any conversation whose id it knew."""
    victim, attacker = open_browser(stack.rasa_url), open_browser(stack.rasa_url)
    try:
        assert "order" in victim.say_and_wait("hello")
        attacker.say("where is order 8100000000000012", session_id=victim.session_id)
        # the attacker's own next message is answered: the foreign one was handled before it
        attacker.say_and_wait("hello")
        assert "where is order 8100000000000012" not in user_texts(stack, victim.session_id)
        assert user_texts(stack, attacker.session_id) == ["hello"]
    finally:
        victim.client.disconnect()
        attacker.client.disconnect()


def test_a_made_up_session_id_is_replaced_by_an_issued_one(stack):
    """Old: any id of 8–64 plain characters was accepted, so guessable ids were possible."""
    made_up = f"victim-{uuid.uuid4().hex[:8]}"
    browser = open_browser(stack.rasa_url, requested=made_up)
    try:
        assert browser.session_id != made_up and is_issued_here(browser.session_id)
    finally:
        browser.client.disconnect()


def is_issued_here(session_id: str) -> bool:
    # The secret is per server; its shape (64 hex characters) is checked here, its
    # signature by the unit test below.
    return len(session_id) == 64 and all(c in "0123456789abcdef" for c in session_id)


def test_a_reload_resumes_the_issued_session(stack):
    first = open_browser(stack.rasa_url)
    first.say_and_wait("hello")
    first.client.disconnect()
    again = open_browser(stack.rasa_url, requested=first.session_id)
    try:
        assert again.session_id == first.session_id
    finally:
        again.client.disconnect()


def test_an_oversized_frame_closes_the_socket(stack):
    """Old: socket.io accepted frames of up to 1 MB (python-engineio's default)."""
    browser = open_browser(stack.rasa_url)
    try:
        browser.say("x" * 200_000)
        assert browser.gone.wait(WAIT), "a 200 kB frame was accepted"
        assert user_texts(stack, browser.session_id) == []
    finally:
        browser.client.disconnect()


def test_signatures_are_checked():
    from channels.socketio import new_session_id

    secret, other = b"s" * 32, b"o" * 32
    issued = new_session_id(secret)
    assert is_issued(secret, issued) and not is_issued(other, issued)
    assert not is_issued(secret, issued[:32] + "0" * 32)
    assert not is_issued(secret, None) and not is_issued(secret, "x" * 64)
