package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.shm.ShmLayout;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Revoking a task process's slots: what waits runs once they are idle, the process is gone, or the bound passed. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DrainWatcherTest {
    private static final long ME = ProcessHandle.current().pid();
    private final ByteBuffer kernel = ByteBuffer.allocateDirect((int) ShmLayout.kernelFileSize(4));
    /** No test but the last waits for the bound: a loaded machine must not reach it in the others. */
    private final DrainWatcher watcher = new DrainWatcher(kernel, Duration.ofHours(1));
    private final DrainWatcher bounded = new DrainWatcher(kernel, Duration.ofMillis(200));
    private final CountDownLatch ran = new CountDownLatch(1);

    @AfterEach
    void close() {
        watcher.close();
        bounded.close();
    }

    /** Where a slot counts its task's page accesses under way. */
    private int ctl(int slot) {
        return ShmLayout.threadSlot(slot);
    }

    @Test
    void idleSlotsAreRevokedAndWhatWaitsRunsAtOnce() {
        watcher.revoke(List.of(0, 1), ME, ran::countDown);
        assertThat(ran.getCount()).isZero();
        assertThat((int) INT.get(kernel, ShmLayout.threadSlot(1)) & ShmLayout.REVOKED).isNotZero();
    }

    @Test
    void aTasksPageAccessesAreWaitedFor() throws InterruptedException {
        INT.getAndAdd(kernel, ShmLayout.threadSlot(3), 2);
        watcher.revoke(List.of(3), ME, ran::countDown);
        assertThat(ran.getCount()).isEqualTo(1);
        INT.getAndAdd(kernel, ShmLayout.threadSlot(3), -1);
        assertThat(ran.getCount()).as("one access is still under way").isEqualTo(1);
        INT.getAndAdd(kernel, ShmLayout.threadSlot(3), -1);
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
    }

    /** A process killed inside a call leaves its slot busy for good: its death ends the wait. */
    @Test
    void aDeadProcessEndsTheWait() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor(10, TimeUnit.SECONDS);
        INT.getAndAdd(kernel, ctl(0), 1);
        watcher.revoke(List.of(0), gone.pid(), ran::countDown);
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat((int) INT.get(kernel, ctl(0)) & ShmLayout.ACCESSES).as("left as the dead process left it")
                .isEqualTo(1);
    }

    /**
     * A client in another PID namespace (review M3): the kernel takes its pid as unknown (0), and
     * waits for its slot as for a live process, up to the bound; before, an unknown pid counted as
     * a dead process and ended the wait at the first poll while the access was still under way.
     * A second revocation, of a dead process, is the marker: it is polled after the first one's
     * first poll, on the same thread, so once it ran the unknown one was polled at least once.
     */
    @Test
    void aProcessWhosePidIsUnknownIsWaitedForAsALiveOne() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor(10, TimeUnit.SECONDS);
        INT.getAndAdd(kernel, ctl(0), 1);
        INT.getAndAdd(kernel, ctl(1), 1);
        watcher.revoke(List.of(0), 0, ran::countDown);
        CountDownLatch marker = new CountDownLatch(1);
        watcher.revoke(List.of(1), gone.pid(), marker::countDown);
        assertThat(marker.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ran.getCount()).as("still waited for after its first poll").isEqualTo(1);
        INT.getAndAdd(kernel, ctl(0), -1);
        assertThat(ran.await(10, TimeUnit.SECONDS)).as("its access ended").isTrue();
    }

    /** A live process that never leaves its call: the wait ends at the bound, the slot stays revoked. */
    @Test
    void aStuckLiveProcessIsWaitedForOnlyUpToTheBound() throws InterruptedException {
        INT.getAndAdd(kernel, ctl(1), 1);
        long start = System.nanoTime();
        bounded.revoke(List.of(1), ME, ran::countDown);
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(Duration.ofMillis(200).toNanos());
        assertThat((int) INT.get(kernel, ShmLayout.threadSlot(1)) & ShmLayout.REVOKED).isNotZero();
    }

    /** The session ends while a revocation waits: what waits still runs (review L6: its reply was lost). */
    @Test
    void whatWaitsRunsWhenTheSessionCloses() throws InterruptedException {
        INT.getAndAdd(kernel, ctl(2), 1); // a live process (this one) stuck in an access
        watcher.revoke(List.of(2), ME, ran::countDown);
        assertThat(ran.getCount()).isEqualTo(1);
        watcher.close();
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        CountDownLatch after = new CountDownLatch(1);
        watcher.revoke(List.of(2), ME, after::countDown);
        assertThat(after.getCount()).as("a revocation after the close goes on at once").isZero();
    }

    /**
     * What waits fails at the close (the kernel's loop already shut down, review F5): the close
     * returns, and the other revocations still run.
     */
    @Test
    void aFailureOfWhatWaitsDoesNotStopTheClose() throws InterruptedException {
        INT.getAndAdd(kernel, ctl(2), 1);
        INT.getAndAdd(kernel, ctl(3), 1);
        watcher.revoke(List.of(2), ME, () -> {
            throw new java.util.concurrent.RejectedExecutionException("the loop is shut down");
        });
        watcher.revoke(List.of(3), ME, ran::countDown);
        watcher.close();
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
    }
}
