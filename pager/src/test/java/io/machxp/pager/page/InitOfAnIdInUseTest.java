package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.OBJ;
import static io.machxp.pager.page.XpKernels.PAGE;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerToKernel;
import org.junit.jupiter.api.Test;

/**
 * Outside review 3, O3-4: a memory_object_init of an id the session already initialized was
 * dropped unanswered, although xp.proto promises ready or destroy; a kernel written from the proto
 * waited forever. Now it is answered (spec 5.1), or, for another object, the session ends.
 */
class InitOfAnIdInUseTest {
    private static final long LEASE = 1_000_000_000L;
    private final XpKernels k = new XpKernels(new FailingStore(0));
    private final long a = k.kernel(1, "A");
    private final long b = k.kernel(2, "B");

    private PagerToKernel init(int pageSize) {
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(OBJ).setName("obj").setPageSize(pageSize)));
        return k.one(a);
    }

    @Test
    void theSameObjectAgainIsReadyAgainAndChangesNothing() {
        k.lockFutex(a, 0);
        k.take(a);
        assertThat(init(PAGE).getMemoryObjectReady().getObjectId()).isEqualTo(OBJ);
        k.lockFutex(b, 0);
        assertThat(k.one(a).hasMemoryObjectRelinquishFutex()).as("A still holds the futex").isTrue();
    }

    /**
     * Review of outside3, MEDIUM-2: before, an init of the id for another object was taken as a
     * terminate, so A's futex went on to B at once and without owner_died while A's threads still
     * held it. Now the kernel's session ends with EINVAL; the futex goes on only when A's lease
     * runs out, with owner_died (spec 4.4, 4.5).
     */
    @Test
    void anotherObjectEndsTheSessionAndWhatItHeldGoesWithOwnerDied() {
        XpKernels k = new XpKernels(new FailingStore(0), LEASE);
        long a = k.kernel(1, "A");
        long b = k.kernel(2, "B");
        k.lockFutex(a, 0);
        k.take(a);
        k.lockFutex(b, 0);
        k.take(a); // the relinquish
        k.xp(a, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(OBJ).setName("obj").setPageSize(2 * PAGE)));
        assertThat(k.ended.get(a)).startsWith("EINVAL").contains("object id " + OBJ).contains("XP spec 5.1");
        assertThat(k.take(b)).as("nothing goes on to B while A's lease runs").isEmpty();
        k.advanceHeard(2 * LEASE, LEASE / 4, b);
        assertThat(k.one(b).getMemoryObjectFutexGranted().getOwnerDied()).as("A died holding it").isTrue();
    }
}
