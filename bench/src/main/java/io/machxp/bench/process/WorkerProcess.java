package io.machxp.bench.process;

import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.WorkerStats;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The bench's handle on one {@link WorkerMain} process: the same Java and class path as the bench,
 * its stderr in a log file, its result read from its stdout.
 */
final class WorkerProcess {
    /**
     * A system property of the bench: more options for each worker's JVM, separated by spaces,
     * {@code {node}} replaced by the node (e.g. a flight recording per worker:
     * {@code -Dmachxp.bench.worker.jvm=-XX:StartFlightRecording=filename=/tmp/worker-{node}.jfr}).
     */
    static final String JVM_OPTIONS = "machxp.bench.worker.jvm";
    private final int node;
    private final Process process;
    private final Path log;
    private final CompletableFuture<WorkerStats> result = new CompletableFuture<>();

    private WorkerProcess(int node, Process process, Path log) {
        this.node = node;
        this.process = process;
        this.log = log;
        Thread reader = new Thread(this::readResult, "output of bench worker " + node);
        reader.setDaemon(true);
        reader.start();
    }

    static WorkerProcess start(int node, BenchOptions o, Path board, List<String> connection, Path logs)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.add("-Xmx512m");
        command.addAll(io.machxp.proto.shm.TaskClock.JVM_ARGS); // a task process: the coarse clock's lease check
        String extra = System.getProperty(JVM_OPTIONS, "").replace("{node}", Integer.toString(node)).trim();
        if (!extra.isEmpty()) {
            command.addAll(List.of(extra.split("\\s+")));
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), WorkerMain.class.getName(),
                board.toString(), Integer.toString(node), Integer.toString(o.nodes()),
                Integer.toString(o.threadsPerNode()), Integer.toString(o.locks()), Double.toString(o.locality()),
                Long.toString(o.critical().toNanos()), Long.toString(o.think().toNanos()), Double.toString(o.writes()),
                Long.toString(o.duration().toMillis()), Long.toString(o.seed()), o.pattern().name(), o.data().name(),
                Long.toString(o.opsPerWorker())));
        command.addAll(connection);
        Path log = logs.resolve("worker-" + node + ".log");
        Process p = new ProcessBuilder(command).redirectError(log.toFile()).start();
        return new WorkerProcess(node, p, log);
    }

    private void readResult() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("result ")) {
                    result.complete(WorkerStats.decode(line.substring("result ".length())));
                } else if (line.startsWith("failed ")) {
                    result.completeExceptionally(new IllegalStateException(line.substring("failed ".length())));
                }
            }
        } catch (IOException | RuntimeException e) {
            result.completeExceptionally(e);
        }
        result.completeExceptionally(new IllegalStateException("exited without a result"));
    }

    /** Throws, naming the node and its log, when the process failed or ended without a result. */
    void check() {
        if (result.isCompletedExceptionally() || (!process.isAlive() && !result.isDone())) {
            result(5); // its last output may still be on the way
        }
    }

    /** Its node's stats, waiting at most {@code seconds}. */
    WorkerStats result(long seconds) {
        try {
            return result.get(seconds, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw failure(e.getCause().getMessage());
        } catch (TimeoutException e) {
            throw failure("no result within " + seconds + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure("interrupted");
        }
    }

    private IllegalStateException failure(String why) {
        return new IllegalStateException("the worker process of node " + node + " failed: " + why + lastLines());
    }

    private String lastLines() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return lines.isEmpty() ? "" : " (" + log + ": " + String.join(" | ",
                    lines.subList(Math.max(0, lines.size() - 3), lines.size())) + ")";
        } catch (IOException e) {
            return " (log: " + log + ")";
        }
    }

    /** SIGKILL, without waiting (the JVM is exiting: {@link WorkerGroup#kill}). */
    void kill() {
        process.destroyForcibly();
    }

    /** Whether the process ended within {@code nanos}. */
    boolean awaitEnd(long nanos) throws InterruptedException {
        return process.waitFor(nanos, TimeUnit.NANOSECONDS);
    }

    /** Ends the process (it ends by itself once it has printed its result) and waits for it. */
    void stop() throws InterruptedException {
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            // already gone
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
