package io.machxp.pager.core;

import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_DATA_ERROR;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_DATA_UNAVAILABLE;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_DESTROY;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Kernel sessions and the object service: kernel names and ids, objects and zero-fill pages. */
class PagerCoreSessionsTest extends PagerCoreKernels {
    /** Kernel names are unique while connected; a name keeps its kernel id across sessions. */
    @Test
    void kernelNamesAreUniqueAndKeepTheirIds() {
        kernel(1, "A");
        kernel(2, "B");
        pager.sessionOpened(3);
        pager.onXp(3, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1)).build());
        assertThat(ended).containsEntry(3L, Errno.EEXIST);
        pager.sessionClosed(1);
        pager.sessionOpened(4);
        pager.onXp(4, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1)).build());
        assertThat(inbox.get(4L).get(0).getPagerWelcome().getKernelId()).isEqualTo(1);
    }

    /** Unknown objects are destroyed; pages are zero fill; ranges outside the object are errors. */
    @Test
    void objectsAndPages() {
        long a = kernel(1, "A");
        pager.onXp(a, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(8).setName("missing").setPageSize(PAGE)).build());
        List<PagerToKernel> got = new ArrayList<>(inbox.get(a));
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_DESTROY);
        assertThat(got.get(0).getMemoryObjectDestroy().getReason()).contains("'missing'").contains("obj");
        pager.onXp(a, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(7).setOffset(PAGE).setLength(PAGE)).build());
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_DATA_UNAVAILABLE);
        pager.onXp(a, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(7).setOffset(4L * PAGE).setLength(PAGE)).build());
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_DATA_ERROR);
    }
}
