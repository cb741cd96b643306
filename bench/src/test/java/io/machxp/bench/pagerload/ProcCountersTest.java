package io.machxp.bench.pagerload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

class ProcCountersTest {
    /** A task's stat line as Linux writes it; the name holds a space and a parenthesis. */
    private static final String STAT = "4242 (C2 Compiler) x) S 1 4242 4242 0 -1 4194624 2360 0 0 0 "
            + "731 52 0 0 20 0 31 0 1234 5000000 3000 18446744073709551615 1 1 0 0 0 0 0 4096 17102 0 0 0 17 1 0 0 0 0 0";
    private static final String STATUS = "Name:\tC2 Compiler\nState:\tS (sleeping)\n"
            + "voluntary_ctxt_switches:\t981\nnonvoluntary_ctxt_switches:\t17\n";

    @Test
    void aThreadsTimesAndWaitsAreReadFromItsStatAndStatus() {
        ProcCounters.Thread t = ProcCounters.thread(STAT, STATUS);

        assertThat(ProcCounters.threadName(STAT)).isEqualTo("C2 Compiler) x");
        assertThat(t.userNanos()).isEqualTo(7_310_000_000L); // 731 ticks of 10 ms
        assertThat(t.systemNanos()).isEqualTo(520_000_000L);
        assertThat(t.waits()).isEqualTo(981); // voluntary only: a preempted thread did not wait
        assertThat(t.cpuNanos()).isEqualTo(7_830_000_000L);
        assertThat(t.pageFaults()).isEqualTo(2360); // minflt, the field before cminflt
    }

    @Test
    void countersOverAWindowAreTheDifference() {
        ProcCounters.Thread before = new ProcCounters.Thread(10, 20, 3, 100);
        ProcCounters.Thread after = new ProcCounters.Thread(15, 29, 10, 140);

        assertThat(after.minus(before)).isEqualTo(new ProcCounters.Thread(5, 9, 7, 40));
        assertThat(new ProcCounters(Map.of("a", before, "b", after), 0, 0).total())
                .isEqualTo(new ProcCounters.Thread(25, 49, 13, 240));
    }

    @Test
    void aMissingFieldIsAClearError() {
        assertThat(ProcCounters.field("rchar: 5\nsyscr: 17\nsyscw: 4\n", "syscw")).isEqualTo(4);
        assertThatThrownBy(() -> ProcCounters.field("rchar: 5\n", "syscr"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no syscr");
    }

    /**
     * A thread that ends between the listing of /proc/PID/task and the read of its stat: Linux
     * answers ESRCH while it exits (seen once in a clean-clone `mvn -B verify`), ENOENT after.
     * Either is a thread that ended, not a failure; another error on a thread still there is.
     */
    @Test
    void aThreadThatEndedWhileItWasReadIsSkippedAndOtherErrorsAreNot(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path dir) {
        java.nio.file.Path gone = dir.resolve("4242");
        assertThat(ProcCounters.endedMeanwhile(dir, new java.io.IOException("No such process"))).isTrue();
        assertThat(ProcCounters.endedMeanwhile(gone, new java.nio.file.NoSuchFileException(gone.toString())))
                .isTrue();
        assertThat(ProcCounters.endedMeanwhile(gone, new java.io.IOException("Input/output error"))).isTrue();
        assertThat(ProcCounters.endedMeanwhile(dir, new java.io.IOException("Input/output error"))).isFalse();
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void thisProcessHasCountersAndItsReadsAreCounted() throws Exception {
        ProcCounters before = ProcCounters.read(ProcessHandle.current().pid());
        java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/stat"));
        ProcCounters after = ProcCounters.read(ProcessHandle.current().pid());

        assertThat(after.threads()).containsKey(ProcCounters.threadName(
                java.nio.file.Files.readString(java.nio.file.Path.of("/proc/thread-self/stat"))));
        assertThat(after.readCalls()).isGreaterThan(before.readCalls());
        assertThat(after.total().cpuNanos()).isGreaterThanOrEqualTo(before.total().cpuNanos());
    }
}
