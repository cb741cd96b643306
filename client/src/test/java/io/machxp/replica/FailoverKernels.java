package io.machxp.replica;

import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Kernels in this JVM for a failover test: each with a client, a task and the shared object
 * mapped at {@code bases.get(k)}. Closing ends the clients, then the kernels.
 */
final class FailoverKernels implements AutoCloseable {
    final List<Kernel> kernels = new ArrayList<>();
    final List<KernelClient> clients = new ArrayList<>();
    final List<TaskClient> tasks = new ArrayList<>();
    final List<Long> bases = new ArrayList<>();

    /** Starts {@code count} kernels named k0, k1, ... with the configuration {@code config} gives a name. */
    FailoverKernels(int count, Function<String, KernelConfig> config) throws IOException {
        try {
            for (int k = 0; k < count; k++) {
                Kernel kernel = Kernel.start(config.apply("k" + k));
                kernels.add(kernel);
                KernelClient client = KernelClient.connect("127.0.0.1:" + kernel.port());
                clients.add(client);
                TaskClient task = client.taskCreate("failover");
                tasks.add(task);
                bases.add(task.vmMap(ReplicaGroup.OBJECT));
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public void close() {
        clients.forEach(KernelClient::close);
        kernels.forEach(Kernel::close);
    }
}
