package io.machxp.client;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A task in a JVM process of its own on the kernel's host, for the shared-memory tests: it
 * connects as any client does ({@link KernelClient#connect(String)}: shared memory on this host)
 * and reports on stdout, one line per event.
 *
 * <pre>
 *   write TARGET OBJECT OFFSET COUNT  writes 1..COUNT into the 8-byte word, "ack V NANOS" after each;
 *                                     after COUNT/2 "half", then waits for a line on stdin
 *                                     returned, then "done SHARED_ACCESSES"
 *   hold TARGET OBJECT OFFSET         locks the futex twice (the second in shared memory), prints
 *                                     "locked TID", then waits for stdin to close
 *   wait TARGET OBJECT OFFSET MILLIS  locks the futex (held elsewhere) with a timeout of MILLIS,
 *                                     prints "got" or "error ERRNO", then "calls N" (made through
 *                                     the call file)
 *   park TARGET OBJECT OFFSET         writes the 8-byte word through the kernel (its page then mapped
 *                                     here), then writes it in shared memory and, inside that access
 *                                     (counted and recorded), prints "inside" and waits for stdin to
 *                                     close; "not shared" if that write went through the kernel
 * </pre>
 */
public final class SharedTaskProcess implements AutoCloseable {
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    public static void main(String[] args) throws IOException {
        try (KernelClient client = KernelClient.connect(args[1]);
                WatchedTask task = WatchedTask.create(client, "process", args[2])) {
            long address = task.base() + Long.parseLong(args[3]);
            System.out.println("shared " + task.task().sharesMemory());
            if (args[0].equals("write")) {
                long count = Long.parseLong(args[4]);
                for (long v = 1; v <= count; v++) {
                    task.task().writeLong(address, v);
                    System.out.println("ack " + v + " " + System.nanoTime());
                    if (v == count / 2) { // half written: the test reads once while this process waits
                        System.out.println("half");
                        System.out.flush();
                        System.in.read();
                    }
                }
                System.out.println("done " + task.task().sharedAccesses());
            } else if (args[0].equals("park")) {
                task.task().writeLong(address, 1);
                task.task().readLong(address); // the kernel maps the page to this process
                SharedWords words = task.task().sharedWords();
                words.whileCounted = () -> {
                    words.whileCounted = null;
                    System.out.println("inside");
                    System.out.flush();
                    try {
                        System.in.read(); // until the test kills this process
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                };
                if (!words.write(address, 8, 2)) {
                    System.out.println("not shared");
                }
            } else if (args[0].equals("wait")) {
                try {
                    task.thread().lock(address, java.time.Duration.ofMillis(Long.parseLong(args[4])));
                    System.out.println("got");
                } catch (MachxpException e) {
                    System.out.println("error " + e.errno() + " " + e.getMessage());
                }
                System.out.println("calls " + client.sharedCallsMade());
            } else {
                ThreadClient thread = task.thread();
                thread.lockFutex(address);
                thread.unlockFutex(address);
                System.out.println("path " + thread.lockFutex(address));
                System.out.println("locked " + thread.tid());
                System.in.read(); // until the test kills this process
            }
            System.out.flush();
        }
    }

    private SharedTaskProcess(Process process) {
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException gone) {
                // the process ended
            }
            lines.add("<end>");
        }, "output of a task process");
        reader.setDaemon(true);
        reader.start();
    }

    /** Lets a process that printed "half" go on writing. */
    void go() throws IOException {
        process.getOutputStream().write('\n');
        process.getOutputStream().flush();
    }

    static SharedTaskProcess start(String... args) throws IOException {
        return startUnder(List.of(), args);
    }

    /** As {@link #start}, the JVM started by {@code prefix} (such as {@code unshare -p -f}). */
    static SharedTaskProcess startUnder(List<String> prefix, String... args) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
                // no hsperfdata file (a process that is pid 1 in a PID namespace of its own meets
                // another such process's locked /tmp/hsperfdata_root/1), and the JVM's own warnings
                // on stderr, never among the lines this class reads from stdout
                "-XX:-UsePerfData", "-Xlog:all=warning:stderr",
                "-cp", System.getProperty("java.class.path"), SharedTaskProcess.class.getName()));
        command.addAll(List.of(args));
        return new SharedTaskProcess(new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start());
    }

    /** The next line it printed, waiting up to {@code seconds}; fails if it ended or said nothing. */
    String next(long seconds) throws InterruptedException {
        String line = lines.poll(seconds, TimeUnit.SECONDS);
        if (line == null || line.equals("<end>")) {
            throw new AssertionError("the task process said nothing more (" + line + ")");
        }
        return line;
    }

    /** The next line, or null when none is there yet. */
    String poll() {
        return lines.poll();
    }

    /** SIGKILL, and waits until it is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(60, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
