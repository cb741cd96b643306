"""Kernel ids (spec 2.5): 1..1023, the high bits of a kernel's TIDs.

A name keeps its id while it has a session and while the id rests afterwards (a lease plus the
grace period since its last session ended). Another name gets a resting id only after that, and
only once no futex word may still carry TIDs of a dead kernel with that id as TID prefix (an
owner_died no grantee has recorded yet, futexes.py; 2.9). Ids never given out go first, then the
least recently freed. choose() says which id a hello would get, so that the hello can still be
refused (2.9) before take() gives it.
"""
import time

MAX_ID = 1023


class KernelIds:
    def __init__(self, quarantined):
        self._quarantined = quarantined      # id -> bool: futex words may still carry TIDs with it (2.9)
        self._next_new = 1
        self._by_name = {}                   # name -> id, while in use or resting
        self._resting = {}                   # name -> (time freed, time it may go to another name)

    def choose(self, name):
        """The id take(name) would give, without giving it; None when no id is free."""
        if name in self._by_name:
            return self._by_name[name]
        if self._next_new <= MAX_ID:
            return self._next_new
        old = self._least_recently_freed()
        return None if old is None else self._by_name[old]

    def take(self, name):
        """The id for a new session of `name` (the one choose gives), or None when no id is free."""
        kid = self.choose(name)
        if kid is None:
            return None
        if name in self._by_name:
            self._resting.pop(name, None)
        elif kid == self._next_new:
            self._next_new += 1
        else:
            old = self._least_recently_freed()
            del self._resting[old]
            del self._by_name[old]
        self._by_name[name] = kid
        return kid

    def _least_recently_freed(self):
        """The name whose resting id another name may have now, freed first; None if none may."""
        now = time.monotonic()
        free = [(freed, old) for old, (freed, until) in self._resting.items()
                if until <= now and not self._quarantined(self._by_name[old])]
        return min(free)[1] if free else None

    def rest(self, name, rest_seconds):
        """The session of `name` ended: its id rests for rest_seconds before another may have it."""
        now = time.monotonic()
        self._resting[name] = (now, now + rest_seconds)
