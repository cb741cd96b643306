package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.ipc.NameOwner;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectReady;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * vm_maps that wait for memory_object_ready ({@link MapUnderWay}): several in flight together
 * cannot pass a bound each one alone respects, and one whose task ends while it waits fails with
 * ESRCH and leaves nothing behind. The calls are in flight at once in the core's own sense: each
 * passed its checks and waits for the pager's answer, which the test (playing the pager) gives
 * only after all of them were made - deterministic, no threads.
 */
class MapUnderWayTest {
    private final CoreFixture k = new CoreFixture(true);

    private record Connection(int number, String peer) implements NameOwner {}

    /** Bound 65: a pool of 57, a peer's share 7. */
    private static final int BOUND = 65;
    private static final int SHARE = (BOUND - BOUND / 8) / 8;

    private MachTask task(Object owner) {
        Answer<MachTask> a = new Answer<>();
        k.core.taskCreate("t", owner, a);
        return a.value();
    }

    private Answer<VmMapping> map(MachTask task, String object) {
        Answer<VmMapping> a = new Answer<>();
        k.core.vmMap(task.id, object, a);
        return a;
    }

    /** The pager answers the one memory_object_init the kernel sent since the last look. */
    private void ready() {
        List<KernelToPager> inits = k.env.drain().stream().filter(KernelToPager::hasMemoryObjectInit).toList();
        assertThat(inits).hasSize(1);
        k.core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectReady(MemoryObjectReady.newBuilder()
                .setObjectId(inits.get(0).getMemoryObjectInit().getObjectId()).setSize(4 * CoreFixture.PAGE)).build());
    }

    @Test
    void vmMapsWaitingTogetherForAnObjectCannotPassTheirPeersShare() {
        k.core.limitClientShares(1_000, 1_000, BOUND);
        MachTask t = task(new Connection(1, "hog host"));
        List<Answer<VmMapping>> waiting = new ArrayList<>();
        for (int i = 0; i < 2 * SHARE; i++) {
            waiting.add(map(t, "slow"));
        }
        List<Answer<VmMapping>> refusedAtOnce = waiting.stream().filter(Answer::answered).toList();
        assertThat(refusedAtOnce).as("the calls past the share are refused while the first ones still wait")
                .hasSize(SHARE);
        assertThat(refusedAtOnce.get(0).error().errno()).isEqualTo(Errno.EAGAIN);
        assertThat(refusedAtOnce.get(0).error().message()).contains("client peer hog host", "holds 7 mappings");

        ready();
        long mapped = waiting.stream().filter(a -> !a.failed()).count();
        assertThat(mapped).as("mappings made once the object is ready: the peer's share, no more").isEqualTo(SHARE);
        assertThat(t.mappingCount()).isEqualTo(SHARE);
        assertThat(k.core.tasks.shares.mappings.usedBy("hog host")).isEqualTo(SHARE);
    }

    @Test
    void vmMapsWaitingTogetherCannotPassTheTasksBound() {
        MachTask t = task(null);
        List<Answer<VmMapping>> waiting = new ArrayList<>();
        for (int i = 0; i < KernelObjects.MAX_MAPPINGS_PER_TASK + 5; i++) {
            waiting.add(map(t, "slow"));
        }
        assertThat(waiting.stream().filter(Answer::answered).count()).as("refused at once: past the task's bound")
                .isEqualTo(5);
        assertThat(waiting.get(waiting.size() - 1).error().message()).as("names no kernel-internal task number (rv59 INFO-5)")
                .startsWith("the task of this vm_map has " + KernelObjects.MAX_MAPPINGS_PER_TASK + " mappings");
        ready();
        assertThat(t.mappingCount()).isEqualTo(KernelObjects.MAX_MAPPINGS_PER_TASK);
        assertThat(t.mapsUnderWay).isZero();
    }

    @Test
    void aVmMapWhoseTaskEndsWhileItWaitsFailsWithEsrchAndLeavesNothing() {
        MachTask t = task(new Connection(1, "host"));
        Answer<VmMapping> m = map(t, "slow");
        assertThat(m.answered()).as("waits for memory_object_ready").isFalse();
        assertThat(k.core.tasks.shares.mappings.usedBy("host")).as("its place is held while it waits").isEqualTo(1);

        Answer<Void> ended = new Answer<>();
        k.core.taskTerminate(t.id, "task_terminate", ended);
        ended.value();
        assertThat(m.error().errno()).isEqualTo(Errno.ESRCH);
        assertThat(m.error().message()).contains("the task of this vm_map was terminated (task_terminate)",
                "vm_map of 'slow'", "nothing was mapped")
                .as("names no kernel-internal task number (rv59 INFO-5)").doesNotContain("task " + t.id);

        ready(); // the pager's answer comes after the task ended: nothing to map, nobody answered twice
        assertThat(t.mappingCount()).isZero();
        assertThat(k.core.objects.objectNamed("slow").mappings).as("no mapping counted to the object").isZero();
        assertThat(k.core.tasks.shares.mappings.usedBy("host")).isZero();
        assertThat(k.core.tasks.shares.mappings.used()).as("the fixture's own mapping only").isEqualTo(1);
    }
}
