package io.machxp.chaos.real;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.chaos.History;
import io.machxp.chaos.History.Kind;
import io.machxp.chaos.HistoryChecker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The checker on a recorded real run (chaos-real/eod-load60: three replicas at load ~60, a leader
 * kill, replica a down for 65 s) that reported three "acquired fN with EOWNERDEAD, but no owner
 * died": each kernel lost its lease by its own log while the two-replica group had no leader or
 * committed slowly, and the pager declared it dead afterwards (after the new leaders' lease
 * extensions) and passed what it held on with OWNER_DIED. With the logs' declarations and stops
 * in the history the run passes; a declaration of a kernel whose log shows it running is caught.
 */
class LeaseLogRecordedRunTest {
    private static final long LEASE = 3_000_000_000L;
    private static final String RUN = "/chaos-real/eod-load60/";
    /** The wall clock at the history's time 0 (from the replicas' two logged GC pauses, see the run's README). */
    private static final long T0 = ZonedDateTime.of(2026, 12, 7, 21, 41, 54, 770_000_000, ZoneOffset.UTC)
            .toInstant().toEpochMilli();

    private static List<String> lines(String name) {
        try (InputStream in = LeaseLogRecordedRunTest.class.getResourceAsStream(RUN + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<LeaseLog.Event> events(UnaryOperator<List<String>> kernelA) {
        Map<String, List<String>> pagers = new LinkedHashMap<>();
        for (String r : List.of("a", "b", "c")) {
            pagers.put(r, lines("pager-" + r + ".log"));
        }
        Map<String, List<String>> kernels = new LinkedHashMap<>();
        for (String k : List.of("A", "B", "C")) {
            kernels.put(k, k.equals("A") ? kernelA.apply(lines("kernel-A.log")) : lines("kernel-" + k + ".log"));
        }
        return LeaseLog.events(pagers, kernels, LeaseLog.clock(T0, ZoneOffset.UTC));
    }

    private static History recorded() {
        return HistoryText.read(lines("history.txt"));
    }

    @Test
    void withoutTheLogsTheRunHasItsThreeViolations() {
        assertThat(HistoryChecker.check(recorded(), LEASE).violations()).hasSize(3)
                .allMatch(v -> v.contains("with EOWNERDEAD, but no owner died"));
    }

    @Test
    void eachDeclarationCountsOnceAsItsLeaderAppliedIt() {
        List<String> declared = events(UnaryOperator.identity()).stream().filter(e -> e.kind() == Kind.DECLARED)
                .map(e -> String.format("%.0f %s %s", e.time() / 1e9, e.thread(), e.detail())).toList();
        // 21:42:17.5 by b (term 12), 21:42:43.1 by b, 21:42:53.4 by c (term 15), 21:43:14.4 by b (term 22);
        // the followers' copies and replica a's replay after its restart (21:43:19.6) are left out
        assertThat(declared).containsExactly(
                "23 C the pager declared it dead (by pager b)",
                "23 B the pager declared it dead (by pager b)",
                "23 A the pager declared it dead (by pager b)",
                "48 C the pager declared it dead (by pager b)",
                "59 B the pager declared it dead (by pager c)",
                "59 A the pager declared it dead (by pager c)",
                "80 C the pager declared it dead (by pager b)",
                "80 A the pager declared it dead (by pager b)",
                "80 B the pager declared it dead (by pager b)");
    }

    @Test
    void withTheDeclarationsOfKernelsThatHadStoppedTheRunPasses() {
        History h = LeaseLog.merged(recorded(), events(UnaryOperator.identity()));
        assertThat(HistoryChecker.check(h, LEASE).violations()).isEmpty();
    }

    @Test
    void aDeclarationOfAKernelStillRunningIsCaught() {
        // planted: kernel A's log without its stops, as if the pager had declared a running kernel dead
        History h = LeaseLog.merged(recorded(), events(log -> log.stream()
                .filter(l -> !l.contains("it stops handing out") && !l.contains("session with the pager is over"))
                .toList()));
        assertThat(HistoryChecker.check(h, LEASE).violations()).isNotEmpty()
                .allMatch(v -> v.contains("the pager declared kernel A dead, but the kernel had not stopped"));
    }
}
