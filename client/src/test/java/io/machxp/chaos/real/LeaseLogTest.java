package io.machxp.chaos.real;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.chaos.History;
import io.machxp.chaos.History.Kind;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;
import org.junit.jupiter.api.Test;

/** {@link LeaseLog} on written log lines: stamps across midnight, which declarations count, the merge. */
class LeaseLogTest {
    private static final long T0 = ZonedDateTime.of(2026, 12, 7, 23, 59, 59, 0, ZoneOffset.UTC).toInstant().toEpochMilli();
    private static final ToLongFunction<LocalTime> CLOCK = LeaseLog.clock(T0, ZoneOffset.UTC);

    @Test
    void aStampAfterMidnightIsTheNextDay() {
        assertThat(CLOCK.applyAsLong(LocalTime.parse("00:00:01.500"))).isEqualTo(2_500_000_000L);
        assertThat(CLOCK.applyAsLong(LocalTime.parse("23:59:58.000"))).isEqualTo(-1_000_000_000L);
    }

    @Test
    void aSinglePagersDeclarationsCountOncePerSessionOfTheKernel() {
        List<String> pager = List.of(
                "00:00:05.000 WARN  [x] PagerCore - pager pager: declared kernel A dead: the pager heard nothing",
                "00:00:05.100 WARN  [x] PagerCore - pager pager: declared kernel A dead: the pager heard nothing",
                "00:00:09.000 WARN  [x] PagerCore - pager pager: declared kernel A dead: the pager heard nothing");
        List<String> kernel = List.of(
                "23:59:59.500 INFO  [k] KernelCore - kernel A: session open, kernel id 1, page size 4096",
                "00:00:01.000 WARN  [k] KernelCore - kernel A: its lease ran out: the pager answered no keepalive for"
                        + " 2401 ms (lease 3000 ms, the kernel stops 600 ms early); it stops handing out what it holds"
                        + " before the pager gives it to others",
                "not a stamped line: kernel A: session open",
                "00:00:07.000 INFO  [k] KernelCore - kernel A: session open, kernel id 1, page size 4096");
        List<LeaseLog.Event> events = LeaseLog.events(Map.of("pager", pager), Map.of("A", kernel), CLOCK);
        assertThat(events).extracting(e -> e.time() / 1_000_000 + " " + e.kind() + " " + e.thread()).containsExactly(
                "500 KERNEL A", "2000 KERNEL A", "6000 DECLARED A", "8000 KERNEL A", "10000 DECLARED A");
        History base = new History();
        base.add(6_000_000_000L, Kind.ACQUIRE, "B/1", 0, 7, true, "");
        History merged = LeaseLog.merged(base, events);
        assertThat(merged.entries()).extracting(e -> e.kind()).containsExactly(Kind.KERNEL, Kind.KERNEL,
                Kind.DECLARED, Kind.ACQUIRE, Kind.KERNEL, Kind.DECLARED);
        assertThat(merged.entries().get(1).detail()).startsWith(History.STOPPED);
    }

    private static final String DECLARATION = "00:00:05.123 WARN  [x] PagerCore - pager pager: declared kernel A dead: "
            + "the pager heard nothing from it for 3009 ms (lease 3000 ms); its 1 futexes went on with OWNER_DIED";
    private static final String OPENED = "23:59:59.500 INFO  [k] KernelCore - kernel A: session open, kernel id 1, page size 4096";

    /** The violations of a history where B/1 acquires with EOWNERDEAD after the declaration, with {@code kernel}'s lines. */
    private static List<String> violationsWith(List<String> kernel) {
        List<LeaseLog.Event> events = LeaseLog.events(Map.of("pager", List.of(DECLARATION)), Map.of("A", kernel), CLOCK);
        History base = new History();
        base.add(1_000_000_000L, Kind.ACQUIRE, "A/1", 0, 5, false, "");
        base.add(6_500_000_000L, Kind.ACQUIRE, "B/1", 0, 6, true, "");
        return io.machxp.chaos.HistoryChecker.check(LeaseLog.merged(base, events)).violations();
    }

    /** rv60 MED-2: the session end the declaration caused, logged in its millisecond, is no stop before it. */
    @Test
    void aSessionTheDeclarationEndedIsNoStop() {
        List<String> kernel = List.of(OPENED, "00:00:05.124 WARN  [k] Kernel - kernel A: its session with the pager is "
                + "over (pager-lost: ETIMEDOUT: pager pager declared kernel A dead: the pager heard nothing); it opens a new one");
        assertThat(LeaseLog.events(Map.of(), Map.of("A", kernel), CLOCK)).extracting(LeaseLog.Event::detail)
                .containsExactly(History.SESSION_OPEN + " (its log)");
        assertThat(violationsWith(List.of(OPENED, kernel.get(1).replace("05.124", "05.123")))).singleElement().asString()
                .contains("the pager declared kernel A dead, but the kernel had not stopped");
    }

    /** rv60 MED-2: a stop in the declaration's millisecond is not strictly before it: the declaration is caught. */
    @Test
    void aDeclarationComesBeforeTheKernelLinesOfItsMillisecond() {
        String leaseLost = "00:00:05.123 WARN  [k] KernelCore - kernel A: its lease ran out: the pager answered no "
                + "keepalive for 2401 ms (lease 3000 ms, the kernel stops 600 ms early); it stops handing out what it holds";
        assertThat(LeaseLog.events(Map.of("pager", List.of(DECLARATION)), Map.of("A", List.of(OPENED, leaseLost)), CLOCK))
                .extracting(e -> e.kind() + " " + e.detail().split(" \\(")[0])
                .containsExactly("KERNEL " + History.SESSION_OPEN, "DECLARED the pager declared it dead", "KERNEL " + History.STOPPED);
        assertThat(violationsWith(List.of(OPENED, leaseLost))).singleElement().asString()
                .contains("the pager declared kernel A dead, but the kernel had not stopped");
        assertThat(violationsWith(List.of(OPENED, leaseLost.replace("05.123", "05.122")))).isEmpty();
    }

    /** A session that ended for a reason of the kernel's own (its pager unreachable) is a stop. */
    @Test
    void aSessionEndedForAnotherReasonIsAStop() {
        List<String> kernel = List.of(OPENED, "00:00:03.000 WARN  [k] Kernel - kernel A: its session with the pager is "
                + "over (pager-lost: UNAVAILABLE: io exception); it opens a new one");
        assertThat(violationsWith(kernel)).isEmpty();
    }
}
