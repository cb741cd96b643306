package io.machxp.scenario;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The decisions of linux mode that need no real thread, kept apart so that they are tested
 * without one: which Linux CPUs a scenario's kernels get, whether this machine can run it, which
 * interface each word uses, how errno values are named, and how /proc shows a thread's priority.
 */
final class LinuxSupport {
    static final int EPERM = 1;
    static final int ESRCH = 3;
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int EBUSY = 16;
    static final int EINVAL = 22;
    static final int EDEADLK = 35;
    static final int ETIMEDOUT = 110;
    static final int EOWNERDEAD = 130;
    static final int ENOTRECOVERABLE = 131;

    private static final Map<Integer, String> ERRNO = Map.ofEntries(Map.entry(EPERM, "EPERM"),
            Map.entry(2, "ENOENT"), Map.entry(ESRCH, "ESRCH"), Map.entry(EINTR, "EINTR"), Map.entry(EAGAIN, "EAGAIN"),
            Map.entry(12, "ENOMEM"), Map.entry(13, "EACCES"), Map.entry(14, "EFAULT"), Map.entry(EBUSY, "EBUSY"),
            Map.entry(EINVAL, "EINVAL"), Map.entry(EDEADLK, "EDEADLK"), Map.entry(38, "ENOSYS"),
            Map.entry(ETIMEDOUT, "ETIMEDOUT"), Map.entry(EOWNERDEAD, "EOWNERDEAD"),
            Map.entry(ENOTRECOVERABLE, "ENOTRECOVERABLE"));

    private LinuxSupport() {}

    static String errnoName(int errno) {
        return ERRNO.getOrDefault(errno, "errno " + errno);
    }

    /** How many Linux CPUs the scenario takes: one per CPU of each kernel. */
    static int cpusNeeded(Scenario s) {
        return s.kernels().stream().mapToInt(Scenario.KernelSpec::cpus).sum();
    }

    /**
     * Each kernel's CPUs, in the order of the file: kernel A's cpu0 is the first CPU this process
     * may use, A's cpu1 (or B's cpu0) the next, and so on; null if there are too few.
     */
    static Map<String, int[]> cpuMap(List<Scenario.KernelSpec> kernels, int[] allowed) {
        Map<String, int[]> map = new LinkedHashMap<>();
        int next = 0;
        for (Scenario.KernelSpec k : kernels) {
            if (next + k.cpus() > allowed.length) {
                return null;
            }
            int[] cpus = new int[k.cpus()];
            for (int i = 0; i < cpus.length; i++) {
                cpus[i] = allowed[next++];
            }
            map.put(k.name(), cpus);
        }
        return map;
    }

