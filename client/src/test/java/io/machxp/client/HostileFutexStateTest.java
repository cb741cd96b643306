package io.machxp.client;

import static io.machxp.proto.shm.ShmLayout.LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A task process that writes a futex's state in the shared table raw, bits above the word
 * included (docs/shared-memory.md, "What a task process can do to the files"): those bits (ABSENT,
 * NOPAGE) are the kernel's own record, so the kernel neither loses a futex it holds nor takes one
 * it does not hold because of them, and it puts them back in the table at its next lease renewal.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileFutexStateTest {
    private static final long FUTEX = 64;
    private static final long ABSENT = 1L << 32;
    private static final Duration WITHIN = Duration.ofSeconds(10);
    private final ClusterFixture c;

    HostileFutexStateTest() throws Exception {
        c = new ClusterFixture(2);
    }

    @AfterEach
    void close() {
        c.close();
    }

    @Test
    void aFutexHeldHereThatATaskMarkedAbsentIsStillHeldHere() {
        ThreadClient t0 = c.thread(0);
        ThreadClient t1 = c.thread(1);
        t0.lockFutex(c.base[0] + FUTEX);
        t0.unlockFutex(c.base[0] + FUTEX); // cached free on kernel 0
        HostileShm hostile = new HostileShm(c.clients.get(0), c.tasks.get(0));
        ByteBuffer table = hostile.futexTable();
        int state = hostile.futexState(FUTEX);
        LONG.setVolatile(table, state, ABSENT);

        t0.lockFutex(c.base[0] + FUTEX, WITHIN); // the kernel still holds it: no pager round trip to wait for
        t0.unlockFutex(c.base[0] + FUTEX);
        LONG.setVolatile(table, state, ABSENT);
        assertThat(t1.lock(c.base[1] + FUTEX, WITHIN).getOwnerDied()).as("kernel 0 gives it up when asked").isFalse();
        t1.unlockFutex(c.base[1] + FUTEX);
        t0.lockFutex(c.base[0] + FUTEX, WITHIN);
        t0.unlockFutex(c.base[0] + FUTEX);
    }

    @Test
    void aFutexHeldElsewhereThatATaskMarkedCachedHereIsPutBack() {
        ThreadClient t0 = c.thread(0);
        ThreadClient t1 = c.thread(1);
        t0.lockFutex(c.base[0] + FUTEX);
        t0.unlockFutex(c.base[0] + FUTEX);
        t1.lockFutex(c.base[1] + FUTEX); // kernel 1 holds it, kernel 0 no longer
        HostileShm hostile = new HostileShm(c.clients.get(0), c.tasks.get(0));
        ByteBuffer table = hostile.futexTable();
        int state = hostile.futexState(FUTEX);
        assertThat((long) LONG.getVolatile(table, state) & ABSENT).isNotZero();
        LONG.setVolatile(table, state, 0L); // "cached here and free": the fast path's CAS would take it

        await().atMost(WITHIN).until(() -> ((long) LONG.getVolatile(table, state) & ABSENT) != 0);
        assertThat(t0.tryLockFutex(c.base[0] + FUTEX)).as("held on kernel 1").isFalse();
        t1.unlockFutex(c.base[1] + FUTEX);
        t0.lockFutex(c.base[0] + FUTEX, WITHIN);
        t0.unlockFutex(c.base[0] + FUTEX);
    }

    /** The word itself is the tasks' memory, as on Linux: a forged owner is answered, not believed. */
    @Test
    void aForgedWordIsAnsweredAsLinuxAnswersIt() {
        ThreadClient t = c.thread(0);
        t.lockFutex(c.base[0] + FUTEX);
        t.unlockFutex(c.base[0] + FUTEX);
        HostileShm hostile = new HostileShm(c.clients.get(0), c.tasks.get(0));
        ByteBuffer table = hostile.futexTable();
        int state = hostile.futexState(FUTEX);

        LONG.setVolatile(table, state, 12_345L); // a TID of no thread
        MachxpException none = org.assertj.core.api.Assertions.catchThrowableOfType(MachxpException.class,
                () -> t.lockFutex(c.base[0] + FUTEX, WITHIN));
        assertThat(none.errno()).isEqualTo(io.machxp.proto.task.Errno.ESRCH);

        LONG.setVolatile(table, state, 0x4000_0000L); // OWNER_DIED, free, without a death
        assertThat(t.lock(c.base[0] + FUTEX, WITHIN).getOwnerDied()).isTrue();
        t.markConsistent(c.base[0] + FUTEX);
        t.unlockFutex(c.base[0] + FUTEX);
        assertThat(c.thread(1).lock(c.base[1] + FUTEX, WITHIN).getOwnerDied()).as("passed on as any futex").isFalse();
    }
}
