package io.machxp.bench.pagerload;

import io.machxp.cli.Machxp;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code machxp pager} as a child process of this Java and class path, so that its CPU time is
 * its own: {@link #counters} reads it, and more, from /proc (Linux).
 */
final class PagerProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on ([^ ]+:\\d+)");

    private final Process process;
    private final CompletableFuture<String> target = new CompletableFuture<>();
    private final List<String> output = new ArrayList<>();

    private PagerProcess(Process process) {
        this.process = process;
        Thread reader = new Thread(this::readOutput, "pager process output");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts a pager serving {@code object} of {@code bytes}, with {@code jvmArgs} (e.g. JFR) before
     * the class, and {@code prefix} before the java command (e.g. taskset, to pin it to CPUs).
     */
    static PagerProcess start(String object, long bytes, long leaseMillis, List<String> jvmArgs, List<String> prefix)
            throws IOException {
        List<String> command = new ArrayList<>(prefix);
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

    /** Its CPU time per thread, blocking waits and system calls so far (see {@link ProcCounters}). */
    ProcCounters counters() throws IOException {
        return ProcCounters.read(process.pid());
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
