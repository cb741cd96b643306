package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.task.VmLockFutexReply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Shared memory with task processes (docs/shared-memory.md), on real processes: a task process
 * writes a word of its mapped page while another kernel keeps taking the page away, and a task
 * process killed while it holds a futex passes it on with OWNER_DIED, and a task process in a PID
 * namespace of its own (where permitted) waits in its calls through shared memory.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SharedMemoryProcessTest {
    private static final long START_SECONDS = 90;
    private final ClusterFixture c;

    SharedMemoryProcessTest() throws Exception {
        c = new ClusterFixture(2);
    }

    @AfterEach
    void close() {
        c.close();
    }

    /** One read of the word by the other kernel's task, between two instants. */
    private record Read(long start, long value, long end) {}

    /**
     * The history: every write the process was told had succeeded is in the word when the other
     * kernel reads it later (none lost: none landed in a page that had already left), reads never
     * go back, and none sees a write that had not started yet.
     */
    @Test
    void writesOfATaskProcessSurviveThePageBeingTakenAway() throws Exception {
        long word = 4096 + 8;
        long count = 3_000;
        List<long[]> acks = new ArrayList<>();
        List<Read> reads = new ArrayList<>();
        TaskClient other = c.tasks.get(1);
        try (SharedTaskProcess p = SharedTaskProcess.start("write", c.clients.get(0).target(), ClusterFixture.OBJECT,
                Long.toString(word), Long.toString(count))) {
            assertThat(p.next(START_SECONDS)).isEqualTo("shared true");
            String done = null;
            boolean half = false;
            boolean released = false;
            for (int i = 0; done == null; i++) {
                long start = System.nanoTime();
                long value = other.readLong(c.base[1] + word);
                other.writeLong(c.base[1] + word + 8, i); // the same page, written here: it leaves the process's kernel
                reads.add(new Read(start, value, System.nanoTime()));
                for (String line; done == null && (line = p.poll()) != null; ) {
                    if (line.startsWith("done")) {
                        done = line;
                    } else if (line.equals("half")) {
                        half = true;
                    } else {
                        String[] f = line.split(" ");
                        acks.add(new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
                    }
                }
                if (half && !released) { // one read while the process waits half-way: it sees a write in the middle
                    long midStart = System.nanoTime();
                    long mid = other.readLong(c.base[1] + word);
                    reads.add(new Read(midStart, mid, System.nanoTime()));
                    p.go();
                    released = true;
                }
            }
            assertThat(Long.parseLong(done.split(" ")[1])).as("writes made in shared memory").isPositive();
        }
        assertThat(acks).hasSize((int) count);
        assertThat(other.readLong(c.base[1] + word)).as("the last write, after all").isEqualTo(count);
        long last = 0;
        int between = 0;
        for (Read r : reads) {
            long ackedBefore = 0; // the last write acknowledged before the read began
            long startedBefore = 1; // the last write that may have begun before it ended: one past the last acknowledged
            for (long[] a : acks) {
                if (a[1] < r.start) {
                    ackedBefore = a[0];
                }
                if (a[1] < r.end) {
                    startedBefore = a[0] + 1;
                }
            }
            assertThat(r.value).as("read %s: an acknowledged write is never lost", r).isGreaterThanOrEqualTo(ackedBefore);
            assertThat(r.value).as("read %s: no write from the future", r).isLessThanOrEqualTo(startedBefore);
            assertThat(r.value).as("reads never go back").isGreaterThanOrEqualTo(last);
            last = r.value;
            between += r.value > 0 && r.value < count ? 1 : 0;
        }
        assertThat(between).as("reads that came while the process was writing").isPositive();
    }

    /** SIGKILL while it holds a futex it locked in shared memory: the next owner gets EOWNERDEAD. */
    @Test
    void aKilledTaskProcessPassesItsFutexOnWithOwnerDied() throws Exception {
        long futex = c.base[0] + 256;
        try (SharedTaskProcess p = SharedTaskProcess.start("hold", c.clients.get(0).target(), ClusterFixture.OBJECT,
                "256")) {
            assertThat(p.next(START_SECONDS)).isEqualTo("shared true");
            assertThat(p.next(START_SECONDS)).isEqualTo("path FAST_PATH");
            int tid = Integer.parseInt(p.next(START_SECONDS).split(" ")[1]);
            assertThat(c.tasks.get(0).readInt(futex)).as("the owner, as the kernel sees the word").isEqualTo(tid);
            p.kill();
        }
        ThreadClient next = c.thread(1);
        VmLockFutexReply got = next.lock(c.base[1] + 256, Duration.ofSeconds(60));
        assertThat(got.getOwnerDied()).isTrue();
        next.markConsistent(c.base[1] + 256);
        next.unlockFutex(c.base[1] + 256);
    }

    /**
     * A task process in a PID namespace of its own (containers that share /dev/shm, review M3;
     * here {@code unshare -p}, which needs root: skipped where it is not permitted). Its lock waits
     * for a futex a thread of this process holds, through the call file, past many 50 ms slices:
     * the kernel's pid names nothing in the process's namespace, and before, the call failed
     * UNAVAILABLE ("the kernel went away") at the first slice; now it waits, until its timeout.
     */
    @Test
    void aTaskProcessInAnotherPidNamespaceWaitsInItsCalls() throws Exception {
        List<String> unshare = List.of("unshare", "--pid", "--fork", "--mount-proc");
        Process probe;
        try {
            probe = new ProcessBuilder(new ArrayList<>(List.of(unshare.get(0), unshare.get(1), unshare.get(2),
                    unshare.get(3), "true"))).redirectErrorStream(true).start();
        } catch (java.io.IOException noUnshare) {
            org.junit.jupiter.api.Assumptions.abort("no unshare binary here (" + noUnshare.getMessage() + ")");
            return;
        }
        probe.getInputStream().readAllBytes();
        org.junit.jupiter.api.Assumptions.assumeTrue(probe.waitFor() == 0, "unshare --pid is not permitted here");
        ThreadClient holder = c.thread(0);
        holder.lockFutex(c.base[0] + 512);
        try (SharedTaskProcess p = SharedTaskProcess.startUnder(unshare, "wait", c.clients.get(0).target(),
                ClusterFixture.OBJECT, "512", "1000")) {
            assertThat(p.next(START_SECONDS)).isEqualTo("shared true");
            assertThat(p.next(START_SECONDS)).as("the kernel's own timeout, not a kernel taken for gone")
                    .startsWith("error ETIMEDOUT");
            assertThat(Long.parseLong(p.next(START_SECONDS).split(" ")[1])).as("calls through the call file")
                    .isPositive();
        } finally {
            holder.unlockFutex(c.base[0] + 512);
        }
    }
}
