package io.machxp.bench.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The JIT compilers' CPU time, which the bench tells apart from the servers' own. */
class CompilerCpuTest {

    @Test
    void readsTheCompilerThreadsOnLinuxAndSaysNothingElsewhere() {
        long first = CompilerCpu.nanos();
        if (!Files.isDirectory(Path.of("/proc/self/task"))) {
            assertEquals(-1, first);
            return;
        }
        assertTrue(first >= 0, "a JVM on Linux has compiler threads to read: " + first);
        assertEquals(0, first % 10_000_000L, "counted in clock ticks of 10 ms");
    }
}
