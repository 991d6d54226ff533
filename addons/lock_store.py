"""A Redis lock store whose ticket operations are atomic across Rasa servers.

Rasa 3.6's `RedisLockStore` issues a ticket by reading the lock, adding a ticket and
writing the whole lock back. Two servers that take a message of the same conversation at
the same moment both read an empty lock, both get ticket 0, both "hold" the lock, and one
of the two messages is lost when the second tracker save overwrites the first. Its cleanup
has the same gap (check "nobody waiting", then delete a lock someone just joined).

Here every read-modify-write of a lock runs as an optimistic Redis transaction
(WATCH/MULTI/EXEC, retried on conflict), so tickets are unique and a lock is deleted only
when it is really empty. Use it with `lock_store: type: addons.lock_store.AtomicRedisLockStore`.

A Rasa server killed in the middle of a turn never releases its ticket: that buyer's next
messages wait for the ticket to expire (Rasa's lock lifetime, 60 s). With RASA_SERVER_ID set
(one stable name per server), each server also notes the tickets it holds in a Redis set, and
when it starts again it gives back the tickets its previous life still held, so the buyer
waits only as long as the restart takes.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

Result = TypeVar("Result")
# A change gets the current lock (None when there is none) and returns the lock to store
# (None deletes it) and a result for the caller.
Change = Callable[[TicketLock | None], tuple[TicketLock | None, Result]]

MAX_CONFLICT_RETRIES = 1000
SERVER_ID_VARIABLE = "RASA_SERVER_ID"


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` with transactional ticket issue, expiry, release and cleanup."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        self.server_id = os.environ.get(SERVER_ID_VARIABLE, "").strip()
        if self.server_id:
            self.release_previous_life()

    @property
    def _held_key(self) -> str:
        """The tickets this server holds: a hash "<number> <conversation>" → expiry time."""
        return f"{self.key_prefix}held:{self.server_id}"

    def release_previous_life(self) -> int:
        """Give back the tickets this server held when it stopped; how many were still there.

        A ticket is removed only if its number and expiry are the ones noted, so a ticket
        issued to another server after the lock was recreated is never touched."""
        released = 0
        for field, expires in self.red.hgetall(self._held_key).items():
            number, _, conversation_id = field.decode().partition(" ")

            def give_back(
                lock: TicketLock | None, number: int = int(number), expires: float = float(expires)
            ) -> tuple[TicketLock | None, bool]:
                if lock is None:
                    return None, False
                mine = [t for t in lock.tickets if t.number == number and t.expires == expires]
                for ticket in mine:
                    lock.tickets.remove(ticket)
                return (lock if lock.tickets else None), bool(mine)

            released += self._atomically(conversation_id, give_back)
            self.red.hdel(self._held_key, field)
        if released:
            logger.info(f"Released {released} lock ticket(s) held by '{self.server_id}' before it restarted.")
        return released

    def _key(self, conversation_id: str) -> str:
        return self.key_prefix + conversation_id

    def _atomically(self, conversation_id: str, change: Change[Result]) -> Result:
        """Apply `change` to the stored lock; retry when another server changed it meanwhile."""
        key = self._key(conversation_id)
        with self.red.pipeline() as pipe:
            for _ in range(MAX_CONFLICT_RETRIES):
                try:
                    pipe.watch(key)
                    # Between WATCH and MULTI a pipeline runs each command at once and
                    # returns its reply; the stubs type every pipeline command as queued.
                    raw = cast("bytes | None", pipe.get(key))
                    current = TicketLock.from_dict(json.loads(raw)) if raw else None
                    updated, result = change(current)
                    pipe.multi()
                    if updated is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, updated.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue
                finally:
                    pipe.reset()
        raise LockError(f"Lock for conversation '{conversation_id}' kept changing; gave up.")

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def take_ticket(lock: TicketLock | None) -> tuple[TicketLock | None, tuple[int, float]]:
            lock = lock or self.create_lock(conversation_id)
            number = lock.issue_ticket(lock_lifetime)
            return lock, (number, lock.tickets[-1].expires)

        try:
            number, expires = self._atomically(conversation_id, take_ticket)
            if self.server_id:
                self.red.hset(self._held_key, self._held(conversation_id, number), repr(expires))
            return number
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    @staticmethod
    def _held(conversation_id: str, number: int) -> str:
        return f"{number} {conversation_id}"

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._atomically(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self.cleanup(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Release the ticket; delete the lock in the same transaction if nobody waits."""

        def release(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._atomically(conversation_id, release)
        if self.server_id:
            self.red.hdel(self._held_key, self._held(conversation_id, ticket_number))
