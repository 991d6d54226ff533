"""An in-memory tracker store that keeps every event but hands Rasa only a recent window.

Rasa 3.6's in-memory store re-parses the whole conversation from JSON on every message;
the policies then featurise all of it and every custom action receives all of it. The cost
of a turn therefore grows with the length of the conversation (3-7x at turn 200 in our
benchmark). Our policies look back 4 turns (`max_history: 4`) and rules look back less,
so older turns cannot change a prediction; what must survive from them is the state they
left behind: slot values, the active form, a paused conversation.

This store keeps the full history (the HTTP API's full tracker, exports and the event
broker see every event) and serves Rasa a tracker made of a small prefix that restores
the state at a cut point, followed by the last `window_user_turns` to
`2 * window_user_turns` user turns. The cut moves forward in steps, so the cost of
recomputing the prefix is paid once every `window_user_turns` turns. A new session starts
a new window, as in Rasa's own stores (they only load the last session).

Memory is bounded. A conversation not read or written for the domain's session expiry
(`session_config.session_expiration_time`; 0 = sessions never expire, then only the cap
applies) is dropped, and at most `max_conversations` are kept, the least recently used
dropped first. Conversations are kept in access order, so each drop is O(1) and each turn
pays O(1) amortised. A dropped conversation is forgotten: its next message starts a new
session with empty slots, as after a session expiry with `carry_over_slots_to_new_session:
false` (this project's setting); a buyer pushed out by the cap before the expiry therefore
loses the conversation's state early.

History is append-only. `save` appends what the tracker added since this store handed it
out; a tracker the store did not hand out (a fresh one Rasa made after a failed read, a
window whose origin was lost, the HTTP API's replacement) never overwrites the stored
history: if it extends the history, only the new events are appended; otherwise its events
are appended after the history, logged, and Rasa's window restarts at them.

    tracker_store:
      type: addons.tracker_store.WindowedTrackerStore
      window_user_turns: 6
      max_conversations: 10000
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, ConversationPaused, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

logger = logging.getLogger(__name__)

ACTION_SESSION_START = "action_session_start"
ACTION_LISTEN = "action_listen"
DEFAULT_WINDOW_USER_TURNS = 6
DEFAULT_MAX_CONVERSATIONS = 10_000
# Set on every tracker this store hands out or saves:
# (the stored conversation's generation, events in that tracker, events stored then).
ORIGIN_ATTRIBUTE = "windowed_store_origin"
_generations = itertools.count(1)


@dataclass(slots=True)
class StoredConversation:
    """The full event history, and the state at the cut where Rasa's window begins."""

    events: list[dict[str, Any]] = field(default_factory=list)
    user_positions: list[int] = field(default_factory=list)
    cut: int = 0
    prefix: list[dict[str, Any]] = field(default_factory=list)
    # Which incarnation of the conversation id this is: a tracker read from a dropped
    # conversation must not be taken for one read from its successor.
    generation: int = field(default_factory=lambda: next(_generations))
    last_access: float = 0.0

    def append(self, new_events: Iterable[Event]) -> None:
        for event in new_events:
            position = len(self.events)
            self.events.append(event.as_dict())
            if isinstance(event, UserUttered):
                self.user_positions.append(position)
            elif isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START:
                # Rasa only ever loads the last session: its state starts from scratch.
                self.cut, self.prefix = position, []

    def restart_window(self) -> None:
        """Rasa's window starts after everything stored so far, from an empty state."""
        self.cut, self.prefix = len(self.events), []

    def user_turns_after_cut(self) -> list[int]:
        return [position for position in self.user_positions if position >= self.cut]


