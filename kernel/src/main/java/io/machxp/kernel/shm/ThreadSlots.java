package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;
import static io.machxp.proto.shm.ShmLayout.LONG;

import io.machxp.proto.shm.ShmLayout;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.LongPredicate;

/**
 * The slots of a session's kernel file (docs/shared-memory.md): which attached task and which of
 * its threads holds each, and when a slot may be given again. A task gets one slot when it is
 * attached (its own: its page accesses count there, tid 0), each thread it creates one more. A
 * slot's number is also its call slot's in the call file, which the task's process uses through
 * one channel per task.
 *
 * <h2>Overview</h2>
 * <pre>
 *   a thread's slot: one its task freed, else a never-given one (the high-water mark moves,
 *                    never past the capacity), else one of a dead process; none: -1 (the thread
 *                    makes its calls over gRPC; logged once)
 *   a task's own slot: the same without the first
 *   a thread ends: REVOKED set, drained ({@link DrainWatcher}), its end run -> its task's pool
 *   a task ends:   every slot it held (its own, its threads', its pool) stays REVOKED and is
 *                  kept for its process until the process is known dead (pid gone; pid 0,
 *                  processes in another PID namespace: for good)
 *   a process is found dead (looked for when nothing else is free): its slots -> everybody's,
 *                  the page counts it recorded taken back
 * </pre>
 * The one rule: <b>a slot is never given to another task while the process that held it may
 * live.</b> Why:
 * <ul>
 *   <li>The process uses the call file through one channel per task (client's CallChannel), with
 *       one busy flag per slot in that channel. Two channels that both use one slot - an ended
 *       task's, whose ThreadClients the process may still call through (it is not told of a
 *       terminate by another client), and a later task's - would write one call over the other:
 *       the kernel takes the second post as the first's cancel, and the first's caller waits for
 *       an answer that never comes (review shmfixb A). Within one task both callers share the
 *       channel's one flag, so a later thread of the task may have an ended thread's slot; no
 *       other channel can touch a slot once its process is dead.
 *   <li>A stale ThreadClient of an ended thread of the task may still try its fast lock or unlock:
 *       the kernel writes the new thread's TID in the slot before it clears REVOKED, and the
 *       client checks both (SharedThread), so it fails and asks the kernel. If the TID itself was
 *       given again (after its quarantine) to the later thread of the same task in the same slot,
 *       the stale client names that thread exactly as its gRPC calls would (task and TID): no
 *       more than gRPC already allows (KernelTasks' quarantine). Slots never cross tasks of a live
 *       process, so a stale client never passes the check in another task's slot.
 *   <li>A task's own slot names nothing the client could check: a stale TaskClient of an ended
 *       task would count its page accesses there again. It too waits for its process's death.
 * </ul>
 * The cost (docs/limits.md): a long-lived process that makes and ends tasks keeps every slot its
 * ended tasks held until it exits, and processes in another PID namespace never give theirs back.
 * An alternative that gave them to the process's next tasks would need one channel per process
 * (or an owner the kernel checks in each call), and pid 0 would still have to be kept apart.
 * <p>
 * Bounds, so that one client's churn or size cannot take the fast path from every other task of
 * the kernel: a task holds at most {@link #PER_TASK} live threads' slots (its other threads make
 * their calls over gRPC), and a process (by the pid it reports) at most {@link #PER_PROCESS}
 * slots, in use, in its pools, or waiting for its death. Processes in another PID namespace (pid
 * 0) are not told apart, so no such bound holds for them. Thread-safe (claims and ends on the core
 * thread, ends also on the drain watcher's, {@link #given} on the call file's reader).
 */
final class ThreadSlots {
    /** Live threads' slots one task holds at once. */
    static final int PER_TASK = 1_024;
    /** Slots one process (by its reported pid) holds at once: in use, in its pools, or awaiting its death. */
    static final int PER_PROCESS = 4_096;

    private final ByteBuffer kernel;
    private final int capacity;
    private final int perTask;
    private final int perProcess;
    /** Takes back the page counts recorded in task slots freed after their process's death. */
    private final Consumer<List<Integer>> releaseCounts;
    /** Whether a process is still alive (a pid of 0 or less: unknown, taken as alive). */
    private final LongPredicate alive;
    /** The attached tasks' attaching processes (0: unknown pid). Any thread. */
    private final Map<Long, Long> attached = new ConcurrentHashMap<>();
    /** The attacher names of the attached tasks whose pid is unknown (0): two such processes told apart. */
    private final Map<Long, String> unknownAttachers = new HashMap<>();
    /** How many slots were ever given: written under the lock, read by the call file's reader. */
    private volatile int given;

