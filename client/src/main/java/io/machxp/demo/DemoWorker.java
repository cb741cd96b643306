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
    private final String object;
    private final String name;
    private WatchedTask task;

    DemoWorker(KernelClient client, String object, String name) {
        this.client = client;
        this.object = object;
        this.name = name;
    }

    boolean ready() {
        return task != null;
    }

    void setUp() {
        task = WatchedTask.create(client, name, object);
    }

    TaskClient task() {
        return task.task();
    }

    ThreadClient thread() {
        return task.thread();
    }

    long base() {
        return task.base();
    }

    /** Ends the task (what its thread held passes on with OWNER_DIED); never throws. */
    void drop() {
        if (task != null) {
            task.close();
            task = null;
        }
    }
}
