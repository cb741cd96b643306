"""Sessions (spec 2 and 4): one per Connect stream.

States of a session:
  new     stream open, no hello handled yet (during a grace period the hello waits, 9.3)
  live    welcomed; every message renews its lease (4.1)
  broken  its stream ended (or half-closed) while it held futexes or pages, with a lease: what it
          holds stays its own until the lease runs out; it waits in no queue (4.4)
  dead    the lease ran out unheard: what it held went on (owner_died), its stream ended with
          FAILED_PRECONDITION / ETIMEDOUT, anything still arriving is dropped (4.5, 4.6)
  ended   cleanly ended, or ended holding nothing: forgotten
A name belongs to one live or broken session at a time; its kernel id rests after it (2.5).
Each session keeps its TID prefix, and no two kernel names share one (2.9, tid_prefixes.py).
"""
import logging
import time

from . import wire
from .kernel_ids import KernelIds
from .tid_prefixes import TidPrefixes, stated_prefix
from .wire import xp

log = logging.getLogger("pypager.sessions")
MAX_NAME = 64


class Session:
    def __init__(self, outbox, peer):
        self.outbox, self.peer = outbox, peer
        self.name, self.kernel_id, self.state = None, None, "new"
        self.tid_prefix = None                 # the high bits of its TIDs (2.9), once welcomed
        self.objects = {}                      # object id -> object name
        self.retired = {}                      # ids terminated while another id names the object (5.3)
        self.refused_returns = {}              # (object, offset) -> why: dirty returns not taken (6.9)
        self.last_heard = time.monotonic()

    @property
    def live(self):
        return self.state == "live"

    def id_for(self, obj):
        return next((i for i, name in self.objects.items() if name == obj), 0)

    def send(self, field, msg):
        if self.state in ("live", "broken"):
            self.outbox.put_nowait(xp.PagerToKernel(**{field: msg}))

    def end(self, error=None):
        """Ends the stream: with `error` (a wire.StreamEnd), or OK."""
        self.outbox.put_nowait(error or wire.CLEAN_END)


class Sessions:
    def __init__(self, pager, lease_millis, rest_seconds, futexes):
        self._pager = pager
        self.lease = lease_millis / 1000.0
        self._rest = rest_seconds
        self._ids = KernelIds(futexes.quarantined)
        self._prefixes = TidPrefixes(futexes.dead_kernels)
        self._by_name = {}

    def count(self):
        return len(self._by_name)

    def hello(self, s, hello):
        if hello.protocol_version != wire.PROTOCOL_VERSION:
            raise wire.unsupported_version(hello.protocol_version)
        name = hello.kernel_name
        if not 1 <= len(name) <= MAX_NAME or any(not 0x21 <= ord(c) <= 0x7e for c in name):
            raise wire.invalid(f"kernel name {name!r} is not 1 to {MAX_NAME} printable ASCII "
                               "characters without space: choose another name")
        stated = stated_prefix(hello)
        if hello.HasField("reclaim"):
            raise wire.stale("this pager takes no reclaims (it welcomes a restarted kernel as a new "
                             "one after its grace period): connect again without reclaim")
        other = self._by_name.get(name)
        if other is not None and other.state == "live":
            raise wire.exists(f"a live session already has kernel name {name!r}: choose another name")
        if other is not None:
            raise wire.again(f"the session of kernel {name!r} broke while holding futexes or pages; "
                             f"connect again once its lease ({self.lease:.3f} s) has run out")
        kernel_id = self._ids.choose(name)
        if kernel_id is None:
            raise wire.again("no kernel id is free (1023 are in use or resting): try again later")
        prefix = kernel_id if stated is None else stated
        self._prefixes.check(name, prefix, stated is not None, self._by_name.values())
        self._ids.take(name)
        s.name, s.kernel_id, s.tid_prefix, s.state = name, kernel_id, prefix, "live"
        s.last_heard = time.monotonic()
        self._by_name[name] = s
        log.info("welcome %s as kernel %d, TID prefix %d", name, kernel_id, prefix)
        s.send("pager_welcome", self._pager.welcome(kernel_id))

    def stream_ended(self, s, half_closed):
        """The kernel half-closed (half_closed) or the stream broke, or the pager ended it."""
        if s.state not in ("live", "broken"):
            return
        if s.state == "live" and self.lease > 0 and self._pager.holds_any(s):
            log.info("stream of %s ended holding futexes or pages: kept until its lease ends", s.name)
            s.state = "broken"
            self._pager.left_queues(s)
            return
        if s.state == "live":
            self._pager.release_all(s, died=False)
            self._forget(s, "ended")
            if half_closed:
                s.end()

    def check_leases(self):
        """Declares dead every session not heard from for a whole lease (4.5)."""
        if self.lease <= 0:
            return
        now = time.monotonic()
        for s in list(self._by_name.values()):
            if now - s.last_heard >= self.lease:
                log.warning("kernel %s not heard from for %.3f s: declared dead", s.name, now - s.last_heard)
                s.state = "dead"
                self._pager.release_all(s, died=True)
                self._forget(s, "dead")
                s.end(wire.lease_expired(f"kernel {s.name} was not heard from for its lease "
                                         f"({self.lease:.3f} s) and was declared dead: open a new session"))

    def _forget(self, s, state):
        s.state = state
        del self._by_name[s.name]
        self._ids.rest(s.name, self._rest)