    // guarded by this
    /** Per attached task: its slots in use, {tid, slot} (tid 0: the task's own). */
    private final Map<Long, List<int[]>> byTask = new HashMap<>();
    /** Per attached task: its ended threads' slots. */
    private final Map<Long, ArrayDeque<Integer>> taskPool = new HashMap<>();
    /** Per process (pid above 0): every slot its ended tasks held, given again once it is known dead. */
    private final Map<Long, List<Integer>> awaitingDeath = new HashMap<>();
    /** Slots of dead processes, anybody's, oldest first. */
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    /** Per process: the slots it holds (in use, in its pools, awaiting its death). */
    private final Map<Long, Integer> held = new HashMap<>();
    private boolean toldExhausted;

    ThreadSlots(ByteBuffer kernel, int capacity, Consumer<List<Integer>> releaseCounts, LongPredicate alive) {
        this(kernel, capacity, PER_TASK, PER_PROCESS, releaseCounts, alive);
    }

    /** With other bounds than {@link #PER_TASK} and {@link #PER_PROCESS} (tests). */
    ThreadSlots(ByteBuffer kernel, int capacity, int perTask, int perProcess, Consumer<List<Integer>> releaseCounts,
            LongPredicate alive) {
        this.kernel = kernel;
        this.capacity = capacity;
        this.perTask = perTask;
        this.perProcess = perProcess;
        this.releaseCounts = releaseCounts;
        this.alive = alive;
    }

    /** How many slots were ever given (the call file's reader looks at these). Any thread. */
    int given() {
        return given;
    }

    /**
     * Task {@code taskId} is attached by process {@code pid}: its own slot, {@link #OTHER_PROCESS}
     * if another process attached it first, -1 if none is left to it (see {@link SharedMemory#attach}).
     */
    synchronized int attach(long taskId, long pid) {
        return attach(taskId, pid, "");
    }

    /**
     * As {@link #attach(long, long)}; a process whose pid is unknown (0) is told apart by its
     * {@code attacher} name (TaskShmAttachRequest.attacher; "" from a client without one).
     */
    synchronized int attach(long taskId, long pid, String attacher) {
        Long first = attached.putIfAbsent(taskId, pid);
        if (first == null && pid == 0) {
            unknownAttachers.put(taskId, attacher);
        }
        if (first != null) {
            if (first != pid || (pid == 0 && !attacher.equals(unknownAttachers.getOrDefault(taskId, "")))) {
                return OTHER_PROCESS;
            }
            for (int[] s : byTask.getOrDefault(taskId, List.of())) {
                if (s[0] == 0) {
                    return s[1];
                }
            }
            return -1;
        }
        return claim(taskId, 0, pid);
    }

    static final int OTHER_PROCESS = -2;

    /** The pid of the process that attached task {@code taskId} (0: unknown), or -1 if none did. */
    long attacher(long taskId) {
        Long pid = attached.get(taskId);
        return pid == null ? -1 : pid;
    }

    boolean attached(long taskId) {
        return attached.containsKey(taskId);
    }

    /** A slot for thread {@code tid} of an attached task; -1 if the task is not attached or none is left to it. */
    synchronized int threadSlot(long taskId, int tid) {
        Long pid = attached.get(taskId);
        if (pid == null) {
            return -1;
        }
        int threads = 0;
        for (int[] s : byTask.getOrDefault(taskId, List.of())) {
            threads += s[0] != 0 ? 1 : 0;
        }
        if (threads >= perTask) {
            warnOnce("task " + taskId + " has " + perTask + " threads with a slot");
            return -1;
        }
        return claim(taskId, tid, pid);
    }

