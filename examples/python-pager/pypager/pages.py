"""Coherence of pages (spec 6 and 7): who holds each page, with which access, and the one
operation per page in progress.

Per page: `holders` maps a session to "r" (read-only copy, lock value WRITE) or "w" (the writer,
lock value NONE); the invariant (6.1) is no holder, one writer alone, or readers only. Requests
(data_request, data_unlock) queue per page in arrival order (6.6); the one in progress first takes
the page from the others with lock_requests (reply set) and waits for their lock_completed:

  read  from K: writer W != K gets a downgrade (RETURN_DIRTY, no flush, lock WRITE), then K is
                supplied read-only (lock WRITE) and W and K are readers
  write from K: every other holder gets a flush (RETURN_DIRTY, flush, lock NONE), then K is
                supplied writable (lock NONE) and is the writer
  unlock from K: the same flushes; then, if K still holds its copy, "allow write"
                (lock_request RETURN_NONE, no flush, lock NONE, no reply), else a supply lock NONE;
                a write request from a reader is answered as an unlock (the table of 6.7)

A page never written (no data in the store) is supplied as data_unavailable with version 0.
Dirty data is taken only from the writer, one page long, and only when its version is above the
pager's copy's (0: unversioned, taken as the copy's version + 1) (7.2, 7.3).
"""
import collections
import logging

from .wire import READ, WRITE, NONE, xp

log = logging.getLogger("pypager.pages")


class _Page:
    def __init__(self, version, data):
        self.version, self.data = version, data
        self.holders = {}
        self.ops = collections.deque()
        self.current = None

    def writer(self):
        return next((s for s, a in self.holders.items() if a == "w"), None)


class _Op:
    def __init__(self, kind, session, object_id):
        self.kind, self.session, self.object_id = kind, session, object_id
        self.waiting = {}          # session -> "flush" or "downgrade", until its lock_completed
        self.cancelled = False     # the requester left: take the page away, answer nobody


