package io.machxp.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.bench.workload.BenchOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Every system gets the same warm-up; the shared one runs no system's code and not with worker processes. */
class JvmWarmupTest {
    @Test
    void everyRunGetsTheSameWarmup() {
        JvmWarmup w = new JvmWarmup();
        Duration own = Duration.ofSeconds(15);
        for (int index = 0; index < 7; index++) {
            assertThat(w.of(index, own)).as("system %d", index).isEqualTo(own);
        }
    }

    @Test
    void workerProcessesStartColdForEverySystemSoNoSharedWarmup() {
        JvmWarmup w = new JvmWarmup();
        BenchOptions local = new BenchOptions(2, 1, 2, 0.9, Duration.ZERO, Duration.ZERO, 0.5, Duration.ZERO,
                Duration.ofSeconds(1), 1, BenchOptions.Api.LOCAL);
        BenchOptions processes = new BenchOptions(2, 1, 2, 0.9, Duration.ZERO, Duration.ZERO, 0.5, Duration.ZERO,
                Duration.ofSeconds(1), 1, BenchOptions.Api.PROCESS);
        assertThat(w.shared(local)).isEqualTo(Duration.ofSeconds(5));
        assertThat(w.shared(processes)).isZero();
    }
}