    /** A free slot, written for {@code tid} of {@code taskId} in process {@code pid}, or -1. */
    private int claim(long taskId, int tid, long pid) {
        int slot = tid != 0 ? poll(taskPool.get(taskId)) : -1;
        if (slot < 0) { // a slot the process does not hold yet (never another live process's or task's)
            if (pid != 0 && held.getOrDefault(pid, 0) >= perProcess) {
                warnOnce("process " + pid + " holds " + perProcess + " slots (in use, or of its ended threads and "
                        + "tasks)");
                return -1;
            }
            if (given < capacity) {
                slot = given;
                given = slot + 1;
            } else {
                if (free.isEmpty()) {
                    sweepDead();
                }
                slot = poll(free);
                if (slot < 0) {
                    warnOnce("all " + capacity + " slots are held");
                    return -1;
                }
            }
            held.merge(pid, 1, Integer::sum);
        }
        int at = ShmLayout.threadSlot(slot);
        // the identity first, then the ctl word cleared (REVOKED too): a stale client that sees
        // REVOKED clear sees the new TID (SharedThread)
        INT.setVolatile(kernel, at + ShmLayout.SLOT_TID, tid);
        LONG.setVolatile(kernel, at + ShmLayout.SLOT_PID, pid);
        INT.setVolatile(kernel, at, 0);
        byTask.computeIfAbsent(taskId, t -> new ArrayList<>()).add(new int[] {tid, slot});
        return slot;
    }

    private static int poll(ArrayDeque<Integer> pool) {
        Integer slot = pool == null ? null : pool.poll();
        return slot == null ? -1 : slot;
    }

    /**
     * Core thread, before thread {@code tid} of task {@code taskId} ends (0: the task ends): its
     * slots (the task's: all of them), taken out of the task's records. Once they drained and the
     * end ran, {@link #ended} gives them back.
     */
    synchronized Revoked revoking(long taskId, int tid) {
        List<int[]> slots = byTask.getOrDefault(taskId, List.of());
        List<Integer> threads = new ArrayList<>();
        int own = -1;
        for (Iterator<int[]> i = slots.iterator(); i.hasNext(); ) {
            int[] s = i.next();
            if (tid == 0 || s[0] == tid) {
                if (s[0] == 0) {
                    own = s[1];
                } else {
                    threads.add(s[1]);
                }
                i.remove();
            }
        }
        Long pid;
        if (tid == 0) {
            byTask.remove(taskId);
            unknownAttachers.remove(taskId);
            pid = attached.remove(taskId);
        } else {
            pid = attached.get(taskId);
        }
        return new Revoked(taskId, tid, threads, own, pid == null ? -1 : pid);
    }

    /** The slots of a thread ({@code tid}) or task ({@code tid} 0) being ended: its threads' and its own. */
    record Revoked(long taskId, int tid, List<Integer> threads, int own, long pid) {
        List<Integer> all() {
            if (own < 0) {
                return threads;
            }
            List<Integer> all = new ArrayList<>(threads);
            all.add(own);
            return all;
        }
    }

    /** Any thread, once the revocation of {@code r} drained (or its bound passed) and the end ran. */
    synchronized void ended(Revoked r) {
        if (r.pid() < 0) {
            return; // not attached (any more): nothing was given
        }
        if (r.tid() != 0 && attached.containsKey(r.taskId())) {
            taskPool.computeIfAbsent(r.taskId(), t -> new ArrayDeque<>()).addAll(r.threads());
            return; // to the task's later threads only: the same channel in its process
        }
        // the task ended (or did meanwhile): nothing of it goes to another task while its process may live
        ArrayDeque<Integer> pooled = r.tid() == 0 ? taskPool.remove(r.taskId()) : null;
        if (r.pid() == 0) {
            return; // a process the kernel cannot see: never given again
        }
        List<Integer> kept = awaitingDeath.computeIfAbsent(r.pid(), p -> new ArrayList<>());
        kept.addAll(r.all());
        if (pooled != null) {
            kept.addAll(pooled);
        }
    }

    /** Gives everybody the slots of processes known dead, the page counts they recorded taken back. */
    private void sweepDead() {
        for (Iterator<Map.Entry<Long, List<Integer>>> i = awaitingDeath.entrySet().iterator(); i.hasNext(); ) {
            Map.Entry<Long, List<Integer>> e = i.next();
            long pid = e.getKey();
            if (alive.test(pid) || attached.containsValue(pid)) {
                continue;
            }
            i.remove();
            List<Integer> kept = e.getValue();
            releaseCounts.accept(kept); // thread slots record none: a no-op there
            free.addAll(kept);
            int left = held.getOrDefault(pid, 0) - kept.size();
            if (left > 0) {
                held.put(pid, left);
            } else {
                held.remove(pid);
            }
        }
    }

    private void warnOnce(String what) {
        if (!toldExhausted) {
            toldExhausted = true;
            org.slf4j.LoggerFactory.getLogger(ThreadSlots.class).warn("shared memory: {} (of {} in the session's "
                    + "kernel file); the threads and tasks that get none make their calls over gRPC (docs/limits.md; "
                    + "logged once)", what, capacity);
        }
    }
}
