package io.machxp.pager.core;

import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_RELINQUISH_FUTEX;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PagerToKernel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The pager's futex grants across kernels, with the test playing three kernels: arrival order and
 * one relinquish per grant, futexes by offset, a closed session's or a terminated object's
 * futexes handed on, deadlock probes passed to the holder.
 */
class PagerCoreGrantsTest extends PagerCoreKernels {
    private void probe(long session, long offset, int initiator, long wait, int hops) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder()
                .setObjectId(7).setOffset(offset).setInitiator(initiator).setWait(wait).setHops(hops)).build());
    }

    /** Deadlock probes go to the futex's holder, one hop further; dropped where the chain is broken. */
    @Test
    void aDeadlockProbeGoesToTheHolderOfTheFutex() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        lock(a, 64);
        lock(b, 64);
        said(a);
        said(b);
        probe(b, 64, 0x200001, 5, 1);
        List<PagerToKernel> toA = inbox.get(a);
        assertThat(toA).hasSize(1);
        MemoryObjectFutexProbe p = toA.get(0).getMemoryObjectFutexProbe();
        assertThat(p.getObjectId()).isEqualTo(7);
        assertThat(p.getOffset()).isEqualTo(64);
        assertThat(p.getInitiator()).isEqualTo(0x200001);
        assertThat(p.getWait()).isEqualTo(5);
        assertThat(p.getHops()).isEqualTo(2);
        toA.clear();
        // C waits for the futex too: a pager passes a probe only from a kernel queued for it (8.9).
        lock(c, 64);
        said(a);
        said(c);

        probe(a, 64, 0x100001, 1, 0);
        assertThat(said(a)).as("its own futex: nowhere to go").isEmpty();
        probe(c, 128, 0x300001, 1, 0);
        assertThat(said(a)).as("a free futex: the chain is broken").isEmpty();
        probe(c, 64, 0x300001, 1, 1025);
        assertThat(said(a)).as("more hops than the bound: a chain that does not come back").isEmpty();
        probe(c, 64, 0x300001, 1, 4);
        assertThat(said(a)).as("more hops than kernels: a cycle may pass a kernel twice").hasSize(1);
        assertThat(said(b)).isEmpty();
        assertThat(stats.refused()).isZero();
    }

    /** Grants in arrival order; the holder is asked to relinquish once, the next holder at once. */
    @Test
    void grantsInArrivalOrderAndRelinquishesOncePerGrant() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        lock(a, 0);
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
        lock(b, 0);
        lock(c, 0);
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_RELINQUISH_FUTEX);
        assertThat(routines(b)).isEmpty();
        assertThat(routines(c)).isEmpty();

        released(a, 0);
        assertThat(routines(b)).as("B asked first; C still waits, so B is asked back at once")
                .containsExactly(MEMORY_OBJECT_FUTEX_GRANTED, MEMORY_OBJECT_RELINQUISH_FUTEX);
        assertThat(routines(c)).isEmpty();
        lock(a, 0);
        assertThat(routines(b)).as("relinquish already sent for this grant").isEmpty();

        released(b, 0);
        assertThat(routines(c)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED, MEMORY_OBJECT_RELINQUISH_FUTEX);
        released(c, 0);
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
        assertThat(pager.holderOf("obj", 0)).isEqualTo("A");
        assertThat(stats.grants()).isEqualTo(4);
        assertThat(stats.handoffs()).isEqualTo(3);
    }

    /** Futexes are independent: different offsets, different owners. */
    @Test
    void differentOffsetsAreDifferentFutexes() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 0);
        lock(b, 4);
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
        assertThat(routines(b)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
    }

    /** A kernel whose stream ends releases what it held and leaves every queue. */
    @Test
    void aClosedSessionReleasesEverything() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        lock(a, 0);
        lock(b, 0);
        lock(c, 0);
        routines(a);
        pager.sessionClosed(b);
        pager.sessionClosed(a);
        assertThat(routines(c)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
        assertThat(pager.holderOf("obj", 0)).isEqualTo("C");
        assertThat(pager.kernels()).containsExactly("C");
    }

    /** Terminate releases the futexes the kernel held in that object. */
    @Test
    void terminateReleasesTheObjectsFutexes() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 8);
        lock(b, 8);
        routines(a);
        pager.onXp(a, KernelToPager.newBuilder().setMemoryObjectTerminate(
                MemoryObjectTerminate.newBuilder().setObjectId(7)).build());
        assertThat(routines(b)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
    }
}
