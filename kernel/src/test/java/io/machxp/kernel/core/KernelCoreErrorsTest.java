package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.kernel.futex.Acquired;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDestroy;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/** Bad requests get their errno and a sentence, and leave the kernel as it was. */
class KernelCoreErrorsTest {
    private final CoreFixture k = new CoreFixture(true);
    private final MachThread owner = k.thread();
    private final MachThread other = k.thread();

    @Test
    void lockingAFutexTheThreadOwnsIsEdeadlk() {
        k.acquireFromPager(owner, k.base);
        KernelError e = k.lock(owner, k.base).error();
        assertThat(e.errno()).isEqualTo(Errno.EDEADLK);
        assertThat(e.message()).contains("already owns");
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(owner.tid);
        assertThat(owner.blockedIn).isNull();
    }

    @Test
    void unlockByANonOwnerIsEpermAndTheOwnerKeepsTheFutex() {
        k.acquireFromPager(owner, k.base);
        KernelError e = k.unlock(other, k.base).error();
        assertThat(e.errno()).isEqualTo(Errno.EPERM);
        assertThat(e.message()).contains("does not own");
        assertThat(FutexWord.word(k.futex(k.base).state())).isEqualTo(owner.tid);
        assertThat(k.unlock(other, k.base + 4).error().errno()).as("never locked").isEqualTo(Errno.EPERM);
        k.unlock(owner, k.base).value();
        assertThat(k.unlock(owner, k.base).error().errno()).as("unlocked twice").isEqualTo(Errno.EPERM);
    }

    @Test
    void anUnalignedAddressIsEinval() {
        KernelError e = k.lock(owner, k.base + 2).error();
        assertThat(e.errno()).isEqualTo(Errno.EINVAL);
        assertThat(e.message()).contains("aligned");
        assertThat(k.env.sent).as("nothing paged in").isEmpty();
        assertThat(k.unlock(owner, k.base + 1).error().errno()).isEqualTo(Errno.EINVAL);
    }

    @Test
    void anAddressOutsideEveryMappingIsEinval() {
        for (long address : new long[] {0, k.base - 4, k.base + 4 * CoreFixture.PAGE, Long.MAX_VALUE - 3}) {
            KernelError e = k.lock(owner, address).error();
            assertThat(e.errno()).isEqualTo(Errno.EINVAL);
            assertThat(e.message()).contains("outside every mapping");
        }
        assertThat(k.env.sent).isEmpty();
        k.acquireFromPager(owner, k.base);
    }

    @Test
    void anUnknownTaskOrThreadIsEsrch() {
        Answer<Acquired> a = new Answer<>();
        k.core.vmLockFutex(999, owner.tid, k.base, -1, a);
        assertThat(a.error().errno()).isEqualTo(Errno.ESRCH);
        Answer<Acquired> b = new Answer<>();
        k.core.vmLockFutex(k.task.id, 12345, k.base, -1, b);
        assertThat(b.error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(b.error().message()).contains("no thread 12345");
    }

    @Test
    void aThreadMakesOneCallAtATime() {
        k.acquireFromPager(owner, k.base);
        Answer<AcquirePath> waiting = k.lock(other, k.base);
        assertThat(k.lock(other, k.base + 4).error().errno()).isEqualTo(Errno.EBUSY);
        k.unlock(owner, k.base).value();
        assertThat(waiting.value()).isEqualTo(AcquirePath.LOCAL_HANDOFF);
    }

    @Test
    void anObjectThePagerDoesNotServeIsEinval() {
        Answer<VmMapping> m = new Answer<>();
        k.core.vmMap(k.task.id, "nope", m);
        KernelToPager init = k.single();
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectDestroy(MemoryObjectDestroy.newBuilder()
                .setObjectId(init.getMemoryObjectInit().getObjectId()).setReason("no such object")).build());
        assertThat(m.error().errno()).isEqualTo(Errno.EINVAL);
        assertThat(m.error().message()).contains("'nope'").contains("no such object");

        Answer<VmMapping> bad = new Answer<>();
        k.core.vmMap(k.task.id, "has space", bad);
        assertThat(bad.error().errno()).isEqualTo(Errno.EINVAL);
        assertThat(k.env.sent).isEmpty();
    }

