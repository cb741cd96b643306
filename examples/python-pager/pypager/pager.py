"""The pager's core: checks each kernel message and routes it to sessions, pages or futexes.

Everything runs on one asyncio event loop, so the state needs no locks: a message is handled
whole before the next. Rules that end a stream raise wire.StreamEnd (section 3.2, 3.3); every
other message that breaks a rule is dropped: logged and counted, nothing changes (3.4), except
that data_request and data_unlock are always answered (3.5).
"""
import collections
import logging
import time

from . import wire
from .futexes import Futexes
from .pages import Pages
from .sessions import Sessions
from .wire import xp

log = logging.getLogger("pypager")
MAX_OBJECTS = 1024
MAX_RETIRED = 1024  # terminated ids kept per session as aliases (5.3), as machxp's pager


class Pager:
    def __init__(self, objects, page_size, lease_millis, name, store):
        self.objects, self.page_size, self.name = objects, page_size, name
        previous_lease, previous_epoch = store.start(lease_millis)
        # With a store, the epoch counts starts; without one, seconds since 1970 grow as well.
        self.epoch = previous_epoch + 1 if store.durable else int(time.time())
        self.lease_millis = lease_millis
        # 9.2: a restart waits out the longer of both leases; a pager without a store cannot tell
        # a restart from a first start and always waits out its own lease.
        if store.durable:
            grace = max(lease_millis, previous_lease) if previous_lease is not None else 0
        else:
            grace = lease_millis
        self.grace_ends = time.monotonic() + grace / 1000.0
        self.dropped = collections.Counter()
        self.stopping = False
        self.pages = Pages(store, page_size, self._dropped)
        self.futexes = Futexes(store, self.pages, self.epoch, lost_pages=not store.durable,
                               dropped=self._dropped)
        rest = 2 * max(lease_millis, grace) / 1000.0
        self.sessions = Sessions(self, lease_millis, rest, self.futexes)
        log.info("pager %s: epoch %d, lease %d ms, grace %d ms, objects %s", name, self.epoch,
                 lease_millis, grace, objects)

    def in_grace(self):
        return time.monotonic() < self.grace_ends

    def welcome(self, kernel_id):
        return xp.PagerWelcome(kernel_id=kernel_id, page_size=self.page_size, session_epoch=self.epoch,
                               pager_name=self.name, lease_millis=self.lease_millis)

    def _dropped(self, s, why, obj=None, offset=None):
        self.dropped[why] += 1
        log.info("dropped from %s: %s (%s+%s)", s.name, why, obj, offset)

    # --- one message ----------------------------------------------------------------------

    def handle(self, s, msg):
        routine = msg.WhichOneof("routine")
        if routine is None:
            raise wire.protocol_breach("EBADMSG", "a KernelToPager with no routine set (or one of a newer "
                                       "protocol) is not XP version 1: send one routine per message")
        if s.state == "new":
            if routine != "kernel_hello":
                raise wire.protocol_breach("EPROTO", f"{routine} before kernel_hello: a session "
                                           "starts with kernel_hello")
            self.sessions.hello(s, msg.kernel_hello)
            return
        if routine == "kernel_hello":
            raise wire.protocol_breach("EPROTO", "a second kernel_hello on one session: open a new "
                                       "stream for a new session")
        if s.state != "live":
            self._dropped(s, f"{routine} from a session that is {s.state}")
            return
        s.last_heard = time.monotonic()
        getattr(self, "_" + routine)(s, getattr(msg, routine))

    ANSWERS = ("lock_completed", "data_return", "futex_released", "futex_held")

    def _object(self, s, object_id, routine):
        obj = s.objects.get(object_id)
        if obj is None and routine in self.ANSWERS:
            obj = s.retired.get(object_id)  # an answer to a message sent under an id terminated since (5.3)
        if obj is None:
            self._dropped(s, f"{routine} of object id {object_id}, never initialized")
        return obj

    def _kernel_keepalive(self, s, msg):
        # Pages taken are already written (FileStore writes before it returns): a barrier (4.2).
        s.send("pager_keepalive", xp.PagerKeepalive(sequence=msg.sequence))

    def _memory_object_init(self, s, msg):
        already = s.objects.get(msg.object_id)
        if already is not None:
            # An id in use (5.1): the same object again is ready again and changes nothing; another
            # means the kernel lost track of its ids while it may hold the old object's futexes and
            # pages, so the session ends (what it holds goes as at its death, 4.4/4.5).
            if already == msg.name and msg.page_size == self.page_size:
                s.send("memory_object_ready", xp.MemoryObjectReady(
                    object_id=msg.object_id, size=self.objects[already], may_cache=True))
                return
            raise wire.invalid(f"object id {msg.object_id} is initialized as {already!r}: a kernel MUST "
                               f"terminate an id before it initializes it again (XP spec 5.1)")
        s.retired.pop(msg.object_id, None)  # any init of a retired id ends its alias (5.3)
        reason = None
        if msg.name not in self.objects:
            reason = f"this pager serves no object {msg.name!r} (it serves {', '.join(sorted(self.objects))})"
        elif msg.page_size != self.page_size:
            reason = f"page size {msg.page_size} is not this pager's ({self.page_size}): init with {self.page_size}"
        elif len(s.objects) >= MAX_OBJECTS:
            reason = f"a session may use at most {MAX_OBJECTS} object ids: terminate one first"
        if reason:
            s.send("memory_object_destroy", xp.MemoryObjectDestroy(object_id=msg.object_id, reason=reason))
            return
        s.objects[msg.object_id] = msg.name
        s.send("memory_object_ready", xp.MemoryObjectReady(
            object_id=msg.object_id, size=self.objects[msg.name], may_cache=True))

    def _memory_object_terminate(self, s, msg):
        obj = s.objects.pop(msg.object_id, None)
        if obj is None:
            self._dropped(s, f"memory_object_terminate of object id {msg.object_id}, never initialized")
        elif obj in s.objects.values():
            if len(s.retired) >= MAX_RETIRED:
                del s.retired[next(iter(s.retired))]  # the oldest goes first
            s.retired[msg.object_id] = obj  # answers under it still name the object (5.3)
        else:
            s.retired = {i: o for i, o in s.retired.items() if o != obj}
            s.refused_returns = {k: v for k, v in s.refused_returns.items() if k[0] != obj}
            self.futexes.holder_gone(s, obj)
            self.pages.release(s, obj)

    def _pages_of(self, s, msg, one_page):
        """The page offsets of a request's range, or None after answering it with data_error."""
        obj = s.objects.get(msg.object_id)
        size = self.objects.get(obj, 0)
        ps = self.page_size
        ok = (obj is not None and msg.offset % ps == 0 and msg.length > 0 and msg.length % ps == 0
              and msg.offset + msg.length <= size and (not one_page or msg.length == ps))
        if not ok:
            why = ("object id never initialized on this session" if obj is None else
                   f"range {msg.offset}+{msg.length} is not {'one page' if one_page else 'whole pages'} "
                   f"inside the object (size {size}, page size {ps})")
            s.send("memory_object_data_error", xp.MemoryObjectDataError(
                object_id=msg.object_id, offset=msg.offset, length=msg.length, reason=why))
            return None
        return obj, range(msg.offset, msg.offset + msg.length, ps)

    def _memory_object_data_request(self, s, msg):
        found = self._pages_of(s, msg, one_page=False)
        if found:
            kind = "read" if msg.desired_access == wire.READ else "write"
            for offset in found[1]:
                self.pages.request(s, msg.object_id, found[0], offset, kind)

    def _memory_object_data_unlock(self, s, msg):
        found = self._pages_of(s, msg, one_page=True)
        if found:
            self.pages.request(s, msg.object_id, found[0], msg.offset, "unlock")

    def _memory_object_synchronize(self, s, msg):
        """6.9: the stores write before they return, so the pages returned before it are in the store."""
        obj = s.objects.get(msg.object_id)
        size, ps = self.objects.get(obj, 0), self.page_size
        ok = (obj is not None and msg.offset % ps == 0 and msg.length > 0 and msg.length % ps == 0
              and msg.offset + msg.length <= size)
        error = "" if ok else ("object id never initialized on this session" if obj is None else
                               f"range {msg.offset}+{msg.length} is not whole pages inside the object "
                               f"(size {size}, page size {ps})")
        if ok:
            # 6.9: a dirty return of the range that was not taken (stale) is not the pager's copy
            refused = sorted(k for k in s.refused_returns
                             if k[0] == obj and msg.offset <= k[1] < msg.offset + msg.length)
            if refused:
                error = s.refused_returns[refused[0]]
                for k in refused:
                    del s.refused_returns[k]
        s.send("memory_object_synchronize_completed", xp.MemoryObjectSynchronizeCompleted(
            object_id=msg.object_id, offset=msg.offset, length=msg.length, error=error))

    def _page_offset_ok(self, s, obj, offset, routine):
        if offset % self.page_size or offset >= self.objects[obj]:
            self._dropped(s, f"{routine} at offset {offset}: not a page of the object", obj, offset)
            return False
        return True

    def _memory_object_data_return(self, s, msg):
        obj = self._object(s, msg.object_id, "data_return")
        if obj and self._page_offset_ok(s, obj, msg.offset, "data_return"):
            self.pages.data_return(s, obj, msg.offset, msg.data, msg.dirty, msg.kernel_copy, msg.version)

    def _memory_object_lock_completed(self, s, msg):
        obj = self._object(s, msg.object_id, "lock_completed")
        if obj and self._page_offset_ok(s, obj, msg.offset, "lock_completed"):
            self.pages.lock_completed(s, obj, msg.offset)

    def _futex_of(self, s, object_id, offset, routine):
        obj = self._object(s, object_id, routine)
        if obj and (offset % 4 or offset + 4 > self.objects[obj]):
            self._dropped(s, f"{routine} at offset {offset}: not a 4-aligned word of the object", obj, offset)
            return None
        return obj

    def _memory_object_lock_futex(self, s, msg):
        obj = self._futex_of(s, msg.object_id, msg.offset, "lock_futex")
        if obj:
            self.futexes.lock(s, obj, msg.offset, getattr(msg, "try"), msg.priority, msg.update)

    def _memory_object_futex_released(self, s, msg):
        obj = self._futex_of(s, msg.object_id, msg.offset, "futex_released")
        if obj:
            self.futexes.released(s, obj, msg.offset, msg)

    def _memory_object_futex_held(self, s, msg):
        obj = self._futex_of(s, msg.object_id, msg.offset, "futex_held")
        if obj:
            self.futexes.held(s, obj, msg.offset, msg.fencing_token)

    def _memory_object_futex_probe(self, s, msg):
        obj = self._futex_of(s, msg.object_id, msg.offset, "futex_probe")
        if obj:
            self.futexes.probe(s, obj, msg, self.sessions.count())

    # --- kernels that leave (called by Sessions) ------------------------------------------

    def holds_any(self, s):
        return self.futexes.holds_any(s) or self.pages.holds_any(s)

    def left_queues(self, s):
        self.futexes.leave_queues(s)
        self.pages.forget_requests(s)

    def release_all(self, s, died):
        self.futexes.holder_gone(s, died=died)
        self.pages.release(s)
