"""Rasa's SQL tracker store with the windowed store's constant cost per turn, for several
Rasa servers sharing one PostgreSQL database (the scale-out topology).

Rasa 3.6's `SQLTrackerStore` reads the whole session from the `events` table on every
message, and counts it again on every save: a turn's cost grows with the conversation.
This store keeps every event in that same table (Rasa's tools, `retrieve_full_tracker` and
the HTTP API see all of them) and serves Rasa what `addons.tracker_store.WindowedTrackerStore`
serves in memory: a small prefix that restores the state at a cut point (slot values, the
active form, a pause), followed by the last `window_user_turns` to `2 * window_user_turns`
user turns.

The cut, its state and the event count live in a second table, `tracker_windows`, in the
same database, so every Rasa server reads the same window. A save appends the new events and
updates that row in one transaction, with the row locked (`SELECT … FOR UPDATE`): two
servers never interleave their writes to one conversation, even without the lock store.

    tracker_store:
      type: addons.sql_tracker_store.WindowedSQLTrackerStore
      dialect: postgresql
      url: …
      window_user_turns: 6
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from addons.tracker_store import (
    ACTION_LISTEN,
    ACTION_SESSION_START,
    DEFAULT_WINDOW_USER_TURNS,
    deserialise_events,
    state_events,
)

logger = logging.getLogger(__name__)

# Set on every tracker this store hands out or saves: (events in that tracker, events
# stored for the conversation then).
ORIGIN_ATTRIBUTE = "windowed_sql_store_origin"


class SQLWindow(SQLTrackerStore.Base):
    """Where Rasa's window of one conversation starts, and the state there."""

    __tablename__ = "tracker_windows"

    sender_id = sa.Column(sa.String(255), primary_key=True)
    # The window is every event of this conversation with an id of at least `cut_id`.
    cut_id = sa.Column(sa.BigInteger, nullable=False)
    # Serialised events that rebuild the state at the cut (JSON list).
    prefix = sa.Column(sa.Text, nullable=False, default="[]")
    # All events stored for this conversation, every session.
    event_count = sa.Column(sa.Integer, nullable=False, default=0)
    user_turns_after_cut = sa.Column(sa.Integer, nullable=False, default=0)


WINDOW_INDEX = sa.Index("ix_events_sender_id_id", SQLTrackerStore.SQLEvent.sender_id, SQLTrackerStore.SQLEvent.id)


