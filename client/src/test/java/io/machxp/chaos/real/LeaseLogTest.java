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
}
