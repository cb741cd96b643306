"""python -m pypager: run the pager. See examples/python-pager/README.md."""
import argparse
import asyncio
import logging
import signal

import grpc

from . import wire
from .pager import Pager
from .server import MemoryObjectPager, check_leases
from .store import FileStore, MemoryStore


def _size(text):
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    text = text.strip().lower()
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def _args():
    p = argparse.ArgumentParser(prog="pypager", description="An XP pager written from docs/xp-spec.md.")
    p.add_argument("--port", type=int, default=7090, help="XP port (default 7090)")
    p.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--lease-ms", type=int, default=5000, help="a kernel's lease (default 5000; 0: none)")
    p.add_argument("--page-size", type=int, default=4096, help="bytes, a power of two (default 4096)")
    p.add_argument("--object", action="append", metavar="NAME=SIZE",
                   help="a memory object to serve, e.g. shared=1m; repeatable (default shared=1m)")
    p.add_argument("--store", metavar="DIR", help="keep pages, epoch and holders' journal under DIR "
                   "(default: in memory, which makes every start wait out a lease, spec 9.2)")
    p.add_argument("--name", default="pypager", help="the pager's name in its welcome")
    p.add_argument("--log-level", default="INFO")
    a = p.parse_args()
    if a.page_size < 64 or a.page_size & (a.page_size - 1):
        p.error("--page-size must be a power of two of at least 64")
    objects = {}
    for spec in a.object or ["shared=1m"]:
        name, _, size = spec.partition("=")
        objects[name] = -(-_size(size) // a.page_size) * a.page_size
    a.objects = objects
    return a


async def _serve(a):
    store = FileStore(a.store) if a.store else MemoryStore()
    pager = Pager(a.objects, a.page_size, a.lease_ms, a.name, store)
    server = grpc.aio.server()
    wire.xp_grpc.add_MemoryObjectPagerServicer_to_server(MemoryObjectPager(pager), server)
    port = server.add_insecure_port(f"{a.bind}:{a.port}")
    await server.start()
    logging.getLogger("pypager").info("serving XP on %s:%d", a.bind, port)
    leases = asyncio.ensure_future(check_leases(pager))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    pager.stopping = True
    leases.cancel()
    await server.stop(0)


def main():
    a = _args()
    logging.basicConfig(level=a.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(_serve(a))


if __name__ == "__main__":
    main()
