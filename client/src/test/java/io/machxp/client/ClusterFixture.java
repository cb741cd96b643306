package io.machxp.client;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.futex.FutexEntry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** An embedded pager and kernels on loopback gRPC, with a client and a task on each kernel. */
final class ClusterFixture implements AutoCloseable {
    static final String OBJECT = "obj";
    static final long OBJECT_SIZE = 4 * 4096;

    final EmbeddedCluster cluster;
    final List<KernelClient> clients = new ArrayList<>();
    final List<TaskClient> tasks = new ArrayList<>();
    final long[] base;
    /** Threads for blocking client calls made concurrently by a test; shut down on close. */
    final ExecutorService pool = Executors.newCachedThreadPool();

    ClusterFixture(int kernels) throws IOException {
        this(kernels, true);
    }

    ClusterFixture(int kernels, boolean cacheFutexes) throws IOException {
        cluster = EmbeddedCluster.start(kernels, cacheFutexes, Map.of(OBJECT, OBJECT_SIZE));
        base = new long[kernels];
        for (int i = 0; i < kernels; i++) {
            KernelClient client = KernelClient.connect(cluster.kernelTargets().get(i));
            clients.add(client);
            TaskClient task = client.taskCreate("test");
            tasks.add(task);
            base[i] = task.vmMap(OBJECT);
        }
    }

    Kernel kernel(int i) {
        return cluster.kernel(i);
    }

    ThreadClient thread(int kernel) {
        return tasks.get(kernel).threadCreate();
    }

    /** XP messages the pager has received and sent so far. */
    long pagerMessages() {
        return cluster.pager().stats().messages();
    }

    /** Local threads waiting for the futex at {@code offset} on a kernel, read on its core thread. */
    int localWaiters(int kernel, long offset) {
        long task = cluster.kernel(kernel).taskHandles().taskId(tasks.get(kernel).id()); // the core's id
        long address = base[kernel] + offset;
        return cluster.kernel(kernel).<Integer>call(r -> {
            FutexEntry e = cluster.kernel(kernel).core().inspect().futexAt(task, address);
            r.complete(e == null ? 0 : e.waiters.size());
        });
    }

    @Override
    public void close() {
        pool.shutdownNow();
        clients.forEach(KernelClient::close);
        cluster.close();
    }
}
