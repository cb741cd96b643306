"""gRPC plumbing: each Connect stream is a Session with an outbox.

A reader task takes the kernel's messages in order and hands each to the Pager; the handler's
async generator sends what the outbox holds. A StreamEnd in the outbox ends the stream: OK (a
clean end) or an error status with ErrorInfo. A hello that arrives during the grace period waits
until it ends (9.3): the messages behind it wait in gRPC's flow control meanwhile.
"""
import asyncio
import logging
import time

import grpc
from google.protobuf.message import DecodeError

from . import wire
from .sessions import Session

log = logging.getLogger("pypager.server")


class MemoryObjectPager(wire.xp_grpc.MemoryObjectPagerServicer):
    def __init__(self, pager):
        self.pager = pager

    async def Connect(self, request_iterator, context):
        s = Session(asyncio.Queue(), context.peer())
        reader = asyncio.ensure_future(self._read(s, request_iterator))
        try:
            while True:
                item = await s.outbox.get()
                if isinstance(item, wire.StreamEnd):
                    if item.code is not None:
                        log.info("ending stream of %s: %s", s.name or s.peer, item)
                        await context.abort(item.code, item.description, item.trailing_metadata())
                    return
                yield item
        except asyncio.CancelledError:
            if self.pager.stopping:
                return             # the pager stops: what the session held stays in the journal
            raise
        finally:
            reader.cancel()
            if not self.pager.stopping:
                self.pager.sessions.stream_ended(s, half_closed=False)

    async def _read(self, s, request_iterator):
        try:
            async for msg in request_iterator:
                if s.state == "new":
                    await self._wait_for_grace()
                try:
                    self.pager.handle(s, msg)
                except wire.StreamEnd as end:
                    self._end(s, end)
                    return
            self.pager.sessions.stream_ended(s, half_closed=True)
        except asyncio.CancelledError:
            raise
        except DecodeError as e:
            self._end(s, wire.protocol_breach("EBADMSG", f"bytes that do not decode as a KernelToPager ({e})"))
        except Exception as e:   # the stream broke under us (or a bug here: logged with its trace)
            log.info("stream of %s broke: %s", s.name or s.peer, e, exc_info=not type(e).__module__.startswith("grpc"))
            self._end(s, wire.StreamEnd(grpc.StatusCode.INTERNAL, "EIO", f"the stream failed: {e}"))

    def _end(self, s, end):
        if s.state == "new":
            s.state = "ended"      # nothing of the session is kept (3.2)
        else:
            self.pager.sessions.stream_ended(s, half_closed=False)
        s.end(end)

    async def _wait_for_grace(self):
        while self.pager.in_grace():
            await asyncio.sleep(max(0.0, self.pager.grace_ends - time.monotonic()))


async def check_leases(pager):
    """Declares dead the kernels not heard from for a lease; checks 20 times a lease."""
    if pager.lease_millis <= 0:
        return
    period = min(0.05, pager.lease_millis / 20000.0)
    while True:
        await asyncio.sleep(period)
        pager.sessions.check_leases()