    /**
     * The CPUs for the JVM's own threads (the runner, the priority sampler, the garbage collector
     * and JIT compiler): those the scenario does not use, or all of them when it uses every one
     * (then Linux's RT throttling leaves the ordinary threads 5% of each second).
     */
    static int[] jvmCpus(int[] allowed, Map<String, int[]> cpuMap) {
        Set<Integer> used = new LinkedHashSet<>();
        cpuMap.values().forEach(cs -> { for (int c : cs) { used.add(c); } });
        List<Integer> free = new ArrayList<>();
        for (int c : allowed) {
            if (!used.contains(c)) {
                free.add(c);
            }
        }
        return free.isEmpty() ? allowed.clone() : free.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Why this machine cannot run the scenario in linux mode, as one sentence, or null if it can.
     *
     * @param nativeUnavailable why the C library could not be bound, or null
     * @param needed CPUs the scenario needs
     * @param available CPUs this process may use
     * @param fifoErrno errno of sched_setscheduler(SCHED_FIFO) tried on a probe thread, 0 if it worked
     * @param affinityErrno errno of sched_setaffinity to the scenario's CPUs, 0 if it worked
     */
    static String unsupported(String nativeUnavailable, int needed, int available, int fifoErrno, int affinityErrno) {
        if (nativeUnavailable != null) {
            return nativeUnavailable + ".";
        }
        if (needed > available) {
            return "This scenario needs " + needed + " CPUs (one per CPU of its kernels) and this machine lets "
                    + "machxp use " + available + ", so it cannot run in linux mode here.";
        }
        if (fifoErrno != 0) {
            return "Linux refused SCHED_FIFO here (sched_setscheduler: " + errnoName(fifoErrno)
                    + (fifoErrno == EPERM ? "; run as root or grant CAP_SYS_NICE and an RLIMIT_RTPRIO of 99" : "")
                    + "), so linux mode is not supported here.";
        }
        if (affinityErrno != 0) {
            return "Linux refused to pin threads to the scenario's CPUs (sched_setaffinity: " + errnoName(affinityErrno)
                    + "), so linux mode is not supported here.";
        }
        return null;
    }

    /**
     * The words that use a robust PI pthread mutex (the rest use raw FUTEX_LOCK_PI, UNLOCK_PI,
     * TRYLOCK_PI): a word that a consistent step names, or that a step expects EOWNERDEAD or
     * ENOTRECOVERABLE from, or that a thread may still hold when it ends (a die, an exit, a step
     * the file expects ESRCH of, which ends the program there, or the end of its program after a
     * lock or trylock of the word that no unlock followed). Only a robust mutex is on the
     * thread's robust list (glibc's), so only there does Linux mark the word OWNER_DIED when its
     * owner ends. An ESRCH the file does not state cannot be foreseen: a raw word held then is
     * released on Linux without OWNER_DIED, where the simulator passes it on with it (late8 F4).
     */
    static Set<String> robustWords(Scenario s) {
        Set<String> robust = new LinkedHashSet<>();
        for (Scenario.ThreadSpec t : s.threads()) {
            Set<String> held = new LinkedHashSet<>();
            boolean ended = false;
            for (Step step : t.program()) {
                if (step.kind() == Step.Kind.CONSISTENT) {
                    robust.add(step.word());
                }
                if (step.word() != null && step.expect() != null
                        && (step.expect().equals("EOWNERDEAD") || step.expect().equals("ENOTRECOVERABLE"))) {
                    robust.add(step.word());
                }
                switch (step.kind()) {
                    case LOCK, TRYLOCK -> {
                        if (step.expect() == null || step.expect().equals("ok") || step.expect().equals("EOWNERDEAD")) {
                            held.add(step.word());
                        }
                    }
                    case UNLOCK -> held.remove(step.word());
                    case EXIT, DIE -> {
                        if (!ended) {
                            robust.addAll(held);
                        }
                        ended = true;
                    }
                    default -> { }
                }
                if ("ESRCH".equals(step.expect()) && !ended) { // the program ends at this step
                    robust.addAll(held);
                    ended = true;
                }
            }
            if (!ended) {
                robust.addAll(held);
            }
        }
        return robust;
    }

    /**
     * A thread's effective SCHED_FIFO priority from its /proc/.../stat line: field 18, prio, is
     * -1 - rt_priority for a real-time thread (the boosted one, with priority inheritance), and
     * 0 to 39 for an ordinary one (120 + nice - 100), shown as 0. -1 if the line cannot be read.
     */
    static int effectivePriority(byte[] stat, int length) {
        int close = -1;
        for (int i = length - 1; i >= 0; i--) {
            if (stat[i] == ')') {
                close = i;
                break;
            }
        }
        if (close < 0) {
            return -1;
        }
        // after ") " comes field 3 (state); prio is field 18, 15 spaces further
        int field = 2;
        int i = close + 1;
        while (i < length && field < 18) {
            if (stat[i] == ' ') {
                field++;
            }
            i++;
        }
        if (field < 18) {
            return -1;
        }
        boolean negative = i < length && stat[i] == '-';
        if (negative) {
            i++;
        }
        int value = 0;
        int digits = 0;
        while (i < length && stat[i] >= '0' && stat[i] <= '9') {
            value = value * 10 + (stat[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0) {
            return -1;
        }
        int prio = negative ? -value : value;
        return prio < 0 ? -1 - prio : 0;
    }

    /**
     * Why linux mode refuses a scenario with Mach IPC steps; {@code .ci/linux-compare} lists such
     * files as skipped by the words "no Linux counterpart".
     */
    static final String IPC_REFUSED = "The scenario has Mach IPC steps (port_allocate, send, receive, rpc), which "
            + "have no Linux counterpart to compare with, so it runs in sim mode only.";

    /** Whether any thread of {@code s} has a Mach IPC step. */
    static boolean usesIpc(Scenario s) {
        return s.threads().stream().flatMap(t -> t.program().stream()).anyMatch(step -> step.kind().ipc());
    }
}
