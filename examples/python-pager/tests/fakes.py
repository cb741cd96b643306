"""A kernel as the pager's core sees it, without gRPC: what the pager sends it piles up in a list."""
from pypager.pager import Pager
from pypager.sessions import Session
from pypager.store import MemoryStore, FileStore
from pypager.wire import xp

PAGE = 4096


class Outbox(list):
    def put_nowait(self, item):
        self.append(item)


class Kernel:
    def __init__(self, pager, name, tid_prefix=None):
        """A welcomed kernel (a refused hello raises the wire.StreamEnd that ends its stream);
        tid_prefix: as a kernel states it to a pager that is not its primary (spec 2.9)."""
        self.pager, self.s = pager, Session(Outbox(), name)
        self.send(kernel_hello=xp.KernelHello(kernel_name=name, protocol_version=1, tid_prefix=tid_prefix))
        self.send(memory_object_init=xp.MemoryObjectInit(object_id=1, name="shared", page_size=PAGE))
        self.take()

    def send(self, **routine):
        self.pager.handle(self.s, xp.KernelToPager(**routine))

    def take(self):
        """What the pager sent since the last take, as (routine, message) pairs."""
        out = [(m.WhichOneof("routine"), getattr(m, m.WhichOneof("routine"))) for m in self.s.outbox
               if isinstance(m, xp.PagerToKernel)]
        self.s.outbox.clear()
        return out

    def lock(self, offset, priority=0, try_=False):
        self.send(memory_object_lock_futex=xp.MemoryObjectLockFutex(
            object_id=1, offset=offset, priority=priority, **{"try": try_}))

    def release(self, offset, token, **more):
        self.send(memory_object_futex_released=xp.MemoryObjectFutexReleased(
            object_id=1, offset=offset, fencing_token=token, **more))

    def request(self, offset, access):
        self.send(memory_object_data_request=xp.MemoryObjectDataRequest(
            object_id=1, offset=offset, length=PAGE, desired_access=access))

    def completed(self, offset):
        self.send(memory_object_lock_completed=xp.MemoryObjectLockCompleted(object_id=1, offset=offset, length=PAGE))

    def give_back(self, offset, data, version, kernel_copy=False):
        self.send(memory_object_data_return=xp.MemoryObjectDataReturn(
            object_id=1, offset=offset, data=data, dirty=True, kernel_copy=kernel_copy, version=version))


def pager(store_dir=None, lease_millis=0, keep_grace=False):
    store = FileStore(store_dir) if store_dir else MemoryStore()
    p = Pager({"shared": 64 * PAGE}, PAGE, lease_millis, "test", store)
    if not keep_grace:
        p.grace_ends = 0  # the server holds hellos in grace; these tests hand messages in directly
    p.futexes._lost_pages = False
    return p
