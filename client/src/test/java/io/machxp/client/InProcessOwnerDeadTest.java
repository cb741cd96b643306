package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.kernel.core.KernelException;
import io.machxp.kernel.futex.Acquired;
import io.machxp.proto.task.Errno;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The in-process API tells its caller EOWNERDEAD, as a robust mutex's lock does on Linux
 * (FUTEX-SEMANTICS: "next owner gets it with OWNER_DIED set and EOWNERDEAD"): the caller owns the
 * futex then, marks it consistent, and the next lock is a plain one.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InProcessOwnerDeadTest {

    private static void assertOwnerDead(Runnable lock) {
        assertThatThrownBy(lock::run).isInstanceOfSatisfying(KernelException.class,
                e -> assertThat(e.errno()).isEqualTo(Errno.EOWNERDEAD));
    }

    @Test
    void aLockAfterTheOwnersDeathThrowsEownerdeadAndOwnsTheFutex() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 4096L))) {
            LocalTask task = cluster.kernel(0).taskCreate("robust");
            long futex = task.vmMap("obj");
            LocalThread dying = task.threadCreate();
            LocalThread heir = task.threadCreate();
            LocalThread third = task.threadCreate();
            dying.lockFutex(futex);
            dying.terminate();
            assertOwnerDead(() -> heir.lockFutex(futex));
            assertThat(third.tryLockFutex(futex)).as("the heir owns it").isFalse();
            heir.markConsistent(futex);
            heir.unlockFutex(futex);
            assertThat(third.lockFutex(futex)).as("consistent again: a plain lock").isNotNull();
            third.unlockFutex(futex);
        }
    }

    @Test
    void aTrylockAfterTheOwnersDeathThrowsEownerdeadToo() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 4096L))) {
            LocalTask task = cluster.kernel(0).taskCreate("robust-try");
            long futex = task.vmMap("obj");
            LocalThread dying = task.threadCreate();
            LocalThread heir = task.threadCreate();
            LocalThread third = task.threadCreate();
            dying.lockFutex(futex);
            dying.terminate();
            assertOwnerDead(() -> heir.tryLockFutex(futex));
            heir.unlockFutex(futex); // not marked consistent: not recoverable
            assertThatThrownBy(() -> third.lockFutex(futex)).isInstanceOfSatisfying(KernelException.class,
                    e -> assertThat(e.errno()).isEqualTo(Errno.ENOTRECOVERABLE));
        }
    }

    @Test
    void theWholeAnswerCarriesOwnerDiedWithoutThrowing() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 4096L))) {
            LocalTask task = cluster.kernel(0).taskCreate("robust-whole");
            long futex = task.vmMap("obj");
            LocalThread dying = task.threadCreate();
            LocalThread heir = task.threadCreate();
            dying.lockFutex(futex);
            dying.terminate();
            Acquired a = heir.lock(futex, null);
            assertThat(a.ownerDied()).isTrue();
            heir.markConsistent(futex);
            heir.unlockFutex(futex);
            assertThat(heir.lock(futex, null).ownerDied()).isFalse();
        }
    }
}
