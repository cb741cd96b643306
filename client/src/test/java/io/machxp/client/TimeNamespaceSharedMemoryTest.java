package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The lease check of a task process compares the lease's end the kernel publishes on its
 * CLOCK_MONOTONIC with the task process's own; in another time namespace ({@code unshare -T}, which
 * needs root: skipped where it is not permitted) that clock is offset, while boot id and PID
 * namespace are the same. Kernel A's core is blocked past its lease, the pager gives futex and
 * page to kernel B, which writes; then the task process of A tries its fast lock and a mapped read.
 * Before, a task process 300 s behind the kernel's clock still took the futex and read the old
 * value; now the kernel shares no memory with it at all (SameClock), and on the same clock the
 * lease check stops both.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TimeNamespaceSharedMemoryTest {
    private static final long W = 4096 + 8;

    /** The task process: attach, cache the futex and map the page, "ready"; on a line: fast lock, read. */
    public static void main(String[] args) throws Exception {
        try (KernelClient client = KernelClient.connect(args[0]);
                WatchedTask task = WatchedTask.create(client, "timens", args[1])) {
            long base = task.base();
            ThreadClient thread = task.thread();
            thread.lockFutex(base);
            thread.unlockFutex(base);
            thread.lockFutex(base);
            task.task().writeLong(base + W, 1);
            task.task().readLong(base + W);
            thread.unlockFutex(base);
            System.out.println("ready shared=" + task.task().sharesMemory());
            System.out.flush();
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            boolean locked = thread.sharedThread() != null && thread.sharedThread().tryLock(base);
            long[] out = new long[1];
            SharedWords words = task.task().sharedWords();
            boolean read = words != null && words.read(base + W, 8, out);
            System.out.println("fastlock=" + locked + " read=" + read + (read ? " value=" + out[0] : ""));
            System.out.flush();
            System.in.read();
            Runtime.getRuntime().halt(0); // no clean close: the kernel is blocked
        }
    }

    @Test
    void onTheKernelsClockTheLeaseStopsTheFastPath() throws Exception {
        assertThat(run(List.of())).isEqualTo("ready shared=true fastlock=false read=false");
    }

    @Test
    void inAnotherTimeNamespaceNothingIsShared() throws Exception {
        double uptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
        long back = (long) Math.min(300, uptime - 30);
        Assumptions.assumeTrue(back > 0, "the machine has been up too shortly to set a clock back");
        List<String> unshare = List.of("unshare", "-T", "--monotonic=-" + back);
        Process probe;
        try {
            List<String> p = new ArrayList<>(unshare);
            p.add("true");
            probe = new ProcessBuilder(p).redirectErrorStream(true).start();
        } catch (java.io.IOException noUnshare) {
            Assumptions.abort("no unshare binary here (" + noUnshare.getMessage() + ")");
            return;
        }
        probe.getInputStream().readAllBytes();
        Assumptions.assumeTrue(probe.waitFor() == 0,
                "unshare -T (a time namespace) is not permitted here: it needs root and Linux 5.6 or later");
        assertThat(run(unshare)).isEqualTo("ready shared=false fastlock=false read=false");
    }

    /** The task process's "ready" line and its answer after kernel B took futex and page. */
    private String run(List<String> prefix) throws Exception {
        try (ClusterFixture c = new ClusterFixture(2)) {
            List<String> command = new ArrayList<>(prefix);
            command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
                    "-XX:-UsePerfData", "-Xlog:all=warning:stderr", "-cp", System.getProperty("java.class.path"),
                    TimeNamespaceSharedMemoryTest.class.getName(), c.clients.get(0).target(), ClusterFixture.OBJECT));
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String l; (l = in.readLine()) != null; ) {
                        lines.add(l);
                    }
                } catch (java.io.IOException gone) {
                    // ended
                }
                lines.add("<end>");
            });
            reader.setDaemon(true);
            reader.start();
            try {
                String ready = lines.poll(60, TimeUnit.SECONDS);
                String[] result = new String[1];
                CoreBlocked.during(c.kernel(0), () -> {
                    try {
                        ThreadClient b = c.thread(1);
                        b.lock(c.base[1], null); // granted once A's lease ran out
                        c.tasks.get(1).writeLong(c.base[1] + W, 2); // B's write under the futex
                        p.getOutputStream().write('\n');
                        p.getOutputStream().flush();
                        result[0] = lines.poll(60, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                return ready + " " + result[0];
            } finally {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }
}
