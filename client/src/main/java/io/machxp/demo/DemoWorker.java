package io.machxp.demo;

import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.client.WatchedTask;
import java.time.Duration;

/**
 * One demo worker's task on its kernel ({@link WatchedTask}: watched, the object mapped, one
 * thread), dropped after a failed call and set up again.
 */
final class DemoWorker {
    /** A lock waits at most this long; every call's deadline is longer (see {@link #CALL_DEADLINE}). */
    static final Duration LOCK_TIMEOUT = Duration.ofSeconds(5);
    /** Every call of the demo fails with DEADLINE_EXCEEDED rather than wait longer than this. */
    static final Duration CALL_DEADLINE = LOCK_TIMEOUT.plusSeconds(5);

    private final KernelClient client;
    /** The objects the futexes are in: futex i in object i mod their number. */
    private final java.util.List<String> objects;
    private final String name;
    private WatchedTask task;
    private long[] bases;

    DemoWorker(KernelClient client, java.util.List<String> objects, String name) {
        this.client = client;
        this.objects = objects;
        this.name = name;
    }

    boolean ready() {
        return task != null;
    }

    void setUp() {
        task = WatchedTask.create(client, name, objects.get(0));
        bases = new long[objects.size()];
        bases[0] = task.base();
        try {
            for (int i = 1; i < bases.length; i++) {
                bases[i] = task.task().vmMap(objects.get(i));
            }
        } catch (RuntimeException e) {
            drop();
            throw e;
        }
    }

    TaskClient task() {
        return task.task();
    }

    ThreadClient thread() {
        return task.thread();
    }

    /** Where the object of {@code futex} is mapped in the task. */
    long base(int futex) {
        return bases[futex % bases.length];
    }

    /** Ends the task (what its thread held passes on with OWNER_DIED); never throws. */
    void drop() {
        if (task != null) {
            task.close();
            task = null;
        }
    }
}
