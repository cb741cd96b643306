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
 * attached (its page accesses count there, tid 0), each thread it creates one more. Every slot's
 * ctl word also names the call slot of the same number in the call file.
 *
 * <h2>Overview</h2>
 * <pre>
 *   claim: a slot never given yet (the high-water mark moves, never past the capacity), else the
 *          one freed longest ago, else none (-1: gRPC for that thread or task; logged once)
 *   a thread ends: REVOKED set and drained ({@link DrainWatcher}), the end run -> freed
 *          (a stale ThreadClient of the ended thread in a live process: its fast lock and unlock
 *          check that the slot's TID is still its own, which the kernel writes before it clears
 *          REVOKED for the next thread, so it fails and asks the kernel)
 *   a task ends: its threads' slots as above; its own slot stays REVOKED until the process
 *          that attached it is known dead (pid gone), then freed with the page counts it left
 *          taken back (a live process's stale TaskClient would otherwise count in it again;
 *          pid 0, a process in another PID namespace: never)
 * </pre>
 * Bounds, so that one client's churn or size cannot take the fast path from every other task of
 * the kernel: a task holds at most {@link #PER_TASK} thread slots at once (its other threads make
 * their calls over gRPC), and one process (by the pid it reports) at most {@link #PER_PROCESS}
 * task slots, its live tasks' and those of its ended tasks that wait for its death. Freed slots
 * are given again oldest first, and only once no slot was never given: a slot rests as long as
 * the session allows before a stale client could meet its next thread. Thread-safe (claims and
 * ends on the core thread, frees on the drain watcher's, reads from any).
 */
final class ThreadSlots {
    /** Thread slots one task holds at once (its live threads'). */
    static final int PER_TASK = 1_024;
    /** Task slots one process (by its reported pid) holds at once: its live tasks' and its ended ones' awaiting its death. */
    static final int PER_PROCESS = 1_024;

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

    // guarded by this
    private int given;
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    /** Per attached task: its slots, {tid, slot} (tid 0: the task's own). */
    private final Map<Long, List<int[]>> byTask = new HashMap<>();
    /** Per process: its task slots held (live tasks and ended ones awaiting its death). */
    private final Map<Long, Integer> taskSlotsByPid = new HashMap<>();
    /** Per process: the own slots of its ended tasks, freed once it is known dead. */
    private final Map<Long, List<Integer>> awaitingDeath = new HashMap<>();
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

    /** How many slots were ever given (the call file's reader looks at these). */
    synchronized int given() {
        return given;
    }

    /**
     * Task {@code taskId} is attached by process {@code pid}: its own slot, {@link #OTHER_PROCESS}
     * if another process attached it first, -1 if none is left to it (see {@link SharedMemory#attach}).
     */
    synchronized int attach(long taskId, long pid) {
        Long first = attached.putIfAbsent(taskId, pid);
        if (first != null) {
            if (first != pid) {
                return OTHER_PROCESS;
            }
            for (int[] s : byTask.getOrDefault(taskId, List.of())) {
                if (s[0] == 0) {
                    return s[1];
                }
            }
            return -1;
        }
        if (taskSlotsByPid.getOrDefault(pid, 0) >= perProcess) {
            warnOnce("process " + pid + " holds " + perProcess + " task slots (its live tasks and ended ones "
                    + "awaiting its exit)");
            return -1;
        }
        int slot = claim(taskId, 0, pid);
        if (slot >= 0) {
            taskSlotsByPid.merge(pid, 1, Integer::sum);
        }
        return slot;
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
            warnOnce("task " + taskId + " holds " + perTask + " thread slots (its live threads)");
            return -1;
        }
        return claim(taskId, tid, pid);
    }

    /** Core thread: a free slot, written for {@code tid} of {@code taskId} in process {@code pid}, or -1. */
    private int claim(long taskId, int tid, long pid) {
        int slot;
        if (given < capacity) {
            slot = given++;
        } else {
            if (free.isEmpty()) {
                sweepDead();
            }
            Integer f = free.poll();
            if (f == null) {
                warnOnce("all " + capacity + " slots are held");
                return -1;
            }
            slot = f;
        }
        int at = ShmLayout.threadSlot(slot);
        // the identity first, then the ctl word cleared (REVOKED too): a stale client that sees
        // REVOKED clear sees the new TID (SharedThread's check)
        INT.setVolatile(kernel, at + ShmLayout.SLOT_TID, tid);
        LONG.setVolatile(kernel, at + ShmLayout.SLOT_PID, pid);
        INT.setVolatile(kernel, at, 0);
        byTask.computeIfAbsent(taskId, t -> new ArrayList<>()).add(new int[] {tid, slot});
        return slot;
    }

    /**
     * Core thread, before thread {@code tid} of task {@code taskId} ends (0: the task ends): its
     * slots (the task's: all of them), taken out of the task's records. Then, once they drained and
     * the end ran, {@link #ended} frees them.
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
            pid = attached.remove(taskId);
        } else {
            pid = attached.get(taskId);
        }
        return new Revoked(threads, own, pid == null ? -1 : pid);
    }

    /** The slots of a thread or task being ended: its threads' and (a task) its own, and its process. */
    record Revoked(List<Integer> threads, int own, long pid) {
        List<Integer> all() {
            if (own < 0) {
                return threads;
            }
            List<Integer> all = new ArrayList<>(threads);
            all.add(own);
            return all;
        }
    }

    /**
     * Any thread, once the revocation of {@code r} drained (or its bound passed) and the end ran:
     * its threads' slots are free; a task's own slot once its process is known dead.
     */
    synchronized void ended(Revoked r) {
        free.addAll(r.threads());
        if (r.own() >= 0) {
            awaitingDeath.computeIfAbsent(r.pid(), p -> new ArrayList<>()).add(r.own());
        }
    }

    /** Frees the own slots of ended tasks whose process is known dead, their page counts taken back. */
    private void sweepDead() {
        for (Iterator<Map.Entry<Long, List<Integer>>> i = awaitingDeath.entrySet().iterator(); i.hasNext(); ) {
            Map.Entry<Long, List<Integer>> e = i.next();
            long pid = e.getKey();
            if (pid > 0 && !alive.test(pid)) {
                releaseCounts.accept(e.getValue());
                free.addAll(e.getValue());
                taskSlotsByPid.computeIfPresent(pid, (p, n) -> n - e.getValue().size() <= 0 ? null : n - e.getValue().size());
                i.remove();
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
