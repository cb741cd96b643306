package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.machxp.proto.task.Errno;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A task in its own process learns EOWNERDEAD from the short calls as an in-process task does
 * (InProcessOwnerDeadTest) and as a robust pthread mutex's lock returns it: lockFutex and
 * tryLockFutex throw it, with the futex the caller's; before, they returned as for a plain lock,
 * and a caller that never learnt of the death unlocked the futex into ENOTRECOVERABLE.
 */
class OwnerDeadOverGrpcTest {
    private final ClusterFixture c = new ClusterFixture(1);

    OwnerDeadOverGrpcTest() throws java.io.IOException {}

    @AfterEach
    void close() {
        c.close();
    }

    private static void assertOwnerDead(Runnable lock) {
        assertThatThrownBy(lock::run).isInstanceOfSatisfying(MachxpException.class, e -> {
            assertThat(e.errno()).isEqualTo(Errno.EOWNERDEAD);
            assertThat(e.code()).isEqualTo(Status.Code.OK);
            assertThat(e.getMessage()).contains("markConsistent");
        });
    }

    @Test
    void aLockAfterTheOwnersDeathThrowsEownerdeadAndOwnsTheFutex() {
        long futex = c.base[0];
        ThreadClient dying = c.thread(0);
        ThreadClient heir = c.thread(0);
        ThreadClient third = c.thread(0);
        dying.lockFutex(futex);
        dying.terminate();
        assertOwnerDead(() -> heir.lockFutex(futex, Duration.ofSeconds(30)));
        assertThat(third.tryLockFutex(futex)).as("the heir owns it").isFalse();
        heir.markConsistent(futex);
        heir.unlockFutex(futex);
        assertThat(third.lockFutex(futex)).as("consistent again: a plain lock").isNotNull();
        third.unlockFutex(futex);
    }

    @Test
    void aTrylockAfterTheOwnersDeathThrowsEownerdeadToo() {
        long futex = c.base[0];
        ThreadClient dying = c.thread(0);
        ThreadClient heir = c.thread(0);
        ThreadClient third = c.thread(0);
        dying.lockFutex(futex);
        dying.terminate();
        assertOwnerDead(() -> heir.tryLockFutex(futex));
        heir.unlockFutex(futex); // not marked consistent: not recoverable
        assertThatThrownBy(() -> third.lockFutex(futex)).isInstanceOfSatisfying(MachxpException.class,
                e -> assertThat(e.errno()).isEqualTo(Errno.ENOTRECOVERABLE));
    }
}