class WindowedTrackerStore(TrackerStore):
    """Full history in memory; Rasa works on a state prefix plus the recent turns.

    Idle conversations are dropped after the domain's session expiry, and at most
    `max_conversations` are kept (least recently used dropped first, O(1) amortised per
    turn). A dropped conversation simply starts fresh: its next message begins a new
    session with empty slots. `save` only ever appends: a tracker the store did not hand
    out never replaces the stored history (see the module docstring).
    """

    def __init__(
        self,
        domain: Domain | None = None,
        event_broker: EventBroker | None = None,
        window_user_turns: int = DEFAULT_WINDOW_USER_TURNS,
        max_conversations: int = DEFAULT_MAX_CONVERSATIONS,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("host", None)  # Rasa passes the endpoint's url; there is no server here
        # Least recently used first: moved to the end on every read or write.
        self.conversations: OrderedDict[str, StoredConversation] = OrderedDict()
        self.window_user_turns = max(1, int(window_user_turns))
        self.max_conversations = int(max_conversations)
        if self.max_conversations < 1:
            raise ValueError(f"max_conversations must be at least 1, not {max_conversations!r}")
        self.clock = clock
        super().__init__(domain, event_broker, **kwargs)

    async def keys(self) -> Iterable[str]:
        self._drop_idle(self.clock())
        return list(self.conversations)

    async def exists(self, conversation_id: str) -> bool:
        self._drop_idle(self.clock())
        return conversation_id in self.conversations

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        conversation = self._use(sender_id)
        if conversation is None:
            return None
        self._move_cut(sender_id, conversation)
        return self._tracker(sender_id, conversation.prefix + conversation.events[conversation.cut :], conversation)

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        conversation = self._use(conversation_id)
        if conversation is None:
            return None
        return self._tracker(conversation_id, conversation.events, conversation)

    async def save(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        origin = getattr(tracker, ORIGIN_ATTRIBUTE, None)
        events = list(tracker.events)
        conversation = self._use(sender_id)
        if conversation is None:
            if origin is not None:
                logger.warning(
                    "Conversation %s was dropped from memory during its turn; it is kept again from this tracker.",
                    sender_id,
                )
            conversation = StoredConversation(last_access=self.clock())
            self.conversations[sender_id] = conversation
            new_events = events
        elif origin is not None and origin[0] == conversation.generation and origin[1] <= len(events):
            _, served, stored = origin
            if stored != len(conversation.events):
                logger.warning(
                    "Conversation %s changed since this tracker was loaded; appending its new events.", sender_id
                )
            new_events = events[served:]
        else:
            new_events = self._events_not_stored(sender_id, conversation, events)
        conversation.append(new_events)
        setattr(tracker, ORIGIN_ATTRIBUTE, (conversation.generation, len(events), len(conversation.events)))
        self._drop_over_cap()
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new_events, sender_id)

    def _events_not_stored(self, sender_id: str, conversation: StoredConversation, events: list[Event]) -> list[Event]:
        """What to append from a tracker this store did not hand out for this history: a
        fresh tracker after a failed read, a window that lost its origin, a replacement
        from the HTTP API. The stored history is never overwritten."""
        stored = conversation.events
        if len(events) >= len(stored) and [event.as_dict() for event in events[: len(stored)]] == stored:
            return events[len(stored) :]  # it extends the history: only its new events
        logger.warning(
            "Conversation %s: the tracker to save does not extend the stored history (%d events stored, %d in "
            "the tracker, e.g. after a failed read); the history is kept, the tracker's events are appended "
            "after it and Rasa's window restarts at them.",
            sender_id,
            len(stored),
            len(events),
        )
        conversation.restart_window()
        return events

    def _use(self, sender_id: str) -> StoredConversation | None:
        """The conversation, marked as the most recently used; idle ones are dropped first."""
        now = self.clock()
        self._drop_idle(now)
        conversation = self.conversations.get(sender_id)
        if conversation is not None:
            conversation.last_access = now
            self.conversations.move_to_end(sender_id)
        return conversation

    def _idle_limit_seconds(self) -> float | None:
        """The domain's session expiry (read each time: Rasa sets the domain after loading a model)."""
        minutes = self.domain.session_config.session_expiration_time
        return float(minutes) * 60 if minutes and minutes > 0 else None

    def _drop_idle(self, now: float) -> None:
        """Drop conversations idle for the session expiry: they are at the front, oldest first."""
        limit = self._idle_limit_seconds()
        if limit is None:
            return
        while self.conversations:
            sender_id, oldest = next(iter(self.conversations.items()))
            if now - oldest.last_access < limit:
                return
            del self.conversations[sender_id]
            logger.debug("Dropped conversation %s after %.0f s idle.", sender_id, now - oldest.last_access)

    def _drop_over_cap(self) -> None:
        while len(self.conversations) > self.max_conversations:
            sender_id, _ = self.conversations.popitem(last=False)
            logger.debug(
                "Dropped conversation %s, the least recently used (cap %d).", sender_id, self.max_conversations
            )

    def _tracker(
        self, sender_id: str, events: list[dict[str, Any]], conversation: StoredConversation
    ) -> DialogueStateTracker:
        tracker = self.init_tracker(sender_id)
        tracker.recreate_from_dialogue(Dialogue(sender_id, deserialise_events(events)))
        setattr(tracker, ORIGIN_ATTRIBUTE, (conversation.generation, len(tracker.events), len(conversation.events)))
        return tracker

    def _move_cut(self, sender_id: str, conversation: StoredConversation) -> None:
        """Once the window holds twice the turns it needs, cut it back to the last ones."""
        turns = conversation.user_turns_after_cut()
        if len(turns) <= 2 * self.window_user_turns:
            return
        cut = turns[-self.window_user_turns]
        before = conversation.events[cut - 1]
        if before.get("event") == "action" and before.get("name") == ACTION_LISTEN:
            cut -= 1  # the window starts where the bot began to listen, as a turn does
        replay = conversation.prefix + conversation.events[conversation.cut : cut]
        at_cut = self._tracker(sender_id, replay, conversation)
        conversation.prefix = state_events(at_cut)
        conversation.cut = cut


@cache
def event_classes() -> dict[str, type[Event]]:
    """Event classes by type name, first match first as in `Event.resolve_by_type`, which
    walks every subclass of `Event` for each event it reads (15% of a turn in a profile)."""
    classes: dict[str, type[Event]] = {}
    for event_class in all_subclasses(Event):
        classes.setdefault(event_class.type_name, event_class)
    return classes


def deserialise_events(serialised: list[dict[str, Any]]) -> list[Event]:
    """What `rasa.shared.core.events.deserialise_events` returns, with the class lookup cached."""
    events = []
    for parameters in serialised:
        event_class = event_classes().get(parameters.get("event", ""))
        event = event_class._from_parameters(parameters) if event_class else Event.from_parameters(parameters)
        if event:
            events.append(event)
    return events


def state_events(tracker: DialogueStateTracker) -> list[dict[str, Any]]:
    """Events that rebuild what a tracker remembers: slot values, the active form, a pause."""
    events: list[Event] = [
        SlotSet(slot.name, slot.value) for slot in tracker.slots.values() if slot.value != slot.initial_value
    ]
    if tracker.active_loop_name:
        events.append(ActiveLoop(tracker.active_loop_name))
    if tracker.is_paused():
        events.append(ConversationPaused())
    return [event.as_dict() for event in events]
