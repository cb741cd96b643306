package io.machxp.chaos.real;

import io.machxp.chaos.Starvation;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The part of a real chaos run's report on stalls: per process, how many gaps its probe saw
 * (injected pauses left out), their total and the longest; then the starvation episodes they make
 * (where a kernel may have lost its lease to stalls the harness did not inject).
 */
final class StallReport {
    private StallReport() {}

    static void print(PrintWriter out, List<StallProbe.Stall> stalls, long missed, List<Starvation.Episode> episodes) {
        Map<String, long[]> by = new TreeMap<>();
        for (StallProbe.Stall s : stalls) {
            long[] a = by.computeIfAbsent(s.process(), p -> new long[3]);
            a[0]++;
            a[1] += s.nanos();
            a[2] = Math.max(a[2], s.nanos());
        }
        StringBuilder line = new StringBuilder();
        by.forEach((p, a) -> line.append(String.format(Locale.ROOT, "%s%s %d (%d ms, longest %d ms)", line.isEmpty() ? "" : "; ", p,
                a[0], a[1] / 1_000_000, a[2] / 1_000_000)));
        out.printf(Locale.ROOT, "  stalls not injected, seen by the harness's probes (gaps over %d ms): %s%s%n",
                StallProbe.RESOLUTION_NANOS / 1_000_000, by.isEmpty() ? "none" : line,
                missed > 0 ? "; " + missed + " gaps overwritten unread" : "");
        out.printf(Locale.ROOT, "  starvation episodes (a kernel's and the pager's stalls could cost its lease): %d%n",
                episodes.size());
        for (Starvation.Episode e : episodes) {
            out.printf(Locale.ROOT, "    kernel %s from %.1f s to %.1f s%n", e.kernel(), e.start() / 1e9, e.end() / 1e9);
        }
    }
}