    @Test
    void aPageErrorFailsTheWaitingLock() {
        Answer<AcquirePath> a = k.lock(owner, k.base);
        assertThat(k.single().hasMemoryObjectLockFutex()).isTrue();
        k.grant(0);
        assertThat(k.single().hasMemoryObjectDataRequest()).isTrue();
        k.dataError(0, "disk on fire");
        assertThat(a.error().errno()).isEqualTo(Errno.EIO);
        assertThat(a.error().message()).contains("disk on fire");
        assertThat(owner.blockedIn).isNull();
        assertThat(k.env.sent).as("the futex stays cached here, its word in the page").isEmpty();

        Answer<AcquirePath> again = k.lock(owner, k.base);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        k.zeroFill(0);
        assertThat(again.value()).isEqualTo(AcquirePath.FAST_PATH);
        assertThat(k.env.sent).isEmpty();
    }

    /**
     * A page refused after the grant that asked for it has left (its waiter timed out, then a
     * relinquish took the futex back) fails nobody: a thread that now waits for the futex waits
     * for the pager's next grant, not for that page (found in review).
     */
    @Test
    void aPageErrorForAGrantThatHasLeftFailsNobody() {
        Answer<AcquirePath> first = k.lock(owner, k.base, 1_000_000);
        assertThat(k.single().hasMemoryObjectLockFutex()).isTrue();
        k.grant(0);
        assertThat(k.single().hasMemoryObjectDataRequest()).isTrue();
        k.env.advance(1_000_000);
        assertThat(first.error().errno()).isEqualTo(Errno.ETIMEDOUT);
        k.relinquish(0);
        assertThat(k.sentRoutines()).containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED);
        MachThread next = k.thread();
        Answer<AcquirePath> second = k.lock(next, k.base);
        assertThat(k.single().hasMemoryObjectLockFutex()).isTrue();

        k.dataError(0, "disk on fire");
        assertThat(second.answered()).as("it waits for the futex, not for that page").isFalse();
        k.grant(0);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();
        k.zeroFill(0);
        assertThat(second.value()).isEqualTo(AcquirePath.PAGER_GRANT);
    }

    /** A relinquish that waited for a grant's page is answered when the page is refused. */
    @Test
    void aPageErrorAnswersAPendingRelinquish() {
        Answer<AcquirePath> a = k.lock(owner, k.base);
        k.single();
        k.grant(0);
        k.single();
        k.relinquish(0);
        assertThat(k.env.sent).as("a waiter is served first").isEmpty();
        k.dataError(0, "disk on fire");
        assertThat(a.error().errno()).isEqualTo(Errno.EIO);
        assertThat(k.sentRoutines()).containsExactly(KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED);
        k.acquireFromPager(owner, k.base);
    }

    @Test
    void suppliedPageDataIsKept() {
        Answer<AcquirePath> a = k.lock(owner, k.base + CoreFixture.PAGE);
        assertThat(k.single().hasMemoryObjectLockFutex()).isTrue();
        k.grant(CoreFixture.PAGE);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isEqualTo(CoreFixture.PAGE);
        k.supply(CoreFixture.PAGE, new byte[CoreFixture.PAGE]);
        assertThat(a.value()).isEqualTo(AcquirePath.PAGER_GRANT);
    }

    @Test
    void aKernelKeepsABoundedNumberOfTasksAndSaysSo() {
        for (int i = 1; i < KernelCore.MAX_TASKS; i++) { // the fixture's task is the first
            Answer<io.machxp.kernel.task.MachTask> t = new Answer<>();
            k.core.taskCreate("t" + i, t);
            t.value();
        }
        Answer<io.machxp.kernel.task.MachTask> one = new Answer<>();
        k.core.taskCreate("one too many", one);
        assertThat(one.error().errno()).isEqualTo(Errno.EAGAIN);
        assertThat(one.error().message()).contains("65536 tasks, the most it keeps at once");
        Answer<Void> ended = new Answer<>();
        k.core.taskTerminate(2, "make room", ended);
        ended.value();
        Answer<io.machxp.kernel.task.MachTask> again = new Answer<>();
        k.core.taskCreate("after one ended", again);
        assertThat(again.value().name).isEqualTo("after one ended");
    }
}
