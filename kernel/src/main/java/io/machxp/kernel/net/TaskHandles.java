package io.machxp.kernel.net;

import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelError;
import io.machxp.proto.task.Errno;
import java.security.SecureRandom;
import java.util.Iterator;
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
 *  revoke(handle) or retire(core) -----------> the handle's task_watch streams end ({@link TaskWatches})
 * </pre>
 *
 * A handle names a task of one session's core ({@link Ref}): a kernel that lost its session with
 * its pager starts a new one on a new core, and the handles of the old core's tasks are retired
 * then, each remembered with why its task was lost, so that a client calling with one learns what
 * happened instead of reaching a task of the new core. A handle withdrawn because its task was
 * terminated (TaskTerminate, its TaskWatch ending) is remembered the same way, with that reason
 * (review kreview LOW-2: it answered "no task; create one"). The record keeps the most recent
 * {@link #MAX_LOST} of both together (a few MB at most); an older handle answers as one never
 * given out. A remembered handle is never issued again.
 *
 * <p>Thread-safe: handles are issued on the core thread and looked up on transport threads.
 */
public final class TaskHandles {
    /** Withdrawn handles remembered with why their tasks are gone; older ones become unknown. */
    static final int MAX_LOST = 1 << 16;

    /** A task of one session's core (null core: a test's bare id). */
    public record Ref(KernelCore core, long id) {}

    private final SecureRandom random = new SecureRandom();
    /** handle -> the core and its task id. */
    private final ConcurrentHashMap<Long, Ref> taskIds = new ConcurrentHashMap<>();
    /** Withdrawn handle -> why its task is gone, oldest first (under its own lock). */
    private final java.util.LinkedHashMap<Long, String> lost = new java.util.LinkedHashMap<>();
    /** The task_watch streams of the handles, ended when their handle is withdrawn. */
    private final TaskWatches watches = new TaskWatches();
    /** What creates with a client's create_token made ({@link CreateTokens}): kernel-wide, as the handles are. */
    private final CreateTokens createTokens = new CreateTokens();

    /** The create tokens this kernel remembers. */
    CreateTokens createTokens() {
        return createTokens;
    }

    /** A new handle for the core's task {@code taskId}: random, never 0, not given out before on this kernel. */
    public long issue(long taskId) {
        return issue(null, taskId);
    }

    /** A new handle for task {@code taskId} of {@code core}. */
    public long issue(KernelCore core, long taskId) {
        while (true) {
            long handle = random.nextLong();
            if (handle != 0 && !isLost(handle) && taskIds.putIfAbsent(handle, new Ref(core, taskId)) == null) {
                return handle;
            }
        }
    }

    /** The core's id of the task the handle names, or null if this kernel gave out no such handle. */
    public Long taskId(long handle) {
        Ref r = taskIds.get(handle);
        return r == null ? null : r.id();
    }

    /** The core and task the handle names, or null. */
    public Ref ref(long handle) {
        return taskIds.get(handle);
    }

    /** Why a task ended by TaskTerminate is gone (the sentence after "kernel k no longer has task h: "). */
    public static final String TERMINATED = "it was terminated (task_terminate)";
    /** Why a task whose TaskWatch ended is gone. */
    public static final String WATCH_ENDED = "it was terminated when its TaskWatch ended (its client closed the "
            + "stream, went away or lost its connection)";

    /** {@link #revoke(long, String)} of a task terminated by TaskTerminate. */
    public Long revoke(long handle) {
        return revoke(handle, TERMINATED);
    }

    /**
     * Withdraws a handle (its task is ending, {@code why}): its task_watch streams end (OK), and the
     * handle is remembered with {@code why}; returns the task id it named, or null if none (nothing
     * is remembered then).
     */
    public Long revoke(long handle, String why) {
        Ref r = taskIds.remove(handle);
        if (r != null) {
            remember(handle, why);
        }
        watches.end(handle, null);
        return r == null ? null : r.id();
    }

    /** Remembers a withdrawn handle with why its task is gone, forgetting the oldest past MAX_LOST. */
    private void remember(long handle, String why) {
        synchronized (lost) {
            lost.remove(handle);
            lost.put(handle, why);
            if (lost.size() > MAX_LOST) {
                lost.remove(lost.keySet().iterator().next());
            }
        }
    }

    /** The task_watch streams open on this kernel. */
    public TaskWatches watches() {
        return watches;
    }

    /**
     * The session of {@code core} is over: every handle of its tasks is retired, remembered with
     * {@code why} (a sentence saying what was lost), and its task_watch streams end with ESRCH and
     * that sentence; returns how many.
     */
    public int retire(KernelCore core, String why) {
        int n = 0;
        for (Iterator<java.util.Map.Entry<Long, Ref>> it = taskIds.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (e.getValue().core() == core) {
                it.remove();
                remember(e.getKey(), why);
                watches.end(e.getKey(), KernelError.of(Errno.ESRCH, "task %s is lost: %s",
                        Long.toUnsignedString(e.getKey()), why));
                n++;
            }
        }
        return n;
    }

    private boolean isLost(long handle) {
        synchronized (lost) {
            return lost.containsKey(handle);
        }
    }

    /** The error for a handle that names no task: one withdrawn (saying why its task is gone), or unknown. */
    public KernelError notFound(String kernelName, long handle) {
        String why;
        synchronized (lost) {
            why = lost.get(handle);
        }
        return why == null ? unknown(kernelName, handle)
                : KernelError.of(Errno.ESRCH, "kernel %s no longer has task %s: %s", kernelName,
                        Long.toUnsignedString(handle), why);
    }

    /** Handles in use. */
    public int size() {
        return taskIds.size();
    }

    /** Withdrawn handles remembered now (at most {@link #MAX_LOST}). */
    public int remembered() {
        synchronized (lost) {
            return lost.size();
        }
    }

    /** The error for a handle this kernel did not give out: the one an unknown task gets from the core. */
    static KernelError unknown(String kernelName, long handle) {
        return KernelError.of(Errno.ESRCH, "kernel %s has no task %s; create one with task_create", kernelName,
                Long.toUnsignedString(handle));
    }
}
