package io.machxp.scenario;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Time spans ({@code long[] {from, to}}, nanoseconds from a run's origin, {@code to} excluded) and
 * the set operations the judgement of a linux-mode run needs ({@link LinuxLateness}): a union of
 * spans is kept merged (sorted, disjoint, none empty).
 */
final class LinuxSpans {
    /** Later than any time of a run: a span open at its end. */
    static final long OPEN = Long.MAX_VALUE / 4;

    private LinuxSpans() {}

    /** The union of {@code spans}, merged. */
    static List<long[]> merge(List<long[]> spans) {
        List<long[]> sorted = new ArrayList<>();
        for (long[] s : spans) {
            if (s[1] > s[0]) {
                sorted.add(s);
            }
        }
        sorted.sort(Comparator.comparingLong((long[] s) -> s[0]));
        List<long[]> out = new ArrayList<>();
        for (long[] s : sorted) {
            long[] last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && s[0] <= last[1]) {
                last[1] = Math.max(last[1], s[1]);
            } else {
                out.add(new long[] {s[0], s[1]});
            }
        }
        return out;
    }

    /** The parts of the merged {@code a} inside the merged {@code b}, merged. */
    static List<long[]> intersect(List<long[]> a, List<long[]> b) {
        List<long[]> out = new ArrayList<>();
        int j = 0;
        for (long[] x : a) {
            while (j < b.size() && b.get(j)[1] <= x[0]) {
                j++;
            }
            for (int k = j; k < b.size() && b.get(k)[0] < x[1]; k++) {
                long from = Math.max(x[0], b.get(k)[0]);
                long to = Math.min(x[1], b.get(k)[1]);
                if (to > from) {
                    out.add(new long[] {from, to});
                }
            }
        }
        return merge(out);
    }

    /** The parts of the merged {@code a} inside [from, to). */
    static List<long[]> clip(List<long[]> a, long from, long to) {
        return intersect(a, List.of(new long[] {from, to}));
    }

    /** The total length of the merged {@code a}. */
    static long length(List<long[]> a) {
        long total = 0;
        for (long[] s : a) {
            total += s[1] - s[0];
        }
        return total;
    }

    /**
     * When something that began at {@code from} and needs {@code need} of time outside the merged
     * {@code taken} (a compute of {@code need} CPU time on a CPU that {@code taken} may have held)
     * has had it.
     */
    static long after(long from, long need, List<long[]> taken) {
        long t = from;
        long left = need;
        for (long[] s : taken) {
            if (s[1] <= t) {
                continue;
            }
            if (s[0] > t) {
                if (s[0] - t >= left) {
                    return t + left;
                }
                left -= s[0] - t;
            }
            t = s[1];
        }
        return Math.min(t + left, OPEN);
    }
}
