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
 * waited forever. Now it is answered (spec 5.1).
 */
class InitOfAnIdInUseTest {
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

    @Test
    void anotherObjectEndsTheIdAsATerminateAndIsAnsweredWithDestroy() {
        k.lockFutex(a, 0);
        k.take(a);
        k.lockFutex(b, 0);
        k.take(a);
        PagerToKernel answer = init(2 * PAGE);
        assertThat(answer.getMemoryObjectDestroy().getReason()).contains("already initialized as 'obj'");
        assertThat(k.one(b).hasMemoryObjectFutexGranted()).as("the id is terminated: its futex goes on").isTrue();
    }
}
