"""The HTTP client: every conversation at once, at most `in_flight` requests in the air.

Turn i of conversation c goes to [nginx, rasa 1, rasa 2][(c+i) % 3], from the
conversation's own loopback address; a buyer who gets an error, a timeout or "try again"
waits and sends the same text again, as a buyer would."""

from __future__ import annotations

import asyncio
import errno
import random
import time
import uuid
from dataclasses import dataclass, field

import aiohttp

from bench.scale.paths import Plan
from channels.guard import TRY_AGAIN
from tests.support.cluster import REST_TOKEN, Cluster

BEARER = {"Authorization": f"Bearer {REST_TOKEN}"}
ENDPOINTS = ("nginx", "rasa 1", "rasa 2")
RETRIES = 10
RETRY_WAIT_S = (1.0, 2.0)
# Longer than nginx's proxy_read_timeout (60 s), so that a stuck upstream shows as nginx's 504.
REQUEST_TIMEOUT_S = 90.0
PROGRESS_EVERY_S = 15.0
# Second octet of each phase's client addresses: 127.<block>.x.y.
ADDRESS_BLOCKS = {"load": 101, "faults": 102}


@dataclass
class Attempt:
    """One HTTP request: a try of one turn."""

    conversation: int
    turn: int
    attempt_id: str
    endpoint: int
    started_s: float  # since the phase began
    latency_s: float
    waited_s: float  # for a slot among the requests in flight
    outcome: str  # "ok", "try again", "http 502", "timeout", "connect error", ...


@dataclass
class Outcome:
    """How one conversation went."""

    plan: Plan
    turns_answered: int = 0
    failed: str | None = None  # why it stopped before its last turn
    off_script: list[dict[str, str]] = field(default_factory=list)  # answers without the expected phrase


def source_address(block: int, index: int) -> str:
    """A loopback address of the conversation's own (all of 127/8 is loopback on Linux)."""
    return f"127.{block}.{index // 250}.{index % 250 + 1}"


async def post(session: aiohttp.ClientSession, url: str, sender: str, text: str, attempt: str) -> tuple[str, str]:
    """Send one message; the outcome's kind and the reply's text."""
    body = {"sender": sender, "message": text, "metadata": {"attempt": attempt}}
    try:
        async with session.post(f"{url}/webhooks/rest/webhook", json=body) as response:
            if response.status != 200:
                await response.read()
                return f"http {response.status}", ""
            replies = await response.json()
    except asyncio.TimeoutError:
        return "timeout", ""
    except aiohttp.ClientConnectorError:
        return "connect error", ""
    except aiohttp.ServerDisconnectedError:
        return "disconnected", ""
    except aiohttp.ClientOSError as error:  # e.g. the connection reset by a server killed mid-request
        return f"connection error ({errno.errorcode.get(error.errno or 0, error.errno)})", ""
    except aiohttp.ClientError as error:
        return type(error).__name__, ""
    except ValueError:  # a body that is not JSON
        return "bad reply", ""
    texts = [reply.get("text") or "" for reply in replies]
    if TRY_AGAIN in texts:
        return "try again", TRY_AGAIN
    if not any(texts):
        return "no reply", ""
    return "ok", "\n".join(texts)


class Load:
    """One phase's traffic: every conversation at once, at most `in_flight` requests at a time."""

    def __init__(self, urls: list[str], plans: list[Plan], in_flight: int, block: int) -> None:
        self.urls, self.plans, self.block = urls, plans, block
        self.in_flight = in_flight
        self.attempts: list[Attempt] = []
        self.planned_turns = sum(len(plan.turns) for plan in plans)
        self.answered = 0
        self.done = False
        self.began = time.perf_counter()
        self.wall_s = 0.0

    def clock(self) -> float:
        return time.perf_counter() - self.began

    def progress(self) -> float:
        return self.answered / self.planned_turns

    async def run(self) -> list[Outcome]:
        self.slots = asyncio.Semaphore(self.in_flight)
        self.began = time.perf_counter()
        reporter = asyncio.create_task(self.report_progress())
        try:
            outcomes = await asyncio.gather(*(self.converse(plan) for plan in self.plans))
        finally:
            self.wall_s = self.clock()
            self.done = True
            reporter.cancel()
        return list(outcomes)

    async def report_progress(self) -> None:
        while True:
            await asyncio.sleep(PROGRESS_EVERY_S)
            errors = sum(attempt.outcome != "ok" for attempt in self.attempts)
            print(f"  {self.clock():6.0f} s  {self.answered}/{self.planned_turns} turns answered, "
                  f"{errors} errors so far", flush=True)  # fmt: skip

    async def converse(self, plan: Plan) -> Outcome:
        outcome = Outcome(plan)
        connector = aiohttp.TCPConnector(local_addr=(source_address(self.block, plan.index), 0), force_close=True)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        async with aiohttp.ClientSession(connector=connector, headers=BEARER, timeout=timeout) as session:
            for turn, step in enumerate(plan.turns):
                kind, reply = await self.turn(session, plan, turn, step.text)
                if kind != "ok":
                    outcome.failed = f"turn {turn + 1}: {kind} after {RETRIES} retries"
                    break
                outcome.turns_answered += 1
                if step.expect not in reply:
                    outcome.off_script.append({"turn": str(turn + 1), "sent": step.text, "reply": reply[:300]})
        return outcome

    async def turn(self, session: aiohttp.ClientSession, plan: Plan, turn: int, text: str) -> tuple[str, str]:
        """Send one turn; on an error or "try again", wait and send the same text again
        (with a new attempt id, to the next address), as a buyer would."""
        kind, reply = "not sent", ""
        for retry in range(RETRIES + 1):
            if retry:
                await asyncio.sleep(random.uniform(*RETRY_WAIT_S))
            endpoint = (plan.index + turn + retry) % len(self.urls)
            attempt = uuid.uuid4().hex
            queued = self.clock()
            async with self.slots:
                started = self.clock()
                kind, reply = await post(session, self.urls[endpoint], plan.sender, text, attempt)
                latency = self.clock() - started
            self.attempts.append(
                Attempt(plan.index, turn, attempt, endpoint, started, latency, started - queued, kind)
            )  # fmt: skip
            if kind == "ok":
                self.answered += 1
                break
        return kind, reply


def urls_of(cluster: Cluster) -> list[str]:
    return [cluster.nginx.url, *cluster.rasa_urls]
