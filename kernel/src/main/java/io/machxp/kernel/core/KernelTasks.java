package io.machxp.kernel.core;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.sched.Priority;
import io.machxp.kernel.sched.Scheduler;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.task.ThreadNumbers;
import io.machxp.kernel.task.Tids;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.proto.task.Errno;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel's tasks and threads. Part of the kernel core: core thread only, except
 * {@link #task} (the fast path looks tasks up from any thread).
 *
 * <h2>Overview</h2>
 * task_create makes a task (at most {@link KernelCore#MAX_TASKS} at once, a client's peer at most
 * its share of them, as of threads and mappings: {@link ClientShares}); thread_create gives a
 * TID (the kernel id and a thread number, reused only after a quarantine: {@link #tidQuarantine})
 * and a base priority (1-99). States of a thread:
 * <pre>
 *  idle       thread_compute, thread_sleep
 *                              -> blocked in it ({@link ThreadCalls})
 *             vm_lock_futex    -> blocked in it until acquired, failed, timed out or cancelled
 *                                 ({@link KernelFutexes})
 *             mach_msg         -> blocked in it until sent and/or received, timed out or
 *                                 interrupted ({@link KernelIpc})
 *  blocked    thread_compute, thread_sleep, vm_lock_futex, vm_trylock_futex, mach_msg
 *                              -> EBUSY: a thread makes one call at a time ({@link #busy})
 *             its caller cancels the call
 *                              -> idle; the call fails with EINTR ({@link ThreadCalls#abortWait})
 *  any        thread_terminate, task_terminate, shutdown
 *                              -> ended: the call it is blocked in fails with ESRCH, and a futex
 *                                 it held passes on with OWNER_DIED (robust futexes)
 * </pre>
 * thread_set_priority changes the base priority; boosts it inherits stay (priority inheritance
 * is in {@link FutexInheritance}). task_terminate ends the task's threads, unmaps its mappings
 * (waiting for its copies under way) and forgets the task.
 */
final class KernelTasks {
    /** Log lines keep the core's logger: they read as the kernel's. */
    private static final Logger log = LoggerFactory.getLogger(KernelCore.class);

    /** The longest task name (as the longest object name). */
    static final int MAX_TASK_NAME = 255;

    private final KernelCore core;
    private final String name;
    private final KernelEnv env;
    private final Scheduler scheduler;
    /** Living threads by TID; core thread only. */
    private final Map<Integer, MachThread> threadsByTid = new HashMap<>();
    /** Read by the fast path from any thread; written here. */
    private final Map<Long, MachTask> tasks = new ConcurrentHashMap<>();
    /** Live tasks, threads and mappings per client peer ({@link ClientShares}). */
    final ClientShares shares;
    private long nextTaskId = 1;
    /**
     * Thread numbers (TIDs' low bits), reused after {@link #tidQuarantine}; a resting number counts
     * in {@code shares.threads} to its ended thread's peer until its rest is over (review rv58 LOW-1).
     */
    private final ThreadNumbers numbers;
    /** The highest wait number any ended thread reached: a new thread's waits are numbered above it. */
    private long waitsBefore;

    KernelTasks(KernelCore core, String name, KernelEnv env, Scheduler scheduler) {
        this.core = core;
        this.name = name;
        this.env = env;
        this.scheduler = scheduler;
        this.shares = new ClientShares(name);
        this.numbers = new ThreadNumbers(Tids.MAX_THREAD_NUMBER, shares.threads::given);
    }

    /** Any thread: the task with this id, or null. */
    MachTask task(long id) {
        return tasks.get(id);
    }

    /** Core thread: the living threads, by TID. */
    java.util.List<MachThread> threads() {
        return threadsByTid.values().stream().sorted(java.util.Comparator.comparingInt(t -> t.tid)).toList();
    }

    // ---- tasks and threads --------------------------------------------------------------------

    void taskCreate(String taskName, Reply<MachTask> reply) {
        taskCreate(taskName, null, reply);
    }

    /** task_create for the client {@code owner} (null: none): its port names count in that client's part ({@code NameBudget}). */
    void taskCreate(String taskName, Object owner, Reply<MachTask> reply) {
        if (!core.sessions.primary().connected(reply)) {
            return;
        }
        if (taskName == null || taskName.length() > MAX_TASK_NAME || taskName.chars().anyMatch(Character::isISOControl)) {
            // kept for the task's life and shown by kernel_threads for each of its threads: unbounded,
            // a few names of megabytes would fill the kernel's heap and every kernel_threads reply
            reply.fail(KernelError.of(Errno.EINVAL, "a task name of %d characters%s: use at most %d, without control "
                    + "characters (it is for logs and kernel_threads only)", taskName == null ? 0 : taskName.length(),
                    taskName != null && taskName.chars().anyMatch(Character::isISOControl) ? " with control characters" : "",
                    MAX_TASK_NAME));
            return;
        }
        if (tasks.size() >= shares.tasks.max()) {
            reply.fail(KernelError.of(Errno.EAGAIN, "kernel %s has %d tasks, the most it keeps at once; terminate "
                    + "tasks that are no longer needed (a client's tasks end with its TaskWatch)", name,
                    shares.tasks.max()));
            return;
        }
        Object peer = ClientShares.peerOf(owner);
        KernelError share = shares.refusal(shares.tasks, peer, "tasks", "terminate tasks it no longer needs by "
                + "their handles (a client's tasks end with its TaskWatch; a task nobody watches stays until terminated "
                + "or the kernel restarts, also after its client disconnected; a task_create its caller gave up on "
                + "keeps no task); other peers and in-process tasks still create tasks");
        if (share != null) {
            reply.fail(share);
            return;
        }
        MachTask task = new MachTask(nextTaskId++, taskName, peer);
        tasks.put(task.id, task);
        shares.tasks.taken(peer);
        core.ipcCore.spaceCreate(task.id, owner);
        reply.complete(task);
    }

    /** thread_create with a base priority (1-99). */
    void threadCreate(long taskId, int priority, Reply<MachThread> reply) {
        MachTask task = connectedTask(taskId, reply);
        if (task == null) {
            return;
        }
        if (!Priority.valid(priority)) {
            reply.fail(invalidPriority(priority));
            return;
        }
        numbers.settle(env.nanoTime()); // numbers whose rest is over count to nobody any more
        KernelError share = shares.refusal(shares.threads, task.peer, "thread ids (live or resting)", String.format(
                java.util.Locale.ROOT, "terminate threads it no longer needs (a task's threads end with it); an ended "
                + "thread's id rests %d ms and counts to its peer until then, so a client that creates and ends "
                + "threads fast holds their ids meanwhile: reuse threads instead", tidQuarantine() / 1_000_000));
        if (share != null) {
            reply.fail(share);
            return;
        }
        int kernelId = core.kernelId();
        int number = threadsByTid.size() >= shares.threads.max() ? 0 : numbers.take(env.nanoTime(),
                n -> threadsByTid.containsKey(Tids.tid(kernelId, n)), namedByWords(kernelId));
        if (number == 0) {
            reply.fail(KernelError.of(Errno.EAGAIN, "kernel %s has all %d thread ids in use or resting after their "
                    + "threads ended (an id rests %d ms); terminate threads that are no longer needed", name,
                    Tids.MAX_THREAD_NUMBER, tidQuarantine() / 1_000_000));
            return;
        }
        MachThread thread = new MachThread(Tids.tid(kernelId, number), task);
        thread.waitNumber = waitsBefore; // a stale deadlock probe for the number's old thread names an older wait
        thread.basePriority = priority;
        thread.effectivePriority = priority;
        task.addThread(thread);
        threadsByTid.put(thread.tid, thread);
        shares.threads.taken(task.peer);
        reply.complete(thread);
    }

    // ---- threads: priority and ending ---------------------------------------------------------

    /** A thread makes one call at a time: EBUSY while it is blocked in another. */
    static boolean busy(MachThread t, Reply<?> reply) {
        if (t.blockedIn == null) {
            return false;
        }
        reply.fail(KernelError.of(Errno.EBUSY, "thread %d is still blocked in %s; a thread makes one call at a time",
                t.tid, t.blockedIn));
        return true;
    }

    /** thread_set_priority: a new base priority; boosts it inherits stay. */
    void threadSetPriority(long taskId, int tid, int priority, Reply<Void> reply) {
        MachThread t = thread(taskId, tid, reply);
        if (t == null) {
            return;
        }
        if (!Priority.valid(priority)) {
            reply.fail(invalidPriority(priority));
            return;
        }
        t.basePriority = priority;
        core.futexes.basePriorityChanged(t);
        reply.complete(null);
    }

    /** thread_terminate: the thread ends; futexes it holds pass on with OWNER_DIED. */
    void threadTerminate(long taskId, int tid, Reply<Void> reply) {
        MachThread t = thread(taskId, tid, reply);
        if (t != null) {
            end(t, "thread_terminate");
            reply.complete(null);
        }
    }

    /** task_terminate: every thread of the task ends as with thread_terminate; then the task. */
    void taskTerminate(long taskId, String why, Reply<Void> reply) {
        MachTask task = tasks.get(taskId);
        if (task == null) {
            reply.fail(noTask(taskId));
            return;
        }
        task.threads().forEach(t -> end(t, why));
        core.futexes.taskEnded(task); // its futexes' charges to its peer move to their holders or go
        core.ipcCore.spaceDestroy(taskId); // its rights end: ports die, send rights count down
        for (VmMapping m : task.removeMappings()) {
            core.objects.unmapped(task, m); // its writes under way land before, or are refused
        }
        tasks.remove(taskId);
        core.objects.taskEnded(task, why); // its vm_maps still waiting fail, giving their shares back
        shares.tasks.given(task.peer);
        log.info("kernel {}: task {} ended ({})", name, taskId, why);
        reply.complete(null);
    }

    /** Every living thread ends (the kernel shuts down). */
    void endAll(String why) {
        for (MachThread t : new ArrayList<>(threadsByTid.values())) {
            end(t, why);
        }
    }

    private void end(MachThread t, String why) {
        if (!t.alive) {
            return;
        }
        t.alive = false;
        KernelError ended = KernelError.of(Errno.ESRCH, "thread %d was terminated (%s)", t.tid, why);
        core.futexes.threadEnded(t, ended);
        core.ipcCore.threadEnded(t.tid);
        scheduler.cancel(t);
        if (t.sleepTimer != null) {
            t.sleepTimer.cancel();
        }
        Reply<?> blocked = t.blockedReply;
        t.blockedReply = null;
        t.blockedIn = null;
        if (blocked != null) {
            blocked.fail(ended);
        }
        t.task.removeThread(t.tid);
        threadsByTid.remove(t.tid);
        // its number rests and counts to the task's peer until free again (review rv58 LOW-1: counted
        // to nobody, one peer's churn kept every number resting with a long lease)
        numbers.ended(t.tid & ((1 << Tids.THREAD_BITS) - 1), env.nanoTime(), tidQuarantine(), t.task.peer);
        waitsBefore = Math.max(waitsBefore, t.waitNumber);
        env.trace("thread-ended", t.tid, why);
    }

    // ---- thread ids ---------------------------------------------------------------------------

    /**
     * How long a thread number rests after its thread ended: twice the session's lease, and at
     * least {@link #MIN_TID_QUARANTINE_NANOS}. What may still name the old thread then: a client's
     * call (of a thread it ended itself; task ids are never reused, so only within the same task),
     * and a futex word written by a fast-path CAS that was under way at the death - in process
     * a few instructions, in a task process at most the shared-memory revocation's bound (2 s)
     * before the process is treated as gone. A word this kernel tracks that still names the old
     * TID keeps the number from being given ({@link #namedByWords}); deadlock probes cannot
     * confuse the threads, since a new thread's wait numbers start above every ended one's.
     */
    long tidQuarantine() {
        return Math.max(MIN_TID_QUARANTINE_NANOS, 2 * core.sessions.primary().leaseNanos());
    }

    /** The least a thread number rests: five times the shared-memory revocation's bound. */
    static final long MIN_TID_QUARANTINE_NANOS = 10_000_000_000L;

    /**
     * Whether a futex word this kernel tracks still names the thread number's old TID (looked up
     * once per thread_create, on first use, and only when numbers are being reused).
     */
    private IntPredicate namedByWords(int kernelId) {
        return new IntPredicate() {
            private Set<Integer> named;

            @Override
            public boolean test(int number) {
                if (named == null) {
                    named = new HashSet<>();
                    core.forEachFutex(e -> {
                        long state = e.state();
                        int owner = FutexWord.owner(state);
                        if (!FutexWord.isAbsent(state) && owner != 0 && livingThread(owner) == null) {
                            named.add(owner);
                        }
                    });
                }
                return named.contains(Tids.tid(kernelId, number));
            }
        };
    }

    /** How many thread numbers rest now; for tests that check the records stay bounded. */
    int restingThreadNumbers() {
        return numbers.resting();
    }

    /** How many threads live now. */
    int livingThreads() {
        return threadsByTid.size();
    }

    // ---- lookups ------------------------------------------------------------------------------

    /** The thread of a request, if the kernel has its pager and the task and thread exist; else fails the reply. */
    MachThread thread(long taskId, int tid, Reply<?> reply) {
        MachTask task = connectedTask(taskId, reply);
        if (task == null) {
            return null;
        }
        MachThread thread = task.thread(tid);
        if (thread == null) {
            reply.fail(noThread(taskId, tid));
        }
        return thread;
    }

    /** The task, if the kernel has its pager and the task exists; else fails the reply. */
    MachTask connectedTask(long taskId, Reply<?> reply) {
        if (!core.sessions.primary().connected(reply)) {
            return null;
        }
        MachTask task = tasks.get(taskId);
        if (task == null) {
            reply.fail(noTask(taskId));
        }
        return task;
    }

    /**
     * Whether {@code tid} is a thread this kernel made that has ended: its death is one the system
     * saw, so a futex word that still names it means OWNER_DIED, not a TID a task wrote (ESRCH).
     */
    boolean endedHere(int tid) {
        int number = tid & ((1 << Tids.THREAD_BITS) - 1);
        return Tids.kernelId(tid) == core.kernelId() && numbers.given(number) && livingThread(tid) == null;
    }

    /** The living thread with this TID on this kernel, or null. */
    MachThread livingThread(int tid) {
        MachThread t = threadsByTid.get(tid);
        return t != null && t.alive ? t : null;
    }

    /** The futex at a task's address, for tests and tools; null if this kernel has none there. */
    FutexEntry futexAt(long taskId, long address) {
        MachTask task = tasks.get(taskId);
        return task == null ? null : task.residentFutex(address);
    }

    private KernelError noTask(long taskId) {
        return KernelError.of(Errno.ESRCH, "kernel %s has no task %d; create one with task_create", name, taskId);
    }

    private KernelError noThread(long taskId, int tid) {
        return KernelError.of(Errno.ESRCH, "task %d on kernel %s has no thread %d; create it with thread_create",
                taskId, name, tid);
    }

    private static KernelError invalidPriority(int priority) {
        return KernelError.of(Errno.EINVAL, "priority %s is out of range: use %d (lowest) to %d (highest)",
                Integer.toUnsignedString(priority), Priority.MIN, Priority.MAX); // a uint32 as sent
    }
}