class WindowedSQLTrackerStore(SQLTrackerStore):
    """Every event in Rasa's `events` table; Rasa works on a state prefix plus the recent turns."""

    def __init__(
        self,
        domain: Domain | None = None,
        dialect: str = "sqlite",
        host: str | None = None,
        port: int | None = None,
        db: str = "rasa.db",
        username: str | None = None,
        password: str | None = None,
        event_broker: EventBroker | None = None,
        login_db: str | None = None,
        query: dict[str, Any] | None = None,
        window_user_turns: int = DEFAULT_WINDOW_USER_TURNS,
        **kwargs: Any,
    ) -> None:
        self.window_user_turns = max(1, int(window_user_turns))
        # Rasa's constructor creates every table on its declarative base, ours included.
        # (Rasa annotates username and password as str but treats None as "not given".)
        super().__init__(
            domain, dialect, host, port, db, username, password, event_broker, login_db, query,  # type: ignore[arg-type]
            **kwargs,
        )  # fmt: skip
        # A window is read by conversation and event id: without this index a read would
        # still scan all of the conversation's rows (Rasa indexes sender_id alone).
        WINDOW_INDEX.create(bind=self.engine, checkfirst=True)

    # --- reading --------------------------------------------------------------------------

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            window = session.get(SQLWindow, sender_id)
            if window is None:
                return await super().retrieve(sender_id)  # stored before this store: no window yet
            rows = self._events_from(session, sender_id, window.cut_id)
            prefix = json.loads(window.prefix)
            stored = window.event_count
        return self._tracker(sender_id, prefix + [json.loads(row.data) for row in rows], stored)

    def _events_from(self, session: Any, sender_id: str, first_id: int) -> list[Any]:
        rows: list[Any] = (
            session.query(self.SQLEvent)
            .filter(self.SQLEvent.sender_id == sender_id, self.SQLEvent.id >= first_id)
            .order_by(self.SQLEvent.id)
            .all()
        )
        return rows

    def _tracker(self, sender_id: str, events: list[dict[str, Any]], stored: int) -> DialogueStateTracker:
        tracker = self.init_tracker(sender_id)
        tracker.recreate_from_dialogue(Dialogue(sender_id, deserialise_events(events)))
        setattr(tracker, ORIGIN_ATTRIBUTE, (len(tracker.events), stored))
        return tracker

    # --- writing --------------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        events = list(tracker.events)
        with self.session_scope() as session:
            window = session.query(SQLWindow).filter(SQLWindow.sender_id == sender_id).with_for_update().one_or_none()
            if window is None:
                window, new_events = self._first_window(session, tracker, events)
            else:
                new_events = self._new_events(session, window, tracker, events)
            rows = [self._row(sender_id, event) for event in new_events]
            session.add_all(rows)
            session.flush()  # the rows get their ids
            self._advance(session, window, new_events, rows)
            stored = window.event_count
            session.commit()
        setattr(tracker, ORIGIN_ATTRIBUTE, (len(events), stored))
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new_events, sender_id)

    def _first_window(
        self, session: Any, tracker: DialogueStateTracker, events: list[Event]
    ) -> tuple[SQLWindow, list[Event]]:
        """A new conversation, or one Rasa's own SQL store began: its window starts at the
        latest session, as Rasa's store reads it."""
        sender_id = tracker.sender_id
        stored = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).count()
        new_events = list(SQLTrackerStore._additional_events(self, session, tracker)) if stored else events
        session_rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
        cut_id = session_rows[0].id if session_rows else 0
        turns = sum(1 for row in session_rows if row.type_name == UserUttered.type_name)
        window = SQLWindow(
            sender_id=sender_id, cut_id=cut_id, prefix="[]", event_count=stored, user_turns_after_cut=turns
        )
        session.add(window)
        return window, new_events

    def _new_events(
        self, session: Any, window: SQLWindow, tracker: DialogueStateTracker, events: list[Event]
    ) -> list[Event]:
        """What the tracker added since this store handed it out. A tracker the store did not
        hand out (a fresh one after a failed read, the HTTP API's replacement) never rewrites
        the history: its events are appended after it and the window restarts at them."""
        origin = getattr(tracker, ORIGIN_ATTRIBUTE, None)
        if origin is not None and origin[0] <= len(events):
            served, stored = origin
            if stored != window.event_count:
                logger.warning(
                    "Conversation %s changed since this tracker was loaded; appending its new events.",
                    tracker.sender_id,
                )
            return events[served:]
        full = [json.loads(row.data) for row in self._event_query(session, tracker.sender_id, True).all()]
        if len(events) >= len(full) and [event.as_dict() for event in events[: len(full)]] == full:
            return events[len(full) :]
        logger.warning(
            "Conversation %s: the tracker to save does not extend the stored history (%d events stored, %d in "
            "the tracker); the history is kept, the tracker's events are appended after it and Rasa's window "
            "restarts at them.",
            tracker.sender_id,
            len(full),
            len(events),
        )
        window.cut_id, window.prefix, window.user_turns_after_cut = _NEXT_ROW, "[]", 0
        return events

    def _row(self, sender_id: str, event: Event) -> Any:
        """The row Rasa's own store writes for an event."""
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    def _advance(self, session: Any, window: SQLWindow, new_events: list[Event], rows: list[Any]) -> None:
        """Count the new events, start a new window at a new session, and once the window
        holds twice the turns it needs, cut it back to the last ones."""
        window.event_count += len(new_events)
        if window.cut_id == _NEXT_ROW:
            window.cut_id = rows[0].id if rows else _next_id(session, self.SQLEvent)
        for event, row in zip(new_events, rows, strict=True):
            if isinstance(event, UserUttered):
                window.user_turns_after_cut += 1
            elif isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START:
                # Rasa only ever loads the last session: its state starts from scratch.
                window.cut_id, window.prefix, window.user_turns_after_cut = row.id, "[]", 0
        if window.user_turns_after_cut > 2 * self.window_user_turns:
            self._move_cut(session, window)

    def _move_cut(self, session: Any, window: SQLWindow) -> None:
        rows = self._events_from(session, window.sender_id, window.cut_id)
        users = [index for index, row in enumerate(rows) if row.type_name == UserUttered.type_name]
        cut = users[-self.window_user_turns]
        if cut > 0 and rows[cut - 1].action_name == ACTION_LISTEN:
            cut -= 1  # the window starts where the bot began to listen, as a turn does
        replay = json.loads(window.prefix) + [json.loads(row.data) for row in rows[:cut]]
        at_cut = self._tracker(window.sender_id, replay, 0)
        window.prefix = json.dumps(state_events(at_cut))
        window.cut_id = rows[cut].id
        window.user_turns_after_cut = sum(1 for index in users if index >= cut)


# A window whose first event is not written yet: it starts at the next row saved.
_NEXT_ROW = -1


def _next_id(session: Any, event_table: Any) -> int:
    highest = session.query(sa.func.max(event_table.id)).scalar()
    return (highest or 0) + 1
