"""Where the pager keeps what survives it (spec 9.1): each page's data and version, its epoch and
lease, and the holders' journal (which kernel each futex was granted to, under which token).

FileStore writes every change before it returns (write to a temporary file, fsync, rename), so a
keepalive answered after a data_return is a barrier on disk too (4.2), and a journal entry is
durable before its futex_granted is sent (9.1). MemoryStore keeps the same in memory: a pager
using it cannot tell a first start from a restart (9.2).
"""
import json
import os


def _write_atomically(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class MemoryStore:
    durable = False

    def __init__(self):
        self._pages, self._journal = {}, {}

    def start(self, lease_millis):
        """Returns (previous lease in ms, or None for a fresh start; previous epoch or 0)."""
        return None, 0

    def read_page(self, obj, offset):
        return self._pages.get((obj, offset), (0, None))

    def write_page(self, obj, offset, version, data):
        self._pages[(obj, offset)] = (version, data)

    def journal(self):
        return dict(self._journal)

    def save_journal(self, entries):
        self._journal = dict(entries)


class FileStore:
    durable = True

    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "pages"), exist_ok=True)

    def start(self, lease_millis):
        path = os.path.join(self.root, "pager.json")
        previous = None
        if os.path.exists(path):
            with open(path) as f:
                previous = json.load(f)
        epoch = (previous["epoch"] if previous else 0) + 1
        _write_atomically(path, json.dumps({"epoch": epoch, "lease_millis": lease_millis}).encode())
        if previous is None:
            return None, 0
        return previous["lease_millis"], previous["epoch"]

    def _page_path(self, obj, offset):
        folder = os.path.join(self.root, "pages", obj.encode().hex())
        return folder, os.path.join(folder, f"{offset:016x}")

    def read_page(self, obj, offset):
        _, path = self._page_path(obj, offset)
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return 0, None
        return int.from_bytes(raw[:8], "big"), raw[8:]

    def write_page(self, obj, offset, version, data):
        folder, path = self._page_path(obj, offset)
        os.makedirs(folder, exist_ok=True)
        _write_atomically(path, version.to_bytes(8, "big") + data)

    def journal(self):
        """{(object, offset): {"kernel": name or None, "token": t, "died": bool}}"""
        path = os.path.join(self.root, "journal.json")
        if not os.path.exists(path):
            return {}
        with open(path) as f:
            rows = json.load(f)
        return {(r["object"], r["offset"]): r["entry"] for r in rows}

    def save_journal(self, entries):
        rows = [{"object": o, "offset": off, "entry": e} for (o, off), e in sorted(entries.items())]
        _write_atomically(os.path.join(self.root, "journal.json"), json.dumps(rows).encode())
