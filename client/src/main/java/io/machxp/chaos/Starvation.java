package io.machxp.chaos;

import io.machxp.chaos.History.Entry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * When a kernel may have lost its lease to stalls the harness did not inject but saw: its own
 * probe in each process ({@link History.Kind#STALL}) records every gap in which that process ran
 * none of its code (CPU starvation on a loaded host, a GC pause). Nothing here comes from what a
 * pager or kernel says.
 *
 * <p>The kernel's lease ends 0.8 L after the send of the last keepalive answered, and it sends one
 * every L/8: a round trip (the kernel sends, the pager answers, the kernel reads the answer) must
 * be held up for 0.8 L - L/8 = 0.675 L in all to cost the lease, and it is held up only while the
 * kernel or the pager does not run. So a kernel may have lost its lease at time t only if, in the
 * window (t - 0.8 L, t], its own stalls and the pager's together cover at least
 * {@link #thresholdNanos} = 0.55 L: the 0.675 L, less L/8 for delays the probes cannot see (gaps
 * shorter than their resolution, time in the network stack). An <em>episode</em> of a kernel runs
 * from the first such t (to 10 ms) to the last.
 *
 * <p>What an episode allows ({@link HistoryChecker}): from its start until {@link #allowanceNanos}
 * = 2 L after its end, any futex may be passed on with OWNER_DIED (the kernel may have held it, and
 * the pager declares it dead at most a lease after it last heard it, which is at most 0.8 L after
 * the episode), and an owner on that kernel may be fenced off by another kernel's acquisition
 * with OWNER_DIED. Outside episodes and injected faults, OWNER_DIED is still a violation; no
 * episode allows two owners, a fencing token that goes down, or older data without OWNER_DIED.
 */
public final class Starvation {
    /** The pager's process name in STALL entries: its stalls count for every kernel. */
    public static final String PAGER = "pager";
    private static final long STEP_NANOS = 10_000_000;

    /** Kernel {@code kernel} may have lost its lease from {@code start}; the episode's allowance ends at {@code until}. */
    public record Episode(String kernel, long start, long end, long until) {}

    private final long leaseNanos;

    public Starvation(long leaseNanos) {
        this.leaseNanos = leaseNanos;
    }

    /** The window in which stalls add up: 0.8 L, the span of one answered keepalive. */
    long windowNanos() {
        return leaseNanos * 4 / 5;
    }

    /** How much of the window stalls must cover for a kernel to lose its lease: 0.55 L. */
    long thresholdNanos() {
        return leaseNanos * 55 / 100;
    }

    /** How long after an episode's end OWNER_DIED it explains may come: 2 L. */
    long allowanceNanos() {
        return 2 * leaseNanos;
    }

    /**
     * The episodes of each kernel in {@code kernels}, from the history's STALL entries, in order of
     * start. A kernel's stalls count for it, the pager's for every kernel.
     */
    public List<Episode> episodes(List<Entry> entries, Collection<String> kernels) {
        List<long[]> pager = new ArrayList<>();
        List<Episode> out = new ArrayList<>();
        for (Entry e : entries) {
            if (e.kind() == History.Kind.STALL && e.thread().equals(PAGER)) {
                pager.add(new long[] {e.time(), e.time() + e.value()});
            }
        }
        for (String k : kernels) {
            List<long[]> own = new ArrayList<>(pager);
            for (Entry e : entries) {
                if (e.kind() == History.Kind.STALL && e.thread().equals(k)) {
                    own.add(new long[] {e.time(), e.time() + e.value()});
                }
            }
            out.addAll(episodes(k, own));
        }
        out.sort((a, b) -> Long.compare(a.start(), b.start()));
        return out;
    }

    /** Whether {@code kernel} is in one of {@code episodes}, or its allowance, at {@code time}. */
    static boolean starved(List<Episode> episodes, String kernel, long time) {
        return episodes.stream().anyMatch(ep -> ep.kernel().equals(kernel) && ep.start() <= time && time <= ep.until());
    }

    /**
     * Whether an episode of some kernel explains OWNER_DIED at {@code time} for a futex last
     * acquired at {@code lastAcquired}: the episode began by then, and the last acquisition was no
     * later than its allowance's end (the kernel may have been granted the futex after it).
     */
    static boolean explains(List<Episode> episodes, long time, long lastAcquired) {
        return episodes.stream().anyMatch(ep -> ep.start() <= time && lastAcquired <= ep.until());
    }

    /** The kernels a history names: in STALL entries other than the pager's, and in owners' names. */
    public static Set<String> kernels(List<Entry> entries) {
        Set<String> out = new TreeSet<>();
        for (Entry e : entries) {
            if (e.kind() == History.Kind.STALL && !e.thread().equals(PAGER)) {
                out.add(e.thread());
            } else if (e.kind() == History.Kind.ACQUIRE) {
                out.add(HistoryChecker.kernelOf(e.thread()));
            }
        }
        return out;
    }

    private List<Episode> episodes(String kernel, List<long[]> stalls) {
        List<Episode> out = new ArrayList<>();
        if (stalls.isEmpty()) {
            return out;
        }
        long[][] merged = union(stalls);
        long window = windowNanos();
        long from = merged[0][0];
        long to = merged[merged.length - 1][1] + window;
        long start = -1;
        long last = -1;
        // From one stall's start to a window past its end; between clusters nothing can add up.
        for (long t = from; t <= to; t += STEP_NANOS) {
            long covered = covered(merged, t - window, t);
            if (covered >= thresholdNanos()) {
                if (start < 0) {
                    start = t;
                }
                last = t;
            } else if (start >= 0) {
                out.add(new Episode(kernel, start, last, last + allowanceNanos()));
                start = -1;
            }
            if (covered == 0) {
                t = Math.max(t, next(merged, t) - STEP_NANOS);
            }
        }
        if (start >= 0) {
            out.add(new Episode(kernel, start, last, last + allowanceNanos()));
        }
        return out;
    }

    /** When the first interval not over at {@code t} begins (or {@code t}, if it has), or a time past every one. */
    private static long next(long[][] merged, long t) {
        for (long[] m : merged) {
            if (m[1] > t) {
                return Math.max(t, m[0]);
            }
        }
        return Long.MAX_VALUE / 2;
    }

    private static long[][] union(List<long[]> stalls) {
        List<long[]> sorted = new ArrayList<>(stalls);
        sorted.sort((a, b) -> Long.compare(a[0], b[0]));
        List<long[]> out = new ArrayList<>();
        for (long[] s : sorted) {
            long[] last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && s[0] <= last[1]) {
                last[1] = Math.max(last[1], s[1]);
            } else {
                out.add(new long[] {s[0], s[1]});
            }
        }
        return out.toArray(long[][]::new);
    }

    private static long covered(long[][] merged, long from, long to) {
        long sum = 0;
        for (long[] m : merged) {
            sum += Math.max(0, Math.min(to, m[1]) - Math.max(from, m[0]));
        }
        return sum;
    }
}
