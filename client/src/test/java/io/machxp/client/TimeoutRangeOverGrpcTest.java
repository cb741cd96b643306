package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.machxp.proto.task.Errno;
import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The whole range of the task interface's durations (review kreview INFO-2): a lock timeout of
 * 2^63 ms or more (uint64, once read as a negative long) is no timeout, by intent - the lock
 * waits until the futex is free; and the client library reads a Java {@link Duration} as
 * java.util.concurrent does: a negative one is a deadline already past (a lock of a held futex
 * is ETIMEDOUT at once; it waited for good, sent as 2^64 - 1), one longer than a long holds is
 * forever (it threw ArithmeticException). The lock under test waits in a pool thread; the test
 * waits for the kernel to show it blocked, a condition, not a time.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TimeoutRangeOverGrpcTest {
    private final ClusterFixture c;
    private final RawKernel raw;
    private final ThreadClient owner;
    private final ThreadClient waiter;
    private final long futex;

    TimeoutRangeOverGrpcTest() throws Exception {
        c = new ClusterFixture(1);
        raw = new RawKernel(c.cluster.kernelTargets().get(0));
        owner = c.thread(0);
        waiter = c.thread(0);
        futex = c.base[0] + 64;
        owner.lockFutex(futex);
    }

    @AfterEach
    void close() {
        raw.close();
        c.close();
    }

    /**
     * Runs {@code locker}'s lock; once the kernel shows it blocked, {@code holder} unlocks; the
     * lock then gets the futex.
     */
    private void waitsUntilUnlocked(ThreadClient holder, ThreadClient locker, java.util.concurrent.Callable<Object> lock)
            throws Exception {
        Future<Object> locked = c.pool.submit(lock);
        while (!"vm_lock_futex".equals(raw.blockedIn(locker.tid()))) {
            assertThat(locked.isDone()).as("the lock must wait, not end").isFalse();
            Thread.onSpinWait();
        }
        holder.unlockFutex(futex);
        assertThat(locked.get()).isNotNull();
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS) // not a timing assert: on the old code the lock never returned
    void aNegativeDurationIsADeadlineAlreadyPast() {
        MachxpException e = catchThrowableOfType(MachxpException.class,
                () -> waiter.lockFutex(futex, Duration.ofMillis(-1)));
        assertThat(e).as("a lock of a held futex with a past deadline").isNotNull();
        assertThat(e.errno()).isEqualTo(Errno.ETIMEDOUT);
        waiter.sleep(Duration.ofMillis(-5)); // returns: no time to sleep
        waiter.compute(Duration.ofNanos(-1));
    }

    @Test
    void aDurationLongerThanALongWaitsUntilTheFutexIsFree() throws Exception {
        waitsUntilUnlocked(owner, waiter, () -> waiter.lockFutex(futex, Duration.ofSeconds(Long.MAX_VALUE)));
    }

    @Test
    void aTimeoutOf2To63MillisOrMoreIsNoTimeout() throws Exception {
        long task = c.tasks.get(0).id();
        waitsUntilUnlocked(owner, waiter, () -> raw.call().vmLockFutex(RawKernel.lock(task, waiter.tid(), futex)
                .toBuilder().setTimeoutMillis(-1L).build())); // 2^64 - 1
        waitsUntilUnlocked(waiter, owner, () -> raw.call().vmLockFutex(RawKernel.lock(task, owner.tid(), futex)
                .toBuilder().setTimeoutMillis(Long.MIN_VALUE).build())); // 2^63
    }
}
