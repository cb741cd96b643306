"""The futex protocol, pager side (spec 8; the table of 8.10).

Per futex (object name, byte offset): the holder (the kernel granted it, until its release is
handled, it terminates the object, or it dies), the fencing token of that grant, the queue of
kernels waiting (highest priority first, arrival order among equals), the pending trylocks, the
priority last sent to the holder in a relinquish, and what the next grant carries: owner_died,
handoff, and the pages the last holder released with the futex (8.8).

A kernel declared dead holding a futex leaves its TIDs in the futex's word until a next owner,
told by its grant's owner_died, records OWNER_DIED there: that is known when that owner gives the
futex back without passing owner_died on (8.7). An owner that terminates the object or ends its
session still holding the futex gives no such sign (its terminate may have crossed the grant, which
it then never saw): the next grant carries owner_died again. Until then the futex
keeps the dead kernel's TID prefix and name, and the pager gives that prefix to no other kernel
(2.5 for kernel ids, 2.9).

Tokens are epoch << 32 | n, n counting every grant of this pager: they grow strictly per futex,
also across restarts (the epoch grows with each start). Every grant is written to the holders'
journal (the store) before it is sent (9.1).
"""
import collections
import itertools
import logging

from .wire import xp

log = logging.getLogger("pypager.futexes")


class _Futex:
    def __init__(self, owner_died):
        self.holder = None
        self.token = 0
        self.queue = []            # [priority, arrival, session]
        self.tries = []            # sessions whose trylock waits for the holder's answer
        self.asked = None          # priority of the last relinquish this grant, None: not asked
        self.try_asked = False
        self.owner_died = owner_died
        self.told = False          # the current grant carried owner_died
        self.died = set()          # (TID prefix, name) of dead kernels whose TIDs the word may carry
        self.pages = []            # offsets released with the futex, for the next grant

    def top(self):
        return self.queue[0][0] if self.queue else None

    def sort(self):
        self.queue.sort(key=lambda w: (-w[0], w[1]))


