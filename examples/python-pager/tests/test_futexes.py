import unittest

from pypager.wire import xp
from tests.fakes import Kernel, pager


class FutexTest(unittest.TestCase):
    def setUp(self):
        self.p = pager()
        self.a, self.b, self.c = (Kernel(self.p, n) for n in "abc")

    def granted(self, k):
        grants = [m for r, m in k.take() if r == "memory_object_futex_granted"]
        self.assertEqual(1, len(grants), "one grant expected")
        return grants[0]

    def test_waiters_are_granted_highest_priority_first_with_growing_tokens(self):
        self.a.lock(8)
        first = self.granted(self.a)
        self.b.lock(8, priority=10)
        self.c.lock(8, priority=50)
        asks = [m.priority for r, m in self.a.take() if r == "memory_object_relinquish_futex"]
        self.assertEqual([10, 50], asks)                    # asked again when the top rose
        self.a.release(8, first.fencing_token)
        to_c = self.granted(self.c)
        self.assertGreater(to_c.fencing_token, first.fencing_token)
        self.assertTrue(to_c.relinquish)                     # b still waits: inside the grant
        self.assertEqual(10, to_c.relinquish_priority)
        self.assertEqual([], self.b.take())

    def test_release_with_another_token_is_dropped(self):
        self.a.lock(8)
        token = self.granted(self.a).fencing_token
        self.b.lock(8)
        self.a.release(8, token + 1)
        self.assertEqual([], self.b.take())
        self.a.release(8, token)
        self.assertFalse(self.granted(self.b).owner_died)

    def test_trylock_is_busy_once_the_holder_says_held(self):
        self.a.lock(8)
        token = self.granted(self.a).fencing_token
        self.b.lock(8, try_=True)
        (routine, ask), = self.a.take()
        self.assertEqual("memory_object_relinquish_futex", routine)
        self.assertTrue(getattr(ask, "try"))
        self.a.send(memory_object_futex_held=xp.MemoryObjectFutexHeld(object_id=1, offset=8, fencing_token=token))
        self.assertEqual(["memory_object_futex_busy"], [r for r, _ in self.b.take()])

    def test_terminate_hands_the_futex_on_with_handoff_and_without_owner_died(self):
        self.a.lock(8)
        self.granted(self.a)
        self.b.lock(8)
        self.a.send(memory_object_terminate=xp.MemoryObjectTerminate(object_id=1))
        grant = self.granted(self.b)
        self.assertTrue(grant.handoff)
        self.assertFalse(grant.owner_died)


if __name__ == "__main__":
    unittest.main()
