package io.machxp.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.LongUnaryOperator;

/**
 * A random PI-futex scenario for differential testing against Linux ({@code machxp linux-fuzz},
 * docs/linux-mode.md): from a seed, the same file every time. It is drawn as a model (kernels,
 * words, threads with programs) and written as scenario YAML, possibly with its times moved a
 * little ({@link #yaml(LongUnaryOperator, long)}, which {@link FuzzStability} uses to keep only
 * files whose simulated outcome no few milliseconds decide).
 * <p>
 * What it draws: one kernel of one or two CPUs, or two kernels of one CPU each (at most two CPUs
 * in all, what linux mode can pin on a 2-CPU machine); 1 to 4 futex words, each in a page of its
 * own, some of them robust; 2 to 5 threads with priorities from 10 to 90 (equals likely), each
 * starting at its own multiple of 10 ms. A program is a few blocks: compute or sleep; a
 * critical section taking 1 to 3 words in one global order (lock, lock with a timeout, lock with
 * {@code timeout: 0}, trylock), holding them over a sleep (or a compute on one CPU), reading a held
 * word, then unlocking them (or dying / exiting holding one robust word); a priority change of
 * itself or of another thread; now and then an unlock of a word it does not hold, or a second
 * lock of one it holds. Expectations are left out: {@code --compare linux} judges outcomes,
 * highest priorities and orders of acquisition.
 * <p>
 * What it leaves out, because linux mode cannot compare it faithfully (docs/linux-mode.md):
 * <ul>
 * <li>computing while holding a futex when the scenario has more than one CPU (a Linux waiter on
 *     another CPU spins on a running owner, keeps its CPU and misses its timeout);
 * <li>cycles of owners (the words are taken in one order): across kernels a cycle's boost is
 *     approximate;
 * <li>tasks of several threads (a JVM cannot end a thread blocked in a lock when its task dies);
 * <li>reads of robust words (glibc's busy trylock leaves {@code WAITERS} unset, and its
 *     not-recoverable word is 0), writes, and {@code consistent} by a thread that may not own the
 *     word (only right after its own untimed lock);
 * <li>trylocks of robust words across kernels (a trylock elsewhere does not take a dead owner's
 *     futex from its woken heir, a known difference) and deaths holding more than one word
 *     (the rarer heir orders of the same section);
 * <li>on more than one CPU, a step right after a critical section's unlocks (a sleep comes
 *     first): the woken waiter runs at once on the other CPU, and which acts first is timing;
 * <li>a priority step of a thread that starts later than the stepping thread, or one below the
 *     thread's priority in the file (linux mode's lateness judge goes by that priority, and took
 *     a lowered thread that was held back for a disturbed run); a priority step is followed by a
 *     sleep, since linux mode's sampler misses a priority held for microseconds;
 * <li>Mach IPC steps, and priority 1 (the sampler's).
 * </ul>
 */
public final class FuzzScenario {
    /** Which kernels a file may have. */
    public enum Kernels { ONE, TWO, ANY }

    private static final long MS = 1_000_000L;

    private record Thread(String name, int kernel, int priority, long start, List<Op> program) {}

    /** One step; times in nanoseconds, -1 when absent. */
    private record Op(String kind, String arg, long nanos, long timeout, String of) {
        static Op of(String kind, String arg) {
            return new Op(kind, arg, -1, -1, null);
        }
    }

    private final long seed;
    private final int attempt;
    private final int kernels;
    private final int cpus;
    private final int words;
    private final boolean[] robust;
    private final List<Thread> threads = new ArrayList<>();

    private FuzzScenario(long seed, int attempt, Kernels which) {
        this.seed = seed;
        this.attempt = attempt;
        Random r = new Random(seed * 1_000_003L + attempt);
        boolean two = switch (which) {
            case ONE -> false;
            case TWO -> true;
            case ANY -> r.nextBoolean();
        };
        kernels = two ? 2 : 1;
        cpus = two ? 1 : 1 + r.nextInt(2);
        words = 1 + r.nextInt(4);
        robust = new boolean[words];
        for (int w = 0; w < words; w++) {
            robust[w] = r.nextInt(10) < 4;
        }
        int n = 2 + r.nextInt(4);
        List<Integer> slots = new ArrayList<>();
        for (int i = 0; i < n + 2; i++) {
            slots.add(i);
        }
        java.util.Collections.shuffle(slots, r);
        slots = new ArrayList<>(slots.subList(0, n));
        slots.sort(null);
        slots.set(0, 0);
        for (int i = 0; i < n; i++) {
            String name = "T" + (i + 1);
            int k = kernels == 1 ? 0 : r.nextInt(2);
            threads.add(new Thread(name, k, 10 * (1 + r.nextInt(9)), (slots.get(i) + 1) * 10 * MS, new ArrayList<>()));
        }
        for (Thread t : threads) {
            program(t, r);
        }
        warmUp();
    }

