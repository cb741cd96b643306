package io.machxp.kernel.core;

import static io.machxp.proto.xp.KernelToPager.RoutineCase.KERNEL_KEEPALIVE;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_DATA_RETURN;
import static io.machxp.proto.xp.KernelToPager.RoutineCase.MEMORY_OBJECT_FUTEX_RELEASED;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Part II (no futex cache) under faults: the writes made under a futex reach the pager no later
 * than its release, a futex unlocked while the stream is down stays until the reclaim and then
 * goes back, a call that waited for a page does nothing once its task or kernel has ended, and a
 * lock asks the pager before it pages in.
 */
class KernelCorePartTwoTest {
    private static final long LEASE_MS = 1000;
    private static final long LEASE = LEASE_MS * 1_000_000;
    private final CoreFixture k = new CoreFixture(CoreOptions.DEFAULT.withCacheFutexes(false), LEASE_MS);

    private List<KernelToPager.RoutineCase> sentWithoutKeepalives() {
        return k.sentRoutines().stream().filter(r -> r != KERNEL_KEEPALIVE).toList();
    }

    /**
     * A lock asks the pager for the futex, at the waiter's priority, before any page moves: the
     * pager then boosts the owner on its kernel at once (chaos seed 290 of no-cache: a page-in
     * first took the page from the owner's kernel while the owner still ran unboosted). The page
     * is paged in after the grant.
     */
    @Test
    void aLockAsksForTheFutexAtItsPriorityBeforeItPagesIn() {
        MachThread high = k.thread(90);
        Answer<AcquirePath> lock = k.lock(high, k.base);
        KernelToPager ask = k.single();
        assertThat(ask.getMemoryObjectLockFutex().getPriority()).as("no page-in before it").isEqualTo(90);

        k.grant(0);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).as("the page after the grant").isZero();
        assertThat(lock.answered()).as("the word is in the page").isFalse();
        k.zeroFill(0);
        assertThat(lock.value()).isEqualTo(AcquirePath.PAGER_GRANT);
    }

    @Test
    void theWritesMadeUnderAFutexGoBackBeforeItsReleaseAndThePageStays() {
        MachThread t = k.thread();
        k.acquireFromPager(t, k.base);
        k.write(k.base + 64, new byte[] {7}).value();
        k.unlock(t, k.base).value();

        List<KernelToPager> sent = k.env.drain().stream().filter(m -> !m.hasKernelKeepalive()).toList();
        assertThat(sent).extracting(KernelToPager::getRoutineCase)
                .containsExactly(MEMORY_OBJECT_DATA_RETURN, MEMORY_OBJECT_FUTEX_RELEASED);
        MemoryObjectDataReturn ret = sent.get(0).getMemoryObjectDataReturn();
        assertThat(ret.getDirty()).isTrue();
        assertThat(ret.getKernelCopy()).as("the page stays here until the pager asks for it").isTrue();
        assertThat(ret.getData().byteAt(64)).isEqualTo((byte) 7);
        assertThat(k.read(k.base + 64, 1).value()).containsExactly(7);
        assertThat(sentWithoutKeepalives()).as("read from the page kept here").isEmpty();
    }

    @Test
    void aFutexUnlockedWhileTheStreamIsDownStaysUntilTheReclaimThenGoesBack() {
        MachThread t = k.thread();
        k.acquireFromPager(t, k.base);
        k.core.xp().onStreamBroken(0, "connection reset");
        k.unlock(t, k.base).value();
        assertThat(k.lock(t, k.base).value()).as("still this kernel's while its lease runs").isEqualTo(AcquirePath.FAST_PATH);
        k.unlock(t, k.base).value();

        k.env.advance(LEASE / 20);
        var reclaim = k.single().getKernelHello().getReclaim();
        assertThat(reclaim.getObjects(0).getFutexesList()).as("the futex was not given back into a broken stream")
                .singleElement().satisfies(f -> assertThat(f.getOffset()).isZero());
        k.core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder().setKernelId(1)
                .setPageSize(CoreFixture.PAGE).setLeaseMillis(LEASE_MS)).build());
        assertThat(sentWithoutKeepalives()).as("Part II: nobody holds it, so it goes back")
                .containsExactly(MEMORY_OBJECT_FUTEX_RELEASED);
    }

    @Test
    void aReadThatWaitedForAPageWhenItsTaskDiedIsEsrch() {
        MachThread t = k.thread();
        k.acquireFromPager(t, k.base);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_READ_WRITE, false); // taken for another kernel
        k.env.drain();
        Answer<byte[]> read = k.read(k.base + 64, 1);
        assertThat(k.single().getMemoryObjectDataRequest().getOffset()).isZero();

        k.core.taskTerminate(k.task.id, "killed", new Answer<>());
        k.zeroFill(0);
        assertThat(read.error().errno()).isEqualTo(Errno.ESRCH);
    }

    @Test
    void aCallWaitingForAPageAtShutdownEndsWithItsTaskEsrchNotEio() {
        MachThread t = k.thread();
        k.acquireFromPager(t, k.base);
        k.lockRequest(0, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_READ_WRITE, false);
        k.env.drain();
        Answer<byte[]> read = k.read(k.base + 64, 1);

        k.core.xp().shutdown();
        assertThat(read.error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(read.error().message()).contains("shutting down");
    }
}
