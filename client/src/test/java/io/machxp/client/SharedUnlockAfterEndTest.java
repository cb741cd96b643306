package io.machxp.client;

import static io.machxp.proto.shm.ShmLayout.LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.machxp.proto.task.Errno;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A late unlock through the fast path of a thread that has ended (docs/shared-memory.md, "The futex
 * fast path"): the kernel gives a TID again after all of a session's were given, so the word may
 * hold the same TID for a new thread. The unlock must not release it: an ended thread's unlock goes
 * to the kernel, which answers ESRCH.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedUnlockAfterEndTest {
    private static final long FUTEX = 64;
    private final ClusterFixture c;

    SharedUnlockAfterEndTest() throws Exception {
        c = new ClusterFixture(1);
    }

    @AfterEach
    void close() {
        c.close();
    }

    @Test
    void anEndedThreadsUnlockDoesNotReleaseTheWordOfANewThreadWithItsTid() {
        ThreadClient ended = c.thread(0);
        long futex = c.base[0] + FUTEX;
        ended.lockFutex(futex);
        ended.unlockFutex(futex); // cached here: the fast path acts on the shared state
        ended.terminate();
        HostileShm shm = new HostileShm(c.clients.get(0), c.tasks.get(0));
        ByteBuffer table = shm.futexTable();
        int state = shm.futexState(FUTEX);
        assertThat(state).isNotNegative();
        long tid = ended.tid() & 0xffffffffL;
        // what a fast-path lock of a new thread given the same TID writes (reuse itself takes a
        // million threads): the word holds that TID, nobody waiting
        assertThat(LONG.compareAndSet(table, state, 0L, tid)).isTrue();

        MachxpException refused = catchThrowableOfType(MachxpException.class, () -> ended.unlockFutex(futex));

        assertThat(refused).as("the ended thread's unlock goes to the kernel").isNotNull();
        assertThat(refused.errno()).isEqualTo(Errno.ESRCH);
        assertThat((long) LONG.getVolatile(table, state)).as("the new thread still holds it").isEqualTo(tid);
    }
}