    /**
     * A thread of priority 95 per kernel at 0 ms that locks and unlocks each word once on the kernel
     * of the word's first user, before any other thread starts (at 10 ms and later): the futex is
     * then in that kernel, as the word's page is in Linux's memory. Without it the first lock of a
     * word waits for the pager's grant and gives up its CPU to a lower thread there (a difference
     * on purpose, docs/linux-mode.md), which fuzzing found at once.
     */
    private void warmUp() {
        List<List<Op>> warm = new ArrayList<>();
        for (int k = 0; k < kernels; k++) {
            warm.add(new ArrayList<>());
        }
        for (int w = 0; w < words; w++) {
            for (Thread t : threads) {
                String name = word(w);
                if (t.program().stream().anyMatch(o -> name.equals(o.arg()))) {
                    warm.get(t.kernel()).add(Op.of("lock", name));
                    warm.get(t.kernel()).add(Op.of("unlock", name));
                    break;
                }
            }
        }
        for (int k = kernels - 1; k >= 0; k--) {
            if (!warm.get(k).isEmpty()) {
                threads.add(0, new Thread("W" + (char) ('A' + k), k, 95, 0, warm.get(k)));
            }
        }
    }

    /** The scenario of {@code seed}, the {@code attempt}-th draw (0 first). */
    public static FuzzScenario draw(long seed, int attempt, Kernels which) {
        return new FuzzScenario(seed, attempt, which);
    }

    private int totalCpus() {
        return kernels * cpus;
    }

    private void program(Thread t, Random r) {
        List<Op> p = t.program();
        int blocks = 1 + r.nextInt(3);
        for (int b = 0; b < blocks; b++) {
            int kind = r.nextInt(100);
            if (kind < 25) {
                p.add(r.nextBoolean() ? new Op("compute", null, ms(2 + r.nextInt(19)), -1, null)
                        : new Op("sleep", null, ms(5 + r.nextInt(36)), -1, null));
            } else if (kind < 35) {
                // of a thread started no later (the warm-up threads come later): set before its
                // start, linux mode would judge its start late by the scenario's priority
                List<Thread> started = threads.stream().filter(x -> x.start() <= t.start()).toList();
                Thread other = started.get(r.nextInt(started.size()));
                // never below the thread's priority in the file: linux mode judges a late step by
                // that priority (LinuxLateness), so a lowered thread held back looked disturbed
                int prio = Math.max(other.priority(), 10 * (1 + r.nextInt(9)));
                p.add(new Op("priority", Integer.toString(prio), -1, -1, other == t ? null : other.name()));
                // a priority held for less than the sampler's 250 us (two changes in a row) is missed
                p.add(new Op("sleep", null, ms(10 + r.nextInt(11)), -1, null));
            } else if (kind < 40) {
                int w = r.nextInt(words);
                p.add(Op.of("unlock", word(w))); // not held here: EPERM
            } else if (criticalSection(t, r)) {
                return; // it died or exited holding a word
            }
        }
    }

    /** A critical section; true if the thread ends in it (holding one robust word). */
    private boolean criticalSection(Thread t, Random r) {
        List<Op> p = t.program();
        int k = Math.min(words, 1 + (r.nextInt(10) < 5 ? 0 : r.nextInt(10) < 6 ? 1 : 2));
        List<Integer> chosen = new ArrayList<>();
        for (int w = 0; w < words; w++) {
            chosen.add(w);
        }
        java.util.Collections.shuffle(chosen, r);
        chosen = new ArrayList<>(chosen.subList(0, k));
        chosen.sort(null);
        for (int i = 0; i < k; i++) {
            int w = chosen.get(i);
            String name = word(w);
            int how = r.nextInt(100);
            boolean tryOk = !(robust[w] && kernels == 2);
            if (how < 60 || (!tryOk && how >= 80 && how < 95)) {
                p.add(Op.of("lock", name));
                if (robust[w] && r.nextInt(10) < 8) {
                    p.add(Op.of("consistent", name));
                }
            } else if (how < 80) {
                p.add(new Op("lock", name, -1, ms(10 + 5 * r.nextInt(9)), null));
            } else if (how < 95) {
                p.add(Op.of("trylock", name));
            } else {
                p.add(new Op("lock", name, -1, 0, null));
            }
            if (r.nextInt(100) < 4) {
                p.add(Op.of("lock", name)); // held already (or not: then it waits)
            }
            if (!robust[w] && r.nextInt(100) < 25) {
                p.add(Op.of("read", name));
            }
            if (i < k - 1 || r.nextInt(10) < 7) {
                hold(p, r);
            }
        }
        boolean ends = r.nextInt(100) < 15 && robust[chosen.get(0)];
        int keep = ends ? 1 : 0;
        List<Integer> order = new ArrayList<>(chosen);
        if (r.nextInt(10) < 8) {
            java.util.Collections.reverse(order);
        }
        for (int w : order) {
            if (ends && w == chosen.get(0)) {
                continue;
            }
            p.add(Op.of("unlock", word(w)));
        }
        if (ends) {
            if (keep == 1 && r.nextInt(10) < 7) {
                hold(p, r);
            }
            p.add(Op.of(r.nextBoolean() ? "die" : "exit", null));
        } else if (totalCpus() > 1) {
            // the waiter an unlock woke runs at once on another CPU, microseconds from this
            // thread's next step: which comes first is Linux's timing, not semantics
            p.add(new Op("sleep", null, ms(10 + r.nextInt(11)), -1, null));
        }
        return ends;
    }

