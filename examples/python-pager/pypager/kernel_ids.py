"""Kernel ids (spec 2.5): 1..1023, the high bits of a kernel's TIDs.

A name keeps its id while it has a session and while the id rests afterwards (a lease plus the
grace period since its last session ended). Another name gets a resting id only after that, and
only once no futex still carries the owner_died of that id. Ids never given out go first, then
the least recently freed.
"""
import time

MAX_ID = 1023


class KernelIds:
    def __init__(self, quarantined):
        self._quarantined = quarantined      # id -> bool: a futex still carries its owner_died
        self._next_new = 1
        self._by_name = {}                   # name -> id, while in use or resting
        self._resting = {}                   # name -> (time freed, time it may go to another name)

    def take(self, name):
        """The id for a new session of `name`, or None when no id is free."""
        if name in self._by_name:
            self._resting.pop(name, None)
            return self._by_name[name]
        if self._next_new <= MAX_ID:
            kid, self._next_new = self._next_new, self._next_new + 1
        else:
            now = time.monotonic()
            free = [(freed, old) for old, (freed, until) in self._resting.items()
                    if until <= now and not self._quarantined(self._by_name[old])]
            if not free:
                return None
            _, old = min(free)
            del self._resting[old]
            kid = self._by_name.pop(old)
        self._by_name[name] = kid
        return kid

    def rest(self, name, rest_seconds):
        """The session of `name` ended: its id rests for rest_seconds before another may have it."""
        now = time.monotonic()
        self._resting[name] = (now, now + rest_seconds)
