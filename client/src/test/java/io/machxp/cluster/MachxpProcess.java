package io.machxp.cluster;

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
 * A machxp command (pager or kernel) in a JVM process of its own, started from the test's class
 * path (or, {@link #startWarm}, in a JVM warmed up beforehand that runs it on its go). Its output is
 * collected; {@link #port} waits for the "listening on HOST:PORT" line.
 */
public final class MachxpProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on [^ ]+:(\\d+)");
    /** A deadline, not a figure: a JVM on a loaded 2-core machine has taken over 60 s to listen. */
    private static final long START_SECONDS = 180;

    private final Process process;
    private final String name;
    private final CompletableFuture<Integer> port = new CompletableFuture<>();
    private final CompletableFuture<Void> warm = new CompletableFuture<>();
    private final List<String> output = new ArrayList<>();
    /** When each line of {@link #output} was read, System.nanoTime (guarded by {@link #output}). */
    private final List<Long> readAt = new ArrayList<>();
    /** Its output ended (guarded by {@link #output}). */
    private boolean ended;

    private MachxpProcess(String name, Process process) {
        this.name = name;
        this.process = process;
        Thread reader = new Thread(this::read, "output of " + name);
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code machxp ARGS...}. */
    public static MachxpProcess start(String name, String... args) throws IOException {
        return start(name, List.of(), args);
    }

    /**
     * Starts {@code machxp ARGS...} with SIGINT's default action, even when this JVM ignores SIGINT
     * (as a JVM started in the background by a shell does, and its children inherit):
     * {@code env --default-signal=INT} (GNU coreutils 8.31 and later) resets it before the exec.
     */
    public static MachxpProcess startInterruptible(String name, String... args) throws IOException {
        return start(name, List.of("env", "--default-signal=INT"), args);
    }

    /**
     * Starts a JVM that warms up and waits ({@link WarmStart}); {@link #awaitWarm} waits until it
     * has, and {@link #go} then runs {@code machxp ARGS...} in it.
     */
    public static MachxpProcess startWarm(String name, String... args) throws IOException {
        return launch(name, List.of(), WarmStart.class.getName(), args);
    }

    private static MachxpProcess start(String name, List<String> prefix, String... args) throws IOException {
        return launch(name, prefix, "io.machxp.cli.Machxp", args);
    }

    private static MachxpProcess launch(String name, List<String> prefix, String main, String... args)
            throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // C1 only and the serial collector: a third less CPU to start (a pager to "listening
                // on": 3.2-3.9 s -> 2.0-2.7 s of CPU, 9-13 s -> 6-7 s at a load of 13-15); these
                // processes run briefly and are timed by nobody, so C2's later speed buys nothing
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"),
                // the command's own logging (INFO), not the tests' quieter configuration
                "-Dlogback.configurationFile=logback.xml", main));
        command.addAll(List.of(args));
        if (args.length > 0 && args[0].equals("kernel") && !List.of(args).contains("--connect-timeout")) {
            // A deadline, not a figure: the kernel's own wait for the pager's welcome (10 s by
            // default) within this class's start deadline; a loaded machine has taken longer than 10 s.
            command.addAll(List.of("--connect-timeout", Long.toString(START_SECONDS)));
        }
        return new MachxpProcess(name, new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                synchronized (output) {
                    output.add(line);
                    readAt.add(System.nanoTime());
                    output.notifyAll();
                }
                if (line.equals(WarmStart.WARM)) {
                    warm.complete(null);
                }
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    port.complete(Integer.parseInt(m.group(1)));
                }
            }
        } catch (IOException e) {
            // the process is gone
        }
        synchronized (output) {
            ended = true;
            output.notifyAll();
        }
        port.completeExceptionally(new IllegalStateException(name + " ended before it listened:\n" + output()));
        warm.completeExceptionally(new IllegalStateException(name + " ended before it was warm:\n" + output()));
    }

    /** For {@link #startWarm}: waits until the JVM has warmed up and waits for its go. */
    public void awaitWarm() {
        try {
            warm.get(START_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(name + " was not warm within " + START_SECONDS + " s:\n" + output(), e);
        }
    }

    /** For {@link #startWarm}: runs its command now. */
    public void go() throws IOException {
        process.getOutputStream().write('\n');
        process.getOutputStream().flush();
    }

    /** The port it listens on, once it says so. */
    public int port() {
        try {
            return port.get(START_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(name + " did not start listening within " + START_SECONDS + " s:\n"
                    + output(), e);
        }
    }

    public ProcessHandle handle() {
        return process.toHandle();
    }

    public String output() {
        synchronized (output) {
            return String.join("\n", output);
        }
    }

    /** The lines of output so far: a mark for {@link #outputFrom}. */
    public int lines() {
        synchronized (output) {
            return output.size();
        }
    }

    /**
     * When the first line from line {@code mark} on that {@code pattern} finds was read
     * (System.nanoTime; a little after the process wrote it), or empty if none does.
     */
    public java.util.OptionalLong readAt(int mark, Pattern pattern) {
        synchronized (output) {
            for (int i = mark; i < output.size(); i++) {
                if (pattern.matcher(output.get(i)).find()) {
                    return java.util.OptionalLong.of(readAt.get(i));
                }
            }
            return java.util.OptionalLong.empty();
        }
    }

    /** The first line from line {@code mark} on that {@code pattern} finds, or empty if none does. */
    public java.util.Optional<String> lineFrom(int mark, Pattern pattern) {
        synchronized (output) {
            for (int i = mark; i < output.size(); i++) {
                if (pattern.matcher(output.get(i)).find()) {
                    return java.util.Optional.of(output.get(i));
                }
            }
            return java.util.Optional.empty();
        }
    }

    /** The output from line {@code mark} ({@link #lines}) on. */
    public String outputFrom(int mark) {
        synchronized (output) {
            return String.join("\n", output.subList(mark, output.size()));
        }
    }

    /**
     * The output from line {@code mark} on, once {@code pattern} is found in it, or once the output
     * ends or {@code seconds} have passed without it (a deadline, not a figure: the output is read
     * by a thread of its own, so a line the process wrote may reach it a little later).
     */
    public String awaitOutputFrom(int mark, Pattern pattern, long seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        synchronized (output) {
            for (long left = end - System.nanoTime(); !ended && left > 0
                    && !pattern.matcher(outputFrom(mark)).find(); left = end - System.nanoTime()) {
                TimeUnit.NANOSECONDS.timedWait(output, left);
            }
            return outputFrom(mark);
        }
    }

    /** Its exit status, once it has ended (within {@code seconds}, else an exception). */
    public int exitStatus(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " did not end within " + seconds + " s:\n" + output());
        }
        return process.exitValue();
    }

    /** SIGKILL: the process stops at once, with no chance to say anything. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(START_SECONDS, TimeUnit.SECONDS);
    }

    /** Closes each process that was started (null: never was), as a test's teardown does. */
    public static void closeAll(MachxpProcess... processes) throws InterruptedException {
        for (MachxpProcess p : processes) {
            if (p != null) {
                p.close();
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            kill();
        }
    }
}
