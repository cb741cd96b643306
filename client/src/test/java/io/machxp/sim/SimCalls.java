package io.machxp.sim;

import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmMapping;
import java.util.function.Consumer;

/** Calls into simulated kernels for tests: run the simulation until each is answered. */
final class SimCalls {
    private SimCalls() {}

    /** A task with one thread on a kernel, the object mapped at {@code base}. */
    record Worker(KernelCore core, long task, int tid, long base) {}

    /** Runs the simulation until the call is answered: its value, or the KernelError it failed with. */
    static <T> Object await(SimCluster cluster, Consumer<Reply<T>> call) {
        Object[] box = new Object[2];
        call.accept(new Reply<>() {
            @Override
            public void complete(T value) {
                box[0] = value;
                box[1] = Boolean.TRUE;
            }

            @Override
            public void fail(KernelError error) {
                box[0] = error;
                box[1] = Boolean.TRUE;
            }
        });
        while (box[1] == null && cluster.step()) {
            // the simulation runs until the answer comes
        }
        return box[0];
    }

    /** Adds kernel {@code name} and makes a worker on it: a task, a thread, {@code object} mapped. */
    static Worker worker(SimCluster cluster, String kernel, String object) {
        return worker(cluster, kernel, object, 1_000_000);
    }

    /** {@link #worker(SimCluster, String, String)}, the kernel given {@code settleNanos} to open its session. */
    static Worker worker(SimCluster cluster, String kernel, String object, long settleNanos) {
        KernelCore core = cluster.addKernel(kernel, CoreOptions.DEFAULT).core;
        cluster.runUntil(cluster.now() + settleNanos);
        MachTask task = (MachTask) SimCalls.<MachTask>await(cluster, r -> core.taskCreate("t", r));
        VmMapping m = (VmMapping) SimCalls.<VmMapping>await(cluster, r -> core.vmMap(task.id, object, r));
        MachThread t = (MachThread) SimCalls.<MachThread>await(cluster, r -> core.threadCreate(task.id, r));
        return new Worker(core, task.id, t.tid, m.start());
    }
}
