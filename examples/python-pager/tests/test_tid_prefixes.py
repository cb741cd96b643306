"""Spec 2.9: no two kernel names share a TID prefix at this pager (EEXIST while the other has a
session, EAGAIN while futex words may still carry a dead kernel's TIDs)."""
import unittest

import grpc

from pypager import wire
from pypager.wire import xp
from tests.fakes import Kernel, pager


class TidPrefixTest(unittest.TestCase):
    def setUp(self):
        self.p = pager(lease_millis=1000)

    def refused(self, name, tid_prefix=None):
        """The StreamEnd that ends the hello of `name`."""
        with self.assertRaises(wire.StreamEnd) as refusal:
            Kernel(self.p, name, tid_prefix)
        return refusal.exception

    def assertEnded(self, end, code, reason):
        self.assertEqual((code, reason), (end.code, end.reason), end.description)

    def granted(self, k):
        grants = [m for r, m in k.take() if r == "memory_object_futex_granted"]
        self.assertEqual(1, len(grants), "one grant expected")
        return grants[0]

    def declare_dead(self, k):
        k.s.last_heard -= 2 * self.p.sessions.lease      # not heard from for two leases
        with self.assertLogs("pypager.sessions", "WARNING"):
            self.p.sessions.check_leases()
        self.assertEqual("dead", k.s.state)

    def dies_holding(self, k, offset):
        k.lock(offset)
        self.granted(k)
        self.declare_dead(k)

    def test_a_stated_prefix_that_is_a_live_kernels_id_is_refused_and_the_live_kernel_goes_on(self):
        a = Kernel(self.p, "a")                          # this pager is a's primary: its TIDs carry its id
        end = self.refused("b", tid_prefix=a.s.kernel_id)
        self.assertEnded(end, grpc.StatusCode.ALREADY_EXISTS, "EEXIST")
        self.assertIn("'a'", end.description)
        self.assertEqual("live", a.s.state)
        a.send(kernel_keepalive=xp.KernelKeepalive(sequence=7))
        self.assertEqual([("pager_keepalive", xp.PagerKeepalive(sequence=7))], a.take())
        b = Kernel(self.p, "b", tid_prefix=a.s.kernel_id + 100)   # nothing of the refused hello was kept
        self.assertEqual(a.s.kernel_id + 100, b.s.tid_prefix)

    def test_two_stated_prefixes_alike_are_refused_and_a_session_that_broke_keeps_its_prefix(self):
        a = Kernel(self.p, "a", tid_prefix=900)
        a.lock(8)
        self.granted(a)
        self.p.sessions.stream_ended(a.s, half_closed=False)
        self.assertEqual("broken", a.s.state)
        self.assertEnded(self.refused("b", tid_prefix=900), grpc.StatusCode.ALREADY_EXISTS, "EEXIST")

    def test_the_id_a_refused_hello_would_have_had_goes_to_the_next_hello(self):
        a = Kernel(self.p, "a", tid_prefix=2)      # its primary gave it 2; here it gets id 1
        self.assertEqual((1, 2), (a.s.kernel_id, a.s.tid_prefix))
        end = self.refused("b")                     # would get id 2 here, as its primary: a's TIDs
        self.assertEnded(end, grpc.StatusCode.ALREADY_EXISTS, "EEXIST")
        c = Kernel(self.p, "c", tid_prefix=50)
        self.assertEqual(2, c.s.kernel_id)

    def test_kernel_ids_and_stated_prefixes_that_differ_are_welcomed(self):
        a = Kernel(self.p, "a")
        b = Kernel(self.p, "b", tid_prefix=a.s.kernel_id + 1)
        c = Kernel(self.p, "c", tid_prefix=a.s.kernel_id + 2)
        self.assertEqual(a.s.kernel_id, a.s.tid_prefix)
        self.assertEqual(3, len({a.s.tid_prefix, b.s.tid_prefix, c.s.tid_prefix}))

    def test_a_prefix_outside_1_to_1023_is_invalid(self):
        for prefix in (0, 1024):
            self.assertEnded(self.refused("a", tid_prefix=prefix), grpc.StatusCode.INVALID_ARGUMENT, "EINVAL")

    def test_a_dead_kernels_prefix_waits_until_its_next_owner_released_the_futex_without_owner_died(self):
        a, b = Kernel(self.p, "a", tid_prefix=40), Kernel(self.p, "b")
        self.dies_holding(a, 8)
        self.assertEnded(self.refused("c", tid_prefix=40), grpc.StatusCode.RESOURCE_EXHAUSTED, "EAGAIN")
        b.lock(8)
        grant = self.granted(b)
        self.assertTrue(grant.owner_died)
        self.assertEnded(self.refused("c", tid_prefix=40), grpc.StatusCode.RESOURCE_EXHAUSTED, "EAGAIN")
        b.release(8, grant.fencing_token)          # b recorded OWNER_DIED in the word: a's TID is gone
        self.assertEqual(40, Kernel(self.p, "c", tid_prefix=40).s.tid_prefix)

    def test_a_release_that_passes_owner_died_on_keeps_the_dead_prefix(self):
        a, b, c = Kernel(self.p, "a", tid_prefix=40), Kernel(self.p, "b"), Kernel(self.p, "c")
        self.dies_holding(a, 8)
        b.lock(8)
        c.lock(8)
        b.release(8, self.granted(b).fencing_token, owner_died=True)   # b never had the page to record it
        self.assertEnded(self.refused("d", tid_prefix=40), grpc.StatusCode.RESOURCE_EXHAUSTED, "EAGAIN")
        grant = self.granted(c)
        self.assertTrue(grant.owner_died)
        c.release(8, grant.fencing_token)
        Kernel(self.p, "d", tid_prefix=40)

    def test_a_next_owner_that_terminates_holding_the_futex_passes_the_death_on(self):
        a, b, c = Kernel(self.p, "a", tid_prefix=40), Kernel(self.p, "b"), Kernel(self.p, "c")
        self.dies_holding(a, 8)
        b.lock(8)
        self.assertTrue(self.granted(b).owner_died)
        c.lock(8)
        b.send(memory_object_terminate=xp.MemoryObjectTerminate(object_id=1))   # no sign it was recorded
        self.assertEnded(self.refused("d", tid_prefix=40), grpc.StatusCode.RESOURCE_EXHAUSTED, "EAGAIN")
        grant = self.granted(c)
        self.assertTrue(grant.owner_died)
        c.release(8, grant.fencing_token)
        Kernel(self.p, "d", tid_prefix=40)

    def test_the_dead_kernel_itself_may_come_back_with_its_prefix(self):
        a = Kernel(self.p, "a", tid_prefix=40)
        self.dies_holding(a, 8)
        self.assertEqual(40, Kernel(self.p, "a", tid_prefix=40).s.tid_prefix)

    def test_a_dead_kernel_that_held_no_futex_leaves_its_prefix_free(self):
        a = Kernel(self.p, "a", tid_prefix=40)
        self.declare_dead(a)
        Kernel(self.p, "b", tid_prefix=40)

    def test_a_dead_kernels_id_is_quarantined_until_its_death_is_recorded(self):
        a, b = Kernel(self.p, "a"), Kernel(self.p, "b")   # this pager is the primary of both
        self.dies_holding(a, 8)
        self.assertTrue(self.p.futexes.quarantined(a.s.kernel_id))
        self.assertEnded(self.refused("c", tid_prefix=a.s.kernel_id),
                         grpc.StatusCode.RESOURCE_EXHAUSTED, "EAGAIN")
        b.lock(8)
        b.release(8, self.granted(b).fencing_token)
        self.assertFalse(self.p.futexes.quarantined(a.s.kernel_id))


if __name__ == "__main__":
    unittest.main()
