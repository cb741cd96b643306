package io.machxp.client;

import static io.machxp.proto.shm.ShmLayout.INT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.machxp.proto.shm.ShmLayout;
import io.machxp.proto.task.Errno;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A task process that writes its slots in the kernel file raw (docs/shared-memory.md, "What a
 * task process can do to the files"): an access count it never drains, a REVOKED bit it clears
 * after the kernel set it. The kernel ends the task all the same, within the drain's bound, and
 * treats a lock the ended thread's process still makes as an owner's death.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileKernelSlotsTest {
    private final ClusterFixture c;

    HostileKernelSlotsTest() throws Exception {
        c = new ClusterFixture(1);
    }

    @AfterEach
    void close() {
        c.close();
    }

    @Test
    void aCountNeverDrainedEndsTheTaskWithinTheBound() {
        TaskClient task = c.clients.get(0).taskCreate("hostile");
        long base = task.vmMap(ClusterFixture.OBJECT);
        ThreadClient t = task.threadCreate();
        HostileShm hostile = new HostileShm(c.clients.get(0), task);
        INT.setVolatile(hostile.kernel, hostile.taskCtl(), -1); // every bit: a count that never drains

        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(15), task::terminate); // the bound is 2 s
        MachxpException ended = catchThrowableOfType(MachxpException.class, () -> t.lockFutex(base + 64));
        assertThat(ended.errno()).isEqualTo(Errno.ESRCH);
        ThreadClient other = c.thread(0);
        other.lockFutex(c.base[0] + 64);
        other.unlockFutex(c.base[0] + 64);
    }

    @Test
    void aLockAfterTheTaskClearedRevokedIsADeadOwners() {
        ThreadClient t = c.thread(0);
        ThreadClient next = c.thread(0);
        long futex = c.base[0] + 64;
        next.lockFutex(futex);
        next.unlockFutex(futex); // cached here: a lock is one CAS in the task's process
        t.terminate();
        HostileShm hostile = new HostileShm(c.clients.get(0), c.tasks.get(0));
        int ctl = slotOf(hostile.kernel, t.tid());
        assertThat((int) INT.getVolatile(hostile.kernel, ctl) & ShmLayout.REVOKED).isNotZero();
        INT.getAndBitwiseAnd(hostile.kernel, ctl, ~ShmLayout.REVOKED);

        t.lockFutex(futex); // the process believes it; the kernel knows the thread ended

        var reply = next.lock(futex, Duration.ofSeconds(10));
        assertThat(reply.getOwnerDied()).as("the ended thread's TID in the word is a death").isTrue();
        next.markConsistent(futex);
        next.unlockFutex(futex);
    }

    /** The ctl word of thread {@code tid}'s slot in the kernel file. */
    private static int slotOf(ByteBuffer kernel, int tid) {
        for (int i = 0; i < 16_384; i++) {
            int at = ShmLayout.threadSlot(i);
            if ((int) INT.get(kernel, at + ShmLayout.SLOT_TID) == tid) {
                return at;
            }
        }
        throw new AssertionError("no slot of thread " + tid);
    }
}
