import tempfile
import time
import unittest

from pypager.wire import xp
from tests.fakes import PAGE, Kernel, pager


class PagesTest(unittest.TestCase):
    def setUp(self):
        self.p = pager()
        self.a, self.b = Kernel(self.p, "a"), Kernel(self.p, "b")

    def test_a_writer_gets_the_page_only_after_the_readers_lock_completed(self):
        self.a.request(0, xp.VM_PROT_READ)
        self.assertEqual(xp.VM_PROT_WRITE, self.a.take()[0][1].lock_value)
        self.b.request(0, xp.VM_PROT_READ_WRITE)
        (routine, flush), = self.a.take()
        self.assertEqual("memory_object_lock_request", routine)
        self.assertTrue(flush.should_flush and flush.reply)
        self.assertEqual([], self.b.take())
        self.a.completed(0)
        (routine, supply), = self.b.take()
        self.assertEqual("memory_object_data_unavailable", routine)
        self.assertEqual(xp.VM_PROT_NONE, supply.lock_value)

    def test_a_reader_gets_the_writers_dirty_data_and_a_stale_return_is_refused(self):
        self.a.request(0, xp.VM_PROT_READ_WRITE)
        self.a.take()
        self.b.request(0, xp.VM_PROT_READ)
        (_, downgrade), = self.a.take()
        self.assertEqual(xp.RETURN_DIRTY, downgrade.should_return)
        self.a.give_back(0, b"n" * PAGE, version=1, kernel_copy=True)
        self.a.completed(0)
        (routine, supply), = self.b.take()
        self.assertEqual((b"n" * PAGE, 1), (supply.data, supply.version))
        self.a.give_back(0, b"o" * PAGE, version=1)     # a reader's, and not newer: refused
        c = Kernel(self.p, "c")
        c.request(0, xp.VM_PROT_READ)
        (_, supply), = c.take()
        self.assertEqual((b"n" * PAGE, 1), (supply.data, supply.version))

    def test_a_request_outside_the_object_is_answered_with_data_error(self):
        self.a.request(64 * PAGE, xp.VM_PROT_READ)
        self.assertEqual(["memory_object_data_error"], [r for r, _ in self.a.take()])


    def test_an_answer_after_the_terminate_of_the_asking_id_goes_under_the_id_that_names_the_object(self):
        # xp-spec 5.2: under the request's id while that id names the object, else the id that does
        self.a.send(memory_object_init=xp.MemoryObjectInit(object_id=2, name="shared", page_size=PAGE))
        self.a.take()
        self.b.request(0, xp.VM_PROT_READ_WRITE)
        self.b.take()
        self.a.send(memory_object_data_request=xp.MemoryObjectDataRequest(
            object_id=2, offset=0, length=PAGE, desired_access=xp.VM_PROT_READ))
        self.b.take()  # the downgrade
        self.a.send(memory_object_terminate=xp.MemoryObjectTerminate(object_id=2))
        self.b.completed(0)
        (routine, supply), = self.a.take()
        self.assertEqual("memory_object_data_unavailable", routine)
        self.assertEqual(1, supply.object_id)

    def test_an_answer_goes_under_the_id_the_request_came_under(self):
        self.a.send(memory_object_init=xp.MemoryObjectInit(object_id=2, name="shared", page_size=PAGE))
        self.a.take()
        self.a.send(memory_object_data_request=xp.MemoryObjectDataRequest(
            object_id=2, offset=0, length=PAGE, desired_access=xp.VM_PROT_READ))
        (routine, supply), = self.a.take()
        self.assertEqual(2, supply.object_id)

class RestartTest(unittest.TestCase):
    def test_a_restart_waits_a_lease_and_grants_a_journaled_futex_with_owner_died(self):
        with tempfile.TemporaryDirectory() as store:
            first = pager(store, lease_millis=500)
            a = Kernel(first, "a")
            a.lock(8)
            token = a.take()[0][1].fencing_token
            again = pager(store, lease_millis=500, keep_grace=True)
            self.assertEqual(first.epoch + 1, again.epoch)
            self.assertTrue(again.in_grace())
            self.assertLessEqual(again.grace_ends - time.monotonic(), 0.5)
            again.grace_ends = 0
            b = Kernel(again, "b")
            b.lock(8)
            grant = b.take()[0][1]
            self.assertTrue(grant.owner_died)
            self.assertGreater(grant.fencing_token, token)


if __name__ == "__main__":
    unittest.main()
