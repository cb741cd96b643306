package io.machxp.chaos.real;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A pager or kernel of a real chaos run: {@code java -cp <machxp's class path>
 * io.machxp.chaos.real.StallProbe PROBE-FILE ARGS} (the harness's {@link StallProbe}, then
 * {@code machxp ARGS} in the same JVM) in a network namespace ({@code ip netns exec} execs the JVM, so the process's id is the
 * JVM's and the signals below reach it). Its output goes to a log file of the run; {@link #listening}
 * completes when it says it listens.
 *
 * <p>States: RUNNING -pause-> STOPPED -resume-> RUNNING; either -kill-> DEAD (SIGKILL).
 */
final class NodeProcess {
    private final String name;
    private final Process process;
    private final CompletableFuture<Void> listening = new CompletableFuture<>();

    private final java.util.function.Consumer<String> lines;

    private NodeProcess(String name, Process process, Path log, java.util.function.Consumer<String> lines)
            throws IOException {
        this.name = name;
        this.process = process;
        this.lines = lines;
        PrintWriter out = new PrintWriter(Files.newBufferedWriter(log, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND), true);
        Thread reader = new Thread(() -> copy(out), "output of " + name);
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code machxp ARGS} in namespace {@code ns}, probed into {@code probe}, logging to
     * {@code log} (appended); each line of its output is also given to {@code lines}.
     */
    static NodeProcess start(String name, String ns, List<String> args, Path probe, Path log,
            java.util.function.Consumer<String> lines) throws IOException {
        List<String> java = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
                "-cp", System.getProperty("java.class.path"), StallProbe.class.getName(), probe.toString()));
        java.addAll(args);
        Process p = new ProcessBuilder(Netns.inNamespace(ns, java)).redirectErrorStream(true).start();
        return new NodeProcess(name, p, log, lines);
    }

    private void copy(PrintWriter out) {
        try (out; BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                out.println(line);
                lines.accept(line);
                if (line.contains(" listening on ")) {
                    listening.complete(null);
                }
            }
        } catch (IOException e) {
            // the process is gone
        }
        listening.completeExceptionally(new IllegalStateException(name + " ended before it listened"));
    }

    /** Waits until it listens; false if it ended first or did not within {@code seconds}. */
    boolean awaitListening(long seconds) {
        try {
            listening.get(seconds, TimeUnit.SECONDS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            return false;
        }
    }

    String name() {
        return name;
    }

    boolean alive() {
        return process.isAlive();
    }

    /** SIGSTOP: every thread stops where it is, sockets stay open. */
    void pause() throws IOException {
        signal("STOP");
    }

    /** SIGCONT. */
    void resume() throws IOException {
        signal("CONT");
    }

    /** SIGKILL, and waits until it is gone (at most 30 s). */
    void kill() {
        killNow();
        awaitEnd(TimeUnit.SECONDS.toNanos(30));
    }

    /** SIGKILL, without waiting. */
    void killNow() {
        process.destroyForcibly();
    }

    /** Whether it ended within {@code nanos}. */
    boolean awaitEnd(long nanos) {
        try {
            return process.waitFor(nanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void signal(String signal) throws IOException {
        Process p = new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid())).start();
        try {
            if (p.waitFor() != 0) {
                throw new IOException("kill -" + signal + " " + process.pid() + " (" + name + ") failed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
