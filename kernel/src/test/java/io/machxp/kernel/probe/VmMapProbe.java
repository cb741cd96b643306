package io.machxp.kernel.probe;

import io.machxp.kernel.net.MachTaskService;
import io.machxp.kernel.task.MachTask;
import io.machxp.proto.task.VmMapReply;
import io.machxp.proto.task.VmMapRequest;
import org.junit.jupiter.api.BeforeEach;

/**
 * What the vm_map probes start from: {@link RawPagerKernelTest}'s kernel and task (which maps
 * "obj"), the task's handle, the kernel's MachTask service to hand calls to, and what the core
 * counts of the task's mappings.
 */
abstract class VmMapProbe extends RawPagerKernelTest {
    protected MachTaskService service;
    protected long handle;

    @BeforeEach
    void handOut() {
        service = new MachTaskService(kernel);
        handle = kernel.taskHandles().issue(task.id());
    }

    protected VmMapRequest map(String object, long token) {
        return VmMapRequest.newBuilder().setTask(handle).setObject(object).setCreateToken(token).build();
    }

    protected TestServerCall<VmMapReply> send(VmMapRequest request) {
        TestServerCall<VmMapReply> call = new TestServerCall<>();
        service.vmMap(request, call);
        return call;
    }

    /** Waits until the core has run what was handed to it before. */
    protected void coreCaughtUp() {
        kernel.<Void>call(r -> r.complete(null));
    }

    private MachTask core() {
        return kernel.core().task(task.id());
    }

    protected int mapsUnderWay() {
        return kernel.<Integer>call(r -> r.complete(core().mapsUnderWay));
    }

    protected int mappings() {
        return kernel.<Integer>call(r -> r.complete(core().mappingCount()));
    }

    /** Mappings of tasks the object has, and mappings the kernel counts (every task's, and places held). */
    protected int mappingsOf(String object) {
        return kernel.<Integer>call(r -> r.complete(kernel.core().inspect().mappingsOf(object)));
    }

    protected int counted() {
        return kernel.<Integer>call(r -> r.complete(kernel.core().inspect().mappingsCounted()));
    }
}
