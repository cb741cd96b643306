package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cluster up}'s stop at exit signals its kernels all at once and waits for them within one
 * bound ({@link ChildProcess#stopAll}). Two shell processes stand for kernels: the first, on its
 * SIGTERM, ends only once the second has had its own SIGTERM (a file the second makes then). One
 * after the other (as before), the first waits out the whole bound and is SIGKILLed; at once, both
 * end by themselves.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ChildProcessStopTest {
    @TempDir
    Path dir;

    @Test
    void theProcessesAreSignalledAllAtOnce() throws Exception {
        Path mark = dir.resolve("second-got-sigterm");
        Process first = shell("trap 'while [ ! -f \"$M\" ]; do sleep 0.05; done; exit 0' TERM", mark);
        Process second = shell("trap 'touch \"$M\"; exit 0' TERM", mark);
        try {
            ChildProcess.stopAll(List.of(first, second), Duration.ofSeconds(40));
            assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(second.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(second.exitValue()).as("the second ended on its SIGTERM").isZero();
            assertThat(first.exitValue()).as("the first ended by itself, not SIGKILLed at the bound").isZero();
        } finally {
            first.destroyForcibly();
            second.destroyForcibly();
        }
    }

    /** A shell that installs {@code trap}, says "ready", then waits for signals; {@code $M} is {@code mark}. */
    private static Process shell(String trap, Path mark) throws IOException {
        ProcessBuilder b = new ProcessBuilder("sh", "-c", trap + "; echo ready; while :; do sleep 1 & wait $!; done");
        b.environment().put("M", mark.toString());
        b.redirectErrorStream(true);
        Process p = b.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).as("its trap is set").isEqualTo("ready");
        return p;
    }
}
