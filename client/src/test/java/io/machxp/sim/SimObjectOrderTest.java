package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.task.MachTask;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A simulated pager serves its objects in the order the cluster was given them, not in the order
 * of an immutable copy (Map.copyOf's order is chosen anew by each JVM), so that what it says about
 * them - the objects it lists when it refuses a name - is the same in every run of a seed.
 */
class SimObjectOrderTest {
    private static final long MS = 1_000_000;

    @Test
    void aRefusedNameListsTheObjectsInTheirGivenOrder() {
        Map<String, Long> objects = new LinkedHashMap<>();
        for (String name : new String[] {"f", "e", "d", "c", "b", "a", "g"}) {
            objects.put(name, 4096L);
        }
        SimCluster cluster = new SimCluster(new SimCluster.Options(1, 100_000, 0, 4096, 20 * MS), objects,
                (time, kernel, event, tid, detail) -> { });
        KernelCore core = cluster.addKernel("A", CoreOptions.DEFAULT).core;
        cluster.runUntil(cluster.now() + MS);
        MachTask task = (MachTask) SimCalls.<MachTask>await(cluster, r -> core.taskCreate("t", r));
        Object refused = SimCalls.<io.machxp.kernel.vm.VmMapping>await(cluster, r -> core.vmMap(task.id, "nowhere", r));
        assertThat(refused).isInstanceOfSatisfying(KernelError.class,
                e -> assertThat(e.message()).contains("(it serves f, e, d, c, b, a, g)"));
    }
}
