package io.machxp.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A machxp server command (pager or kernel) run by {@code cluster up} as a child process of the
 * same Java and class path; its output goes to a log file, and {@link #address} waits for its
 * "listening on HOST:PORT" line.
 */
final class ChildProcess {
    private static final Pattern LISTENING = Pattern.compile("listening on ([^ ]+:\\d+)");

    final String name;
    final Process process;
    final Path log;
    private final CompletableFuture<String> address = new CompletableFuture<>();

    private ChildProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
        Thread reader = new Thread(this::copyOutput, "output of " + name);
        reader.setDaemon(true);
        reader.start();
    }

    static ChildProcess start(String name, Path log, List<String> args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Machxp.class.getName()));
        command.addAll(args);
        // It stops when this process ends, even by SIGKILL (which runs no shutdown hook here).
        command.addAll(List.of("--parent-pid", Long.toString(ProcessHandle.current().pid())));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        return new ChildProcess(name, p, log);
    }

    private void copyOutput() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
                PrintWriter out = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8), true)) {
            for (String line; (line = in.readLine()) != null; ) {
                out.println(line);
                Matcher m = LISTENING.matcher(line);
                if (!address.isDone() && m.find()) {
                    address.complete(m.group(1));
                }
            }
        } catch (IOException e) {
            // the process is gone, or the log cannot be written: address() reports it
        }
        address.completeExceptionally(new IllegalStateException(name + " exited before it listened; see " + log));
    }

    /** Its "host:port", once it says it listens; fails when it exits first or takes longer than {@code seconds}. */
    String address(long seconds) throws Exception {
        try {
            return address.get(seconds, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(lastLine().isEmpty() ? e.getCause().getMessage()
                    : name + " failed: " + lastLine() + " (log: " + log + ")");
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(name + " did not listen within " + seconds + " s; see " + log);
        }
    }

    private String lastLine() {
        try {
            List<String> lines = Files.readAllLines(log);
            return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
        } catch (IOException e) {
            return "";
        }
    }

    /** How long a stop waits for its processes before it SIGKILLs those left. */
    static final Duration STOP_BOUND = Duration.ofSeconds(15);

    /** SIGTERM, then waits for it (a kernel returns its dirty pages first); SIGKILL after 15 s. */
    void stop() {
        stop(STOP_BOUND);
    }

    /** SIGTERM, then waits for it; SIGKILL after {@code bound}. */
    void stop(Duration bound) {
        stopAll(List.of(process), bound);
    }

    /**
     * How long cluster up waits for its pager to close before it SIGKILLs it: the pager's own exit
     * bound ({@link PagerCommand#EXIT_BOUND}) and 5 s for its JVM to end.
     */
    static final Duration PAGER_STOP_BOUND = PagerCommand.EXIT_BOUND.plusSeconds(5);

    /**
     * SIGTERM to every one of {@code processes} at once, then waits for them all within one
     * {@code bound}, then SIGKILLs those left: a stop of N kernels takes at most the bound, not N
     * times it (each may wait for its pager's answers). Interrupted: the rest are SIGKILLed.
     */
    static void stopAll(List<Process> processes, Duration bound) {
        processes.forEach(Process::destroy);
        long deadline = System.nanoTime() + bound.toNanos();
        try {
            for (Process p : processes) {
                p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Process p : processes) {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
    }
}
