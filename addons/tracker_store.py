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

    tracker_store:
      type: addons.tracker_store.WindowedTrackerStore
      window_user_turns: 6
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
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
# Set on every tracker this store hands out: (events in that tracker, events stored then).
ORIGIN_ATTRIBUTE = "windowed_store_origin"


@dataclass
class StoredConversation:
    """The full event history, and the state at the cut where Rasa's window begins."""

    events: list[dict[str, Any]] = field(default_factory=list)
    user_positions: list[int] = field(default_factory=list)
    cut: int = 0
    prefix: list[dict[str, Any]] = field(default_factory=list)

    def append(self, new_events: Iterable[Event]) -> None:
        for event in new_events:
            position = len(self.events)
            self.events.append(event.as_dict())
            if isinstance(event, UserUttered):
                self.user_positions.append(position)
            elif isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START:
                # Rasa only ever loads the last session: its state starts from scratch.
                self.cut, self.prefix = position, []

    def user_turns_after_cut(self) -> list[int]:
        return [position for position in self.user_positions if position >= self.cut]


class WindowedTrackerStore(TrackerStore):
    """Full history in memory; Rasa works on a state prefix plus the recent turns."""

    def __init__(
        self,
        domain: Domain | None = None,
        event_broker: EventBroker | None = None,
        window_user_turns: int = DEFAULT_WINDOW_USER_TURNS,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("host", None)  # Rasa passes the endpoint's url; there is no server here
        self.conversations: dict[str, StoredConversation] = {}
        self.window_user_turns = max(1, int(window_user_turns))
        super().__init__(domain, event_broker, **kwargs)

    async def keys(self) -> Iterable[str]:
        return self.conversations.keys()

    async def exists(self, conversation_id: str) -> bool:
        return conversation_id in self.conversations

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        conversation = self.conversations.get(sender_id)
        if conversation is None:
            return None
        self._move_cut(sender_id, conversation)
        return self._tracker(sender_id, conversation.prefix + conversation.events[conversation.cut :], conversation)

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            return None
        return self._tracker(conversation_id, conversation.events, conversation)

    async def save(self, tracker: DialogueStateTracker) -> None:
        origin = getattr(tracker, ORIGIN_ATTRIBUTE, None)
        conversation = self.conversations.get(tracker.sender_id)
        if conversation is None or origin is None:
            # A new conversation, or a tracker built elsewhere (the HTTP API replacing
            # the events): it is the whole history, as with Rasa's in-memory store.
            conversation = StoredConversation()
            self.conversations[tracker.sender_id] = conversation
            new_events = list(tracker.events)
        else:
            served, stored = origin
            if stored != len(conversation.events):
                logger.warning(
                    "Conversation %s changed since this tracker was loaded; appending its new events.",
                    tracker.sender_id,
                )
            new_events = list(tracker.events)[served:]
        conversation.append(new_events)
        setattr(tracker, ORIGIN_ATTRIBUTE, (len(tracker.events), len(conversation.events)))
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    def _tracker(
        self, sender_id: str, events: list[dict[str, Any]], conversation: StoredConversation
    ) -> DialogueStateTracker:
        tracker = self.init_tracker(sender_id)
        tracker.recreate_from_dialogue(Dialogue(sender_id, deserialise_events(events)))
        setattr(tracker, ORIGIN_ATTRIBUTE, (len(tracker.events), len(conversation.events)))
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
