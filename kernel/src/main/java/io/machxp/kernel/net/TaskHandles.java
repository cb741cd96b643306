package io.machxp.kernel.net;

import io.machxp.kernel.core.KernelError;
import io.machxp.proto.task.Errno;
import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The task handles a kernel has given to its gRPC clients. A handle is a capability, as a Mach
 * task port is: 64 bits from {@link SecureRandom}, never 0, unique on this kernel, and holding it
 * is the only way to act on the task. A client that did not create a task (or was not given its
 * handle) cannot name it: guessing one of 2^64 - 1 values is hopeless, where the core's own task
 * ids (1, 2, 3, ...) could be counted.
 *
 * <p>Overview. Only the network layer ({@link MachTaskService}) sees handles; it translates each
 * request's handle to the core's task id here, on the transport thread, before anything else
 * happens. The core keeps its small sequential ids, so the deterministic simulator and in-process
 * users ({@code LocalTask}) are unaffected and a simulated run stays byte-for-byte the same.
 *
 * <pre>
 *  client --TaskCreate--> core: task 7 --> issue(7) = 0x9c1e...d2 --> TaskCreateReply.task
 *  client --VmLockFutex(task = 0x9c1e...d2)--> taskId(0x9c1e...d2) = 7 --> core.vmLockFutex(7, ...)
 *  client --VmLockFutex(task = 8)-----------> taskId(8) = null --> ESRCH, the core never sees it
 *  TaskTerminate / the TaskWatch ending -----> revoke(handle), then core.taskTerminate(7)
 * </pre>
 *
 * Thread-safe: handles are issued on the core thread and looked up on transport threads.
 */
public final class TaskHandles {
    private final SecureRandom random = new SecureRandom();
    /** handle -> the core's task id. */
    private final ConcurrentHashMap<Long, Long> taskIds = new ConcurrentHashMap<>();

    /** A new handle for the core's task {@code taskId}: random, never 0, not given out before on this kernel. */
    public long issue(long taskId) {
        while (true) {
            long handle = random.nextLong();
            if (handle != 0 && taskIds.putIfAbsent(handle, taskId) == null) {
                return handle;
            }
        }
    }

    /** The core's id of the task the handle names, or null if this kernel gave out no such handle. */
    public Long taskId(long handle) {
        return taskIds.get(handle);
    }

    /** Withdraws a handle (its task is ending); returns the task id it named, or null if none. */
    public Long revoke(long handle) {
        return taskIds.remove(handle);
    }

    /** Handles in use. */
    public int size() {
        return taskIds.size();
    }

    /** The error for a handle this kernel did not give out: the one an unknown task gets from the core. */
    static KernelError unknown(String kernelName, long handle) {
        return KernelError.of(Errno.ESRCH, "kernel %s has no task %s; create one with task_create", kernelName,
                Long.toUnsignedString(handle));
    }
}
