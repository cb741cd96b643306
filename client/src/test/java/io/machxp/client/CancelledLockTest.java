package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.net.MachTaskService;
import io.machxp.proto.task.VmLockFutexReply;
import io.machxp.proto.task.VmLockFutexRequest;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A vm_lock_futex whose caller gave up (its call cancelled) at the moment it is granted: the
 * caller never hears it owns the futex, so nobody owns it on its behalf. The race is made
 * deterministic by a call whose cancellation is seen by the service before its cancel handler
 * has run, which is the window a real cancellation can land in.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CancelledLockTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 64L * 1024));

    CancelledLockTest() throws Exception {}

    @AfterEach
    void close() {
        cluster.close();
    }

    @Test
    void aLockCancelledAsItIsGrantedLeavesTheFutexFree() {
        Kernel kernel = cluster.kernel(0);
        LocalTask task = kernel.taskCreate("app");
        long base = task.vmMap("obj");
        LocalThread owner = task.threadCreate();
        LocalThread caller = task.threadCreate();
        long handle = kernel.taskHandles().issue(task.id());
        owner.lockFutex(base);
        FutexEntry futex = kernel.<FutexEntry>call(r -> r.complete(kernel.core().inspect().futexAt(task.id(), base)));

        CancelledServerCall<VmLockFutexReply> call = new CancelledServerCall<>();
        new MachTaskService(kernel).vmLockFutex(VmLockFutexRequest.newBuilder().setTask(handle)
                .setThread(caller.tid()).setAddress(base).build(), call);
        await().atMost(WAIT).until(() -> FutexWord.hasWaiters(futex.state()));
        call.cancelled = true; // the caller is gone; its cancel handler has not run yet
        owner.unlockFutex(base);

        await().atMost(WAIT).until(() -> FutexWord.owner(futex.state()) == 0);
        assertThat(call.answers()).as("nobody heard of the grant").isEmpty();
        assertThat(owner.tryLockFutex(base)).as("free for the next").isTrue();
    }
}
