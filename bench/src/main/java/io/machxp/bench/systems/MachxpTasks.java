package io.machxp.bench.systems;

import io.machxp.bench.workload.LockService;
import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import java.util.List;

/**
 * machxp's bench locks as a user's process reaches them: per node, a task created through
 * {@link KernelClient#connect} on that node's kernel (the shared-memory fast path when the kernel is
 * on this host, gRPC otherwise), with the bench's objects mapped; each worker a thread of its node's
 * task. Lock i is the futex at the start of page i of object i mod objects, its counter the 8 bytes
 * after the futex word. Used by {@code --api grpc} in the bench's JVM and by {@code --api process}
 * in each worker process, which connects only to its own node's kernel.
 */
final class MachxpTasks implements LockService {
    static final int COUNTER_OFFSET = 8;

    private final String name;
    private final List<String> targets;
    private final List<String> objects;
    private final long page;
    private final KernelClient[] clients;
    private final TaskClient[] tasks;
    /** Per node, where each object is mapped in its task. */
    private final long[][] bases;

    MachxpTasks(String name, List<String> targets, List<String> objects, long page) {
        this.name = name;
        this.targets = List.copyOf(targets);
        this.objects = List.copyOf(objects);
        this.page = page;
        this.clients = new KernelClient[targets.size()];
        this.tasks = new TaskClient[targets.size()];
        this.bases = new long[targets.size()][];
    }

    /** The node's task, created on first use. */
    private synchronized TaskClient task(int node) {
        if (tasks[node] == null) {
            KernelClient client = KernelClient.connect(targets.get(node));
            clients[node] = client;
            TaskClient task = client.taskCreate("bench");
            long[] base = new long[objects.size()];
            for (int p = 0; p < objects.size(); p++) {
                base[p] = task.vmMap(objects.get(p));
            }
            bases[node] = base;
            tasks[node] = task;
        }
        return tasks[node];
    }

    private long address(int node, int lock) {
        long[] base = bases[node];
        return base[lock % base.length] + lock * page;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Client client(int node, int worker) {
        TaskClient task = task(node);
        ThreadClient thread = task.threadCreate();
        return new Client() {
            @Override
            public void lock(int lock) {
                thread.lockFutex(address(node, lock));
            }

            @Override
            public void unlock(int lock) {
                thread.unlockFutex(address(node, lock));
            }

            @Override
            public long read(int lock) {
                return task.readLong(address(node, lock) + COUNTER_OFFSET);
            }

            @Override
            public void write(int lock, long value) {
                task.writeLong(address(node, lock) + COUNTER_OFFSET, value);
            }
        };
    }

    @Override
    public long messages() {
        return -1;
    }

    @Override
    public synchronized long calls() {
        long sum = 0;
        for (KernelClient c : clients) {
            sum += c == null ? 0 : c.callsMade();
        }
        return sum;
    }

    @Override
    public long counter(int lock) {
        return task(0).readLong(address(0, lock) + COUNTER_OFFSET);
    }

    @Override
    public synchronized void close() {
        for (KernelClient c : clients) {
            if (c != null) {
                c.close();
            }
        }
    }
}
