package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.kernel.core.KernelException;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.proto.task.Errno;
import io.machxp.proto.threads.OwnThreads;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An in-process caller interrupted while its lock waits gives the wait up in the core: a later
 * unlock does not hand the futex to a caller that has already failed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InterruptedLockTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 64L * 1024));

    InterruptedLockTest() throws Exception {}

    @AfterEach
    void close() {
        cluster.close();
    }

    @Test
    void anInterruptedLockLeavesNoRequestBehind() throws Exception {
        Kernel kernel = cluster.kernel(0);
        LocalTask task = kernel.taskCreate("app");
        long base = task.vmMap("obj");
        LocalThread owner = task.threadCreate();
        LocalThread caller = task.threadCreate();
        owner.lockFutex(base);
        FutexEntry futex = kernel.<FutexEntry>call(r -> r.complete(kernel.core().inspect().futexAt(task.id(), base)));

        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread waiter = new Thread(() -> {
            try {
                caller.lockFutex(base);
            } catch (RuntimeException e) {
                failed.set(e);
            }
        });
        waiter.start();
        await().atMost(WAIT).until(() -> FutexWord.hasWaiters(futex.state()));
        waiter.interrupt();
        waiter.join(WAIT.toMillis());
        assertThat(waiter.isAlive()).isFalse();
        assertThat(failed.get()).isInstanceOf(KernelException.class);
        assertThat(((KernelException) failed.get()).errno()).isEqualTo(Errno.EINTR);

        owner.unlockFutex(base);
        assertThat(FutexWord.owner(futex.state())).as("not handed to the caller that gave up").isZero();
        assertThat(OwnThreads.supply("try-lock-futex", () -> owner.tryLockFutex(base)).get()).isTrue();
    }
}