class Futexes:
    def __init__(self, store, pages, epoch, lost_pages, dropped):
        self._store, self._pages, self._dropped = store, pages, dropped
        self._epoch, self._lost_pages = epoch, lost_pages
        self._grants = itertools.count(1)
        self._arrivals = itertools.count()
        self._futexes = {}
        self._dead = {}            # TID prefix -> Counter(dead kernel name -> futexes whose word may name it)
        self._journal = store.journal()
        # After a restart nobody reclaims here: each futex the journal gives to a kernel (or marks
        # "its holder died") goes to its next owner with owner_died (9.6).
        for key in self._journal:
            self._journal[key] = {"kernel": None, "token": self._journal[key]["token"], "died": True}
            self._futexes[key] = _Futex(owner_died=True)
        if self._journal:
            store.save_journal(self._journal)

    def _futex(self, obj, offset):
        fx = self._futexes.get((obj, offset))
        if fx is None:
            fx = self._futexes[(obj, offset)] = _Futex(owner_died=self._lost_pages)
        return fx

    def quarantined(self, kernel_id):
        """Whether futex words may still carry TIDs of a dead kernel whose TID prefix is kernel_id."""
        return kernel_id in self._dead

    def dead_kernels(self, prefix):
        """The names of the dead kernels with this TID prefix that futex words may still carry."""
        return set(self._dead.get(prefix, ()))

    def _died_holding(self, fx, k):
        if (k.tid_prefix, k.name) not in fx.died:
            fx.died.add((k.tid_prefix, k.name))
            self._dead.setdefault(k.tid_prefix, collections.Counter())[k.name] += 1

    def _death_recorded(self, fx):
        """The owner told of the death gave the futex back without owner_died: no dead TID is left."""
        for prefix, name in fx.died:
            names = self._dead[prefix]
            names[name] -= 1
            if names[name] == 0:
                del names[name]
                if not names:
                    del self._dead[prefix]
        fx.died.clear()

    # --- messages -------------------------------------------------------------------------

    def lock(self, k, obj, offset, try_, priority, update):
        fx = self._futex(obj, offset)
        if update:
            waiter = next((w for w in fx.queue if w[2] is k), None)
            if waiter is None:
                if fx.holder is not k:
                    self._dropped(k, "lock_futex update from a kernel that does not wait", obj, offset)
                return            # from the holder it crossed the grant: dropped silently (8.3)
            waiter[0] = priority
            fx.sort()
            self._ask(fx, obj, offset)
            return
        if fx.holder is k or k in fx.tries or any(w[2] is k for w in fx.queue):
            self._dropped(k, "second lock_futex for one futex", obj, offset)
        elif fx.holder is None:
            self._grant(fx, obj, offset, k, handoff=False)
        elif try_ and fx.queue:
            self._busy(k, obj, offset)
        elif try_:
            fx.tries.append(k)
            if not fx.try_asked:
                fx.try_asked = True
                self._relinquish(fx, obj, offset, 0, try_=True)
        else:
            fx.queue.append([priority, next(self._arrivals), k])
            fx.sort()
            self._ask(fx, obj, offset)

    def released(self, k, obj, offset, msg):
        fx = self._futexes.get((obj, offset))
        if fx is None or fx.holder is not k or msg.fencing_token != fx.token:
            self._dropped(k, "futex_released by a kernel that does not hold the futex under this token",
                          obj, offset)
            return
        fx.pages = [p.offset for p in msg.pages
                    if self._pages.data_return(k, obj, p.offset, p.data, p.dirty, False, p.version)]
        if fx.told and not msg.owner_died:
            self._death_recorded(fx)
        fx.owner_died = fx.owner_died or msg.owner_died
        fx.holder, fx.told = None, False
        if msg.request_again:
            fx.queue.append([msg.request_priority, next(self._arrivals), k])
            fx.sort()
        self._grant_next(fx, obj, offset, handoff=msg.handoff)

    def held(self, k, obj, offset, token):
        fx = self._futexes.get((obj, offset))
        if fx is None or fx.holder is not k or token != fx.token:
            self._dropped(k, "futex_held by a kernel that does not hold the futex under this token",
                          obj, offset)
            return
        for t in fx.tries:
            self._busy(t, obj, offset)
        fx.tries, fx.try_asked = [], False

    def probe(self, k, obj, msg, sessions):
        fx = self._futexes.get((obj, msg.offset))
        if fx is None or fx.holder is None or fx.holder is k or msg.hops + 1 > sessions:
            self._dropped(k, "futex_probe nobody else can take", obj, msg.offset)
            return
        passed = xp.MemoryObjectFutexProbe()
        passed.CopyFrom(msg)          # every field goes on as the kernel sent it (8.9) but these two
        passed.object_id, passed.hops = fx.holder.id_for(obj), msg.hops + 1
        fx.holder.send("memory_object_futex_probe", passed)

    # --- kernels that leave ---------------------------------------------------------------

    def holds_any(self, k):
        return any(fx.holder is k for fx in self._futexes.values())

    def leave_queues(self, k, obj=None):
        """k waits no more (its stream broke, it terminated obj, it died)."""
        for (o, off), fx in self._futexes.items():
            if obj is not None and o != obj:
                continue
            if any(w[2] is k for w in fx.queue) or k in fx.tries:
                fx.queue = [w for w in fx.queue if w[2] is not k]
                fx.tries = [t for t in fx.tries if t is not k]
                if fx.holder is not None:
                    self._ask(fx, o, off)

    def holder_gone(self, k, obj=None, died=False):
        """k terminated obj (None: all) or died: its futexes go on as if released (8.10)."""
        self.leave_queues(k, obj)
        for (o, off), fx in list(self._futexes.items()):
            if fx.holder is k and (obj is None or o == obj):
                if died:
                    fx.owner_died = True
                    self._died_holding(fx, k)
                elif fx.told:
                    fx.owner_died = True          # k may never have seen that grant: tell the next owner
                fx.holder, fx.told, fx.pages = None, False, []
                self._grant_next(fx, o, off, handoff=bool(fx.queue))

    # --- grants ---------------------------------------------------------------------------

    def _grant_next(self, fx, obj, offset, handoff):
        if fx.queue:
            _, _, k = fx.queue.pop(0)
            for t in fx.tries:
                self._busy(t, obj, offset)
            fx.tries = []
            self._grant(fx, obj, offset, k, handoff)
        elif fx.tries:
            k, rest = fx.tries[0], fx.tries[1:]
            for t in rest:
                self._busy(t, obj, offset)
            fx.tries = []
            self._grant(fx, obj, offset, k, handoff=False)
        else:
            fx.asked, fx.try_asked, fx.pages = None, False, []
            self._write_journal(obj, offset, None, fx)

    def _grant(self, fx, obj, offset, k, handoff):
        fx.holder, fx.token = k, self._epoch << 32 | next(self._grants)
        fx.try_asked = False
        self._write_journal(obj, offset, k, fx)
        pages = self._pages.give_with_futex(k, obj, fx.pages)
        top = fx.top()
        k.send("memory_object_futex_granted", xp.MemoryObjectFutexGranted(
            object_id=k.id_for(obj), offset=offset, fencing_token=fx.token, owner_died=fx.owner_died,
            pages=pages, handoff=handoff, relinquish=top is not None, relinquish_priority=top or 0))
        fx.asked = top
        fx.told, fx.owner_died, fx.pages = fx.owner_died, False, []

    def _write_journal(self, obj, offset, holder, fx):
        key = (obj, offset)
        if holder is not None:
            self._journal[key] = {"kernel": holder.name, "token": fx.token, "died": False}
        elif fx.owner_died:
            self._journal[key] = {"kernel": None, "token": fx.token, "died": True}
        elif self._journal.pop(key, None) is None:
            return
        self._store.save_journal(self._journal)

    def _ask(self, fx, obj, offset):
        """Relinquish once per grant, and again when the top waiting priority changes; when the
        last waiter left after an ask above 0, ask again with 0 (8.4, 8.6)."""
        top = fx.top()
        if top is None:
            if fx.asked:
                self._relinquish(fx, obj, offset, 0, try_=False)
                fx.asked = 0
        elif fx.asked != top:
            self._relinquish(fx, obj, offset, top, try_=False)
            fx.asked = top

    def _relinquish(self, fx, obj, offset, priority, try_):
        fx.holder.send("memory_object_relinquish_futex", xp.MemoryObjectRelinquishFutex(
            object_id=fx.holder.id_for(obj), offset=offset, priority=priority, **{"try": try_}))

    def _busy(self, k, obj, offset):
        if k.live:
            k.send("memory_object_futex_busy", xp.MemoryObjectFutexBusy(object_id=k.id_for(obj), offset=offset))