class Pages:
    def __init__(self, store, page_size, dropped):
        self._store, self._page_size, self._dropped = store, page_size, dropped
        self._pages = {}

    def _page(self, obj, offset):
        page = self._pages.get((obj, offset))
        if page is None:
            version, data = self._store.read_page(obj, offset)
            page = self._pages[(obj, offset)] = _Page(version, data)
        return page

    # --- requests -------------------------------------------------------------------------

    def request(self, session, object_id, obj, offset, kind):
        """kind: "read", "write" or "unlock"; offset already checked (3.5)."""
        page = self._page(obj, offset)
        page.ops.append((offset, _Op(kind, session, object_id)))
        self._next(obj, page)

    def _next(self, obj, page):
        while page.current is None and page.ops:
            offset, op = page.ops.popleft()
            if not op.session.live:
                continue
            page.current = (offset, op)
            for holder, access in list(page.holders.items()):
                if holder is op.session:
                    continue
                if op.kind == "read":
                    if access == "w":
                        self._ask(holder, holder.id_for(obj), offset, RETURN_DIRTY_DOWNGRADE)
                        op.waiting[holder] = "downgrade"
                else:
                    self._ask(holder, holder.id_for(obj), offset, RETURN_DIRTY_FLUSH)
                    op.waiting[holder] = "flush"
            if not op.waiting:
                self._finish(obj, page)

    def _ask(self, holder, object_id, offset, how):
        should_return, flush, lock_value, reply = how
        holder.send("memory_object_lock_request", xp.MemoryObjectLockRequest(
            object_id=object_id, offset=offset, length=self._page_size,
            should_return=should_return, should_flush=flush, lock_value=lock_value, reply=reply))

    def _finish(self, obj, page):
        offset, op = page.current
        page.current = None
        k = op.session
        # under the id it asked under while that id names the object, else the id that does (5.2)
        object_id = op.object_id if k.objects.get(op.object_id) == obj else k.id_for(obj)
        if not op.cancelled and k.live:
            if op.kind == "read":
                page.holders[k] = "r"
                self._supply(k, object_id, offset, page, WRITE)
            elif (op.kind == "unlock" and k in page.holders) or page.holders.get(k) == "r":
                page.holders = {k: "w"}      # a reader that asks to write keeps its copy (6.7)
                self._ask(k, object_id, offset, ALLOW_WRITE)
            else:
                page.holders = {k: "w"}
                self._supply(k, object_id, offset, page, NONE)
        self._next(obj, page)

    def _supply(self, k, object_id, offset, page, lock_value):
        if page.data is None:
            k.send("memory_object_data_unavailable", xp.MemoryObjectDataUnavailable(
                object_id=object_id, offset=offset, length=self._page_size, lock_value=lock_value,
                version=page.version))
        else:
            k.send("memory_object_data_supply", xp.MemoryObjectDataSupply(
                object_id=object_id, offset=offset, data=page.data, lock_value=lock_value,
                version=page.version))

    # --- answers from kernels -------------------------------------------------------------

    def lock_completed(self, session, obj, offset):
        page = self._pages.get((obj, offset))
        if page is None or page.current is None or session not in page.current[1].waiting:
            self._dropped(session, "lock_completed nobody asked for", obj, offset)
            return
        _, op = page.current
        asked = op.waiting.pop(session)
        if session in page.holders:
            if asked == "flush":
                del page.holders[session]
            else:
                page.holders[session] = "r"
        if not op.waiting:
            self._finish(obj, page)

    def data_return(self, session, obj, offset, data, dirty, kernel_copy, version):
        """A page coming back (data_return, or a page of futex_released). True if its data was taken."""
        page = self._pages.get((obj, offset))
        access = page.holders.get(session) if page else None
        if access is None:
            self._dropped(session, "data_return of a page not held", obj, offset)
            return False
        taken = False
        if dirty:
            if access != "w":
                self._dropped(session, "dirty data_return from a reader", obj, offset)
                return False
            if len(data) != self._page_size:
                self._dropped(session, f"data_return of {len(data)} bytes, not one page", obj, offset)
                return False
            if version == 0 or version > page.version:
                page.version = page.version + 1 if version == 0 else version
                page.data = bytes(data)
                self._store.write_page(obj, offset, page.version, page.data)
                taken = True
                session.refused_returns.pop((obj, offset), None)
            else:
                log.info("stale data_return from %s at %s+%d: version %d, the pager's copy is %d",
                         session.name, obj, offset, version, page.version)
                if bytes(data) != (page.data or bytes(self._page_size)):
                    session.refused_returns[(obj, offset)] = (
                        f"the data_return of page {offset:#x} with version {version} was not taken: the "
                        f"pager's copy is version {page.version} (7.2, 7.3)")
        if not kernel_copy:
            del page.holders[session]
        return taken

    # --- what a grant carries (8.8) -------------------------------------------------------

    def give_with_futex(self, session, obj, offsets):
        """The pages released with a futex that nobody holds or asks for now: `session` becomes
        their writer. Returns PageData for the grant."""
        given = []
        for offset in offsets:
            page = self._pages.get((obj, offset))
            if page is None or page.holders or page.current or page.ops:
                continue
            page.holders[session] = "w"
            given.append(xp.PageData(offset=offset, data=page.data or bytes(self._page_size),
                                     dirty=False, version=page.version))
        return given

    # --- kernels that leave ---------------------------------------------------------------

    def holds_any(self, session):
        return any(session in p.holders for p in self._pages.values())

    def forget_requests(self, session, obj=None):
        """The kernel's stream broke (4.4), or it terminated `obj`: its requests are dropped."""
        for (o, _), page in self._pages.items():
            if obj is not None and o != obj:
                continue
            page.ops = collections.deque((off, op) for off, op in page.ops if op.session is not session)
            if page.current and page.current[1].session is session:
                page.current[1].cancelled = True

    def release(self, session, obj=None):
        """The kernel terminated `obj` (None: every object) or was declared dead: it holds none
        of its pages and is waited for no more; its unreturned writes are lost."""
        self.forget_requests(session, obj)
        for (o, _), page in self._pages.items():
            if obj is not None and o != obj:
                continue
            page.holders.pop(session, None)
            if page.current and page.current[1].waiting.pop(session, None) and not page.current[1].waiting:
                self._finish(o, page)


# (should_return, should_flush, lock_value, reply), as named in spec 6.4
RETURN_DIRTY_DOWNGRADE = (xp.RETURN_DIRTY, False, WRITE, True)
RETURN_DIRTY_FLUSH = (xp.RETURN_DIRTY, True, NONE, True)
ALLOW_WRITE = (xp.RETURN_NONE, False, NONE, False)