    /** What a holder does: sleep, or compute where no waiter can be on another CPU. */
    private void hold(List<Op> p, Random r) {
        if (totalCpus() == 1 && r.nextBoolean()) {
            p.add(new Op("compute", null, ms(2 + r.nextInt(29)), -1, null));
        } else {
            p.add(new Op("sleep", null, ms(5 + r.nextInt(36)), -1, null));
        }
    }

    private static long ms(long n) {
        return n * MS;
    }

    private static String word(int w) {
        return String.valueOf((char) ('a' + w));
    }

    /** The file as drawn. */
    public String yaml() {
        return yaml(LongUnaryOperator.identity(), -1);
    }

    /**
     * The file with each start, compute, sleep and positive timeout passed through {@code move}
     * (nanoseconds in and out), and with the sim's XP latency {@code latencyNanos} (-1: the
     * default). {@code move} is called once per such value, in the file's order (threads, then each
     * thread's start and steps), so a caller can move one value alone by counting the calls
     * ({@link FuzzStability}'s margin).
     */
    public String yaml(LongUnaryOperator move, long latencyNanos) {
        StringBuilder y = new StringBuilder();
        y.append("name: linux-fuzz seed ").append(seed).append('\n');
        y.append("description: |\n  Drawn by machxp linux-fuzz (seed ").append(seed).append(", draw ").append(attempt)
                .append("); compared with Linux by machxp run --compare linux (docs/linux-mode.md).\n");
        if (latencyNanos >= 0) {
            y.append("network: {latency: ").append(latencyNanos / 1000).append("us}\n");
        }
        y.append("limit: 5s\n");
        y.append("kernels: [");
        for (int k = 0; k < kernels; k++) {
            y.append(k > 0 ? ", " : "").append("{name: ").append((char) ('A' + k)).append(", cpus: ").append(cpus)
                    .append('}');
        }
        y.append("]\nwords:\n");
        for (int w = 0; w < words; w++) {
            y.append("  ").append(word(w)).append(": {object: shared, offset: ").append(4096 * w).append("}\n");
        }
        y.append("threads:\n");
        for (Thread t : threads) {
            y.append("  - {name: ").append(t.name()).append(", kernel: ").append((char) ('A' + t.kernel()))
                    .append(", priority: ").append(t.priority());
            long start = t.start() == 0 ? 0 : Math.max(MS, move.applyAsLong(t.start()));
            if (start > 0) {
                y.append(", start: ").append(dur(start));
            }
            y.append(", program: [");
            for (int i = 0; i < t.program().size(); i++) {
                y.append(i > 0 ? ", " : "").append(step(t.program().get(i), move));
            }
            y.append("]}\n");
        }
        return y.toString();
    }

    private static String step(Op o, LongUnaryOperator move) {
        return switch (o.kind()) {
            case "die", "exit" -> o.kind();
            case "compute", "sleep" -> "{" + o.kind() + ": " + dur(Math.max(MS, move.applyAsLong(o.nanos()))) + "}";
            case "priority" -> "{priority: " + o.arg() + (o.of() != null ? ", of: " + o.of() : "") + "}";
            case "lock" -> o.timeout() < 0 ? "{lock: " + o.arg() + "}"
                    : "{lock: " + o.arg() + ", timeout: "
                            + (o.timeout() == 0 ? "0" : dur(Math.max(5 * MS, move.applyAsLong(o.timeout())))) + "}";
            default -> "{" + o.kind() + ": " + o.arg() + "}";
        };
    }

    private static String dur(long nanos) {
        return nanos % MS == 0 ? nanos / MS + "ms" : nanos / 1000 + "us";
    }
}
