package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.OBJ;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import org.junit.jupiter.api.Test;

/**
 * Outside review 3, O3-5: a deadlock probe (xp-spec 8.9) is passed to the futex's holder only from
 * a kernel queued for that futex. Before, one from a kernel that never asked for it went to the
 * holder (an outside review saw 17,677 of 20,000 such probes delivered in 3 s), which walked its
 * owners' chains once per probe and could fail a wait the probe named.
 */
class ProbeFromNonWaiterTest {
    private final XpKernels k = new XpKernels(new FailingStore(0));
    private final long holder = k.kernel(1, "H");
    private final long waiter = k.kernel(2, "W");
    private final long stranger = k.kernel(3, "E");

    private void probe(long from) {
        k.xp(from, KernelToPager.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder()
                .setObjectId(OBJ).setOffset(0).setInitiator((int) (from << 20 | 1)).setWait(1)));
    }

    @Test
    void aProbeFromAKernelNotQueuedForTheFutexIsDropped() {
        k.lockFutex(holder, 0);
        k.one(holder); // granted
        long refused = k.stats.refused();
        probe(stranger);
        k.nothingTo(holder, stranger);
        assertThat(k.stats.refused()).as("counted as a breach (3.4)").isEqualTo(refused + 1);
    }

    /**
     * Review of outside4, LOW-3: a probe from the futex's holder (one that crossed its own grant) is
     * dropped silently: not passed on and not counted as a breach, although the holder is not queued.
     */
    @Test
    void aProbeFromTheJustGrantedHolderIsNeitherPassedNorCounted() {
        k.lockFutex(holder, 0);
        k.one(holder); // granted: the holder is queued no more
        long refused = k.stats.refused();
        probe(holder);
        k.nothingTo(holder);
        assertThat(k.stats.refused()).as("not a breach").isEqualTo(refused);
    }

    @Test
    void aProbeFromAQueuedKernelGoesToTheHolder() {
        k.lockFutex(holder, 0);
        k.one(holder);
        k.lockFutex(waiter, 0);
        k.one(holder); // the relinquish
        long refused = k.stats.refused();
        probe(stranger);
        k.nothingTo(holder);
        assertThat(k.stats.refused()).as("the stranger's probe is a breach").isEqualTo(refused + 1);
        probe(waiter);
        var passed = k.one(holder).getMemoryObjectFutexProbe();
        assertThat(passed.getInitiator()).isEqualTo((int) (waiter << 20 | 1));
        assertThat(passed.getHops()).isEqualTo(1);
        assertThat(k.stats.refused()).as("the waiter's is not").isEqualTo(refused + 1);
    }
}
