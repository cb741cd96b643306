package io.machxp.kernel.probe;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.LocalTask;
import io.machxp.proto.xp.KernelToPager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * What the probes of one kernel by a {@link RawPager} start from: a real kernel over gRPC on
 * loopback, welcomed by the raw pager, with a task that mapped object "obj" (its XP id as the
 * kernel's memory_object_init named it).
 */
abstract class RawPagerKernelTest {
    protected RawPager pager;
    protected Kernel kernel;
    protected LocalTask task;
    protected long base;
    protected int objectId;

    @BeforeEach
    void startKernel() throws Exception {
        pager = new RawPager();
        kernel = Kernel.start(KernelConfig.loopback("probe", pager.address()));
        task = kernel.taskCreate("t");
        base = task.vmMap("obj");
        objectId = pager.stream(0).received.stream().filter(KernelToPager::hasMemoryObjectInit).findFirst()
                .orElseThrow().getMemoryObjectInit().getObjectId();
    }

    @AfterEach
    void stopKernel() {
        kernel.close();
        pager.close();
    }
}
