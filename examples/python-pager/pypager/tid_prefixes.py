"""TID prefixes (spec 2.9): no two kernels may put the same high bits in futex words.

A thread's TID is `prefix << 20 | thread number`, the prefix being the kernel id the kernel's
primary pager (pager 0 of its list) gave it. A hello to a pager that is not the kernel's primary
states that prefix in `tid_prefix`; a hello without it (to its primary, or from a kernel older
than the field) has as prefix the kernel id this pager gives. Every session keeps its prefix.

Futex words of every pager carry TIDs, so two kernels with one prefix would share TIDs: a word
naming a thread of one would read as the other's. A hello is refused when its prefix is
  - that of a welcomed session (live or broken) of another kernel name:      ALREADY_EXISTS / EEXIST
  - that of a kernel of another name that this pager declared dead while it
    held futexes, as long as one of their words may still carry its TIDs
    (the owner_died no grantee has recorded yet; see futexes.py):            RESOURCE_EXHAUSTED / EAGAIN
A kernel of the same name may come back with its own prefix. Only prefixes this pager knows are
checked: kernels of other primaries that share no pager cannot share a word.
"""
from . import wire

MAX_PREFIX = 1023


def stated_prefix(hello):
    """The hello's tid_prefix, None when it has none; a value outside 1..1023 ends the stream (EINVAL)."""
    if not hello.HasField("tid_prefix"):
        return None
    if not 1 <= hello.tid_prefix <= MAX_PREFIX:
        raise wire.invalid(f"tid_prefix {hello.tid_prefix} is not a kernel id (1..{MAX_PREFIX}): send the "
                           "kernel id your primary pager gave you, or no tid_prefix to your primary")
    return hello.tid_prefix


class TidPrefixes:
    def __init__(self, dead_kernels):
        self._dead_kernels = dead_kernels  # prefix -> names of dead kernels futex words may still name

    def check(self, name, prefix, stated, sessions):
        """Ends the hello of kernel `name` (raises wire.StreamEnd) if it may not use `prefix`.

        `stated`: the hello said the prefix (this pager is not the kernel's primary); otherwise the
        prefix is the kernel id this pager is about to give it. `sessions`: the welcomed sessions.
        """
        origin = (f"your primary pager gave you kernel id {prefix}" if stated
                  else f"you sent no tid_prefix, so your TIDs carry the kernel id {prefix} this pager gives you")
        for other in sessions:
            if other.name != name and other.tid_prefix == prefix:
                raise wire.exists(
                    f"kernel {name!r} cannot use TID prefix {prefix} here ({origin}): kernel {other.name!r} "
                    "has a session here with that prefix, so futex words would not tell your threads from "
                    "its. Give every kernel the same pager list in the same order (one primary); if you do, "
                    "connect again once that kernel's session here has ended")
        dead = sorted(n for n in self._dead_kernels(prefix) if n != name)
        if dead:
            raise wire.again(
                f"kernel {name!r} cannot use TID prefix {prefix} here yet ({origin}): kernel {dead[0]!r}, "
                "declared dead by this pager, had that prefix, and futex words here may still carry its "
                "TIDs until each futex it held has a next owner that recorded its death. Connect again "
                "later; and give every kernel the same pager list in the same order")
