package io.machxp.demo;

import io.machxp.client.KernelClient;
import io.machxp.client.MachxpException;
import io.machxp.client.TaskClient;
import io.machxp.client.TaskWatch;
import io.machxp.client.ThreadClient;
import java.time.Duration;

/**
 * One demo worker's task on its kernel: a task of its own, watched (TaskWatch: when the worker
 * drops it or goes away, the kernel terminates it, and a futex its thread held passes on with
 * OWNER_DIED), the object mapped, one thread. Dropped after a failed call and set up again.
 */
final class DemoWorker {
    /** A lock waits at most this long; every call's deadline is longer (see {@link #CALL_DEADLINE}). */
    static final Duration LOCK_TIMEOUT = Duration.ofSeconds(5);
    /** Every call of the demo fails with DEADLINE_EXCEEDED rather than wait longer than this. */
    static final Duration CALL_DEADLINE = LOCK_TIMEOUT.plusSeconds(5);

    private final KernelClient client;
    private final String object;
    private final String name;
    private TaskClient task;
    private TaskWatch watch;
    private ThreadClient thread;
    private long base;

    DemoWorker(KernelClient client, String object, String name) {
        this.client = client;
        this.object = object;
        this.name = name;
    }

    boolean ready() {
        return thread != null;
    }

    /** A new task, watched, with the object mapped and one thread; on failure nothing is left. */
    void setUp() {
        try {
            task = client.taskCreate(name);
            watch = task.watch();
            base = task.vmMap(object);
            thread = task.threadCreate();
        } catch (RuntimeException e) {
            drop();
            throw e;
        }
    }

    TaskClient task() {
        return task;
    }

    ThreadClient thread() {
        return thread;
    }

    long base() {
        return base;
    }

    /** Ends the task (the kernel terminates it when its watch ends); never throws. */
    void drop() {
        if (watch != null) {
            watch.close();
        }
        if (task != null) {
            try {
                task.terminate();
            } catch (MachxpException gone) {
                // ended with a fault, or by its watch
            }
        }
        task = null;
        watch = null;
        thread = null;
    }
}
