package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/** What one kernel may make the pager keep is bounded; past the bound it is told, and others go on. */
class SessionLimitsTest {
    private static final long LEASE = 1_000_000_000L;

    @Test
    void anObjectPastTheSessionsBoundIsDestroyedWithAReasonAndTheSessionGoesOn() {
        XpKernels x = new XpKernels(new MemoryPageStore());
        long a = x.kernel(1, "A");                     // object id 7
        for (int id = 8; id < 8 + 1023; id++) {
            x.xp(a, KernelToPager.newBuilder().setMemoryObjectInit(
                    MemoryObjectInit.newBuilder().setObjectId(id).setName("obj").setPageSize(XpKernels.PAGE)));
        }
        assertThat(x.take(a)).hasSize(1023).allMatch(PagerToKernel::hasMemoryObjectReady);
        x.xp(a, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(5000).setName("obj").setPageSize(XpKernels.PAGE)));
        PagerToKernel destroy = x.one(a);
        assertThat(destroy.getMemoryObjectDestroy().getObjectId()).isEqualTo(5000);
        assertThat(destroy.getMemoryObjectDestroy().getReason()).contains("1024 objects initialized, the most");
        x.lockFutex(a, 0);
        assertThat(x.one(a).hasMemoryObjectFutexGranted()).as("the session still works").isTrue();
    }

    @Test
    void aKernelAskingForMoreFutexesThanItMayIsEndedAndItsFutexesGoOnAfterItsLease() {
        XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 1, 4));
        long a = x.kernel(1, "A");
        long b = x.kernel(2, "B");
        for (long offset = 0; offset < 16; offset += 4) {
            x.lockFutex(a, offset);
        }
        assertThat(x.take(a)).hasSize(4).allMatch(PagerToKernel::hasMemoryObjectFutexGranted);
        x.lockFutex(a, 16);
        assertThat(x.ended.get(a)).startsWith("EAGAIN").contains("holds or waits for 4 futexes, the most a session may");
        x.lockFutex(b, 0);
        x.advance(LEASE / 2);
        x.keepalive(b, 1);
        x.advance(LEASE / 2);
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("B");
        assertThat(x.pager.holderOf("obj", 16)).as("never granted").isNull();
    }

    /**
     * Kernels of many names cannot together make the pager keep more futexes than four sessions at
     * their bound, and the kernel that asks for a new one past that is not ended for it (it is under
     * its own bound: XP review, finding 2; before, it was ended with EAGAIN): its lock_futex waits
     * ({@link FutexParkingTest}), and the futexes already kept go on as before.
     */
    @Test
    void kernelsTogetherCannotMakeThePagerKeepMoreFutexesThanItsBound() {
        XpKernels x = new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 1, 4));
        long offset = FutexParkingTest.fillWithCachedFutexes(x);
        long late = x.kernel(5, "late");
        x.lockFutex(late, 0); // held by K1: queued, no new record
        assertThat(x.ended).doesNotContainKey(late);
        x.lockFutex(late, offset);
        assertThat(x.ended).doesNotContainKey(late);
        assertThat(x.pager.recordCounts().get("futexes")).isEqualTo(16);
        assertThat(x.pager.holderOf("obj", 0)).isEqualTo("K1");
        assertThat(x.pager.holderOf("obj", offset)).as("waits").isNull();
    }
}
