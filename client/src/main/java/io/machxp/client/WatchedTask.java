package io.machxp.client;

/**
 * A task a client works in for as long as it is useful: created with its watch (TaskWatch: the
 * kernel terminates it when the client closes it or goes away, and a futex one of its threads
 * held passes on with OWNER_DIED), one memory object mapped and one thread. A client that meets a
 * failed call closes it and makes a new one; closing never throws.
 */
public final class WatchedTask implements AutoCloseable {
    private final TaskClient task;
    private final TaskWatch watch;
    private final ThreadClient thread;
    private final long base;

    private WatchedTask(TaskClient task, TaskWatch watch, ThreadClient thread, long base) {
        this.task = task;
        this.watch = watch;
        this.thread = thread;
        this.base = base;
    }

    /**
     * task_create, its watch, vm_map of {@code object} and thread_create; on a failure what was
     * made is ended and the failure thrown (a {@link MachxpException}, or IllegalStateException
     * from a watch the kernel did not confirm).
     */
    public static WatchedTask create(KernelClient client, String name, String object) {
        TaskClient task = client.taskCreate(name);
        TaskWatch watch = null;
        try {
            watch = task.watch();
            long base = task.vmMap(object);
            return new WatchedTask(task, watch, task.threadCreate(), base);
        } catch (RuntimeException e) {
            end(task, watch);
            throw e;
        }
    }

    public TaskClient task() {
        return task;
    }

    public ThreadClient thread() {
        return thread;
    }

    /** Where the object is mapped in the task. */
    public long base() {
        return base;
    }

    /** Ends the task: its watch closes and it is terminated (either ends it); never throws. */
    @Override
    public void close() {
        end(task, watch);
    }

    private static void end(TaskClient task, TaskWatch watch) {
        if (watch != null) {
            watch.close();
        }
        try {
            task.terminate();
        } catch (MachxpException gone) {
            // ended with a fault, or by its watch
        }
    }
}
