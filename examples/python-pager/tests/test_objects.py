import unittest

from pypager import pager as pager_module
from pypager import wire
from pypager.wire import xp
from tests.fakes import Kernel, PAGE, pager


class InitOfAnIdInUseTest(unittest.TestCase):
    """Spec 5.1: an init of an id in use is answered, never dropped."""

    def init(self, k, object_id, name="shared", page_size=PAGE):
        k.send(memory_object_init=xp.MemoryObjectInit(object_id=object_id, name=name, page_size=page_size))

    def test_the_same_object_again_is_ready_again_and_changes_nothing(self):
        p = pager()
        a, b = Kernel(p, "a"), Kernel(p, "b")
        a.lock(0)
        a.take()
        self.init(a, 1)
        self.assertEqual([r for r, _ in a.take()], ["memory_object_ready"])
        b.lock(0)
        self.assertEqual([r for r, _ in a.take()], ["memory_object_relinquish_futex"], "a still holds it")

    def test_another_object_ends_the_session_with_einval(self):
        p = pager()
        a = Kernel(p, "a")
        with self.assertRaises(wire.StreamEnd) as end:
            self.init(a, 1, page_size=2 * PAGE)
        self.assertEqual(end.exception.reason, "EINVAL")
        self.assertIn("5.1", end.exception.description)

    def test_retired_ids_are_bounded_the_oldest_going_first(self):
        p = pager()
        a = Kernel(p, "a")
        for object_id in range(2, pager_module.MAX_RETIRED + 3):
            self.init(a, object_id)
            a.send(memory_object_terminate=xp.MemoryObjectTerminate(object_id=object_id))
        self.assertEqual(len(a.s.retired), pager_module.MAX_RETIRED)
        self.assertNotIn(2, a.s.retired)
        self.assertIn(pager_module.MAX_RETIRED + 2, a.s.retired)


if __name__ == "__main__":
    unittest.main()
