"""An XP pager in Python, written from docs/xp-spec.md and proto/src/main/proto/xp.proto only.

Modules: wire (messages and error statuses), store (pages, epoch and the holders' journal),
kernel_ids, tid_prefixes, sessions (hello, leases, death), pages (coherence of pages), futexes (the futex
protocol), pager (the core that routes each message), server (gRPC streams), __main__ (the CLI).
"""
