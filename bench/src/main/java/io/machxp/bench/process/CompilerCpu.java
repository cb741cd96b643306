package io.machxp.bench.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The CPU time this JVM's JIT compiler threads (HotSpot's "C1 CompilerThread"s and "C2
 * CompilerThread"s) have used, read from {@code /proc/self/task} (Linux; -1 elsewhere), in
 * nanoseconds at the kernel's clock-tick resolution (10 ms at the usual 100 Hz). The bench's
 * servers' JVM CPU per operation counts it, and on a loaded machine C2 still compiles well into
 * the measured window (35-44% of the servers' JVM CPU in the window at a load of 20-50, 2026-12-06:
 * docs/replicated-pager.md): a cost of the JVM's start, not of an operation. A compiler thread that
 * exits within the window (HotSpot adds and removes them as its queue grows) takes its CPU time
 * with it, so the figure is a lower bound.
 */
final class CompilerCpu {
    private static final Path TASKS = Path.of("/proc/self/task");
    /** The kernel's clock ticks per second (USER_HZ), which /proc counts in: 100 on every Linux we run. */
    private static final long TICKS_PER_SECOND = 100;

    private CompilerCpu() {
    }

    /** The compiler threads' CPU time so far, or -1 if this system does not say. */
    static long nanos() {
        if (!Files.isDirectory(TASKS)) {
            return -1;
        }
        long ticks = 0;
        try (Stream<Path> tasks = Files.list(TASKS)) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                ticks += compilerTicks(task);
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return ticks * (1_000_000_000L / TICKS_PER_SECOND);
    }

    private static long compilerTicks(Path task) {
        try {
            String comm = Files.readString(task.resolve("comm")).trim();
            if (!comm.startsWith("C1 CompilerThre") && !comm.startsWith("C2 CompilerThre")) {
                return 0;
            }
            String stat = Files.readString(task.resolve("stat"));
            // After the name in parentheses: state is field 3, utime 14 and stime 15.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return 0; // the thread ended meanwhile
        }
    }
}
