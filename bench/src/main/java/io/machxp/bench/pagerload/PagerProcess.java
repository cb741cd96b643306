package io.machxp.bench.pagerload;

import io.machxp.cli.Machxp;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code machxp pager} as a child process of this Java and class path, so that its CPU time is
 * its own: {@link #cpuNanos} reads utime + stime from /proc/PID/stat (Linux).
 */
final class PagerProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on ([^ ]+:\\d+)");
    /** USER_HZ: the unit of /proc/PID/stat's times; 100 on every Linux the JVM runs on. */
    private static final long TICKS_PER_SECOND = 100;

    private final Process process;
    private final CompletableFuture<String> target = new CompletableFuture<>();
    private final List<String> output = new ArrayList<>();

    private PagerProcess(Process process) {
        this.process = process;
        Thread reader = new Thread(this::readOutput, "pager process output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts a pager serving {@code object} of {@code bytes}, with {@code jvmArgs} (e.g. JFR) before the class. */
    static PagerProcess start(String object, long bytes, long leaseMillis, List<String> jvmArgs) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Machxp.class.getName(), "pager",
                "--port", "0", "--object", object + "=" + bytes, "--lease-ms", Long.toString(leaseMillis),
                "--fresh-start",
                "--parent-pid", Long.toString(ProcessHandle.current().pid())));
        return new PagerProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /** host:port of its XP (and admin) service, once it has said it listens. */
    String target(long timeoutSeconds) throws Exception {
        try {
            return target.get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("the pager process did not listen within " + timeoutSeconds
                    + " s; its output: " + output(), e);
        }
    }

    long pid() {
        return process.pid();
    }

    /** CPU time the process has used so far, user and system, all its threads. */
    long cpuNanos() throws IOException {
        return cpuNanos(Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat")));
    }

    /**
     * CPU time so far of each live thread, by its name as Linux keeps it (15 characters, e.g.
     * "pager-pager-1-1" for the core thread, "C2 CompilerThre", "GC Thread#0"), threads of one
     * name summed.
     */
    java.util.Map<String, Long> threadCpuNanos() throws IOException {
        java.util.Map<String, Long> byName = new java.util.TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc", Long.toString(process.pid()), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    byName.merge(name, cpuNanos(stat), Long::sum);
                } catch (java.nio.file.NoSuchFileException ended) {
                    // the thread ended meanwhile
                }
            }
        }
        return byName;
    }

    private static long cpuNanos(String stat) {
        // Fields after the command name, which is in parentheses and may hold spaces.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime (14th), stime (15th)
        return ticks * (1_000_000_000L / TICKS_PER_SECOND);
    }

    /** What it printed (its first 200 lines), for an error message. */
    synchronized String output() {
        return String.join("\n", output);
    }

    private void readOutput() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                synchronized (this) {
                    if (output.size() < 200) {
                        output.add(line);
                    }
                }
                Matcher m = LISTENING.matcher(line);
                if (!target.isDone() && m.find()) {
                    target.complete(m.group(1));
                }
            }
        } catch (IOException e) {
            target.completeExceptionally(e);
        }
        target.completeExceptionally(new IllegalStateException("the pager process ended: " + output()));
    }

    /** Stops it as SIGTERM does (a JFR recording is dumped then), waiting for it to end. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
