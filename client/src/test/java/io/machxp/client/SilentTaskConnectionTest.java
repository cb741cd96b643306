package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.net.TaskKeepalive;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.transport.Transport;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A task client's connection that falls silent (here: a proxy keeps everything the client sends,
 * the kernel's keepalive pings' answers too) while a lock of it waits: the kernel's keepalive
 * finds the connection dead and closes it, so the lock stops waiting as if its caller had given
 * up, and the futex is not granted into a connection nobody reads (review shmfixa C). Before, the
 * wait went on for good.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SilentTaskConnectionTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void aWaitingLockOfASilentConnectionStopsAndTheFutexIsNotGrantedToIt() throws Exception {
        String before = System.getProperty(TaskKeepalive.PROPERTY);
        System.setProperty(TaskKeepalive.PROPERTY, "300");
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 64L * 1024));
                HoldingProxy proxy = new HoldingProxy(cluster.kernelTargets().get(0));
                KernelClient client = KernelClient.connect(proxy.target(), Transport.LOOPBACK_PLAINTEXT, null,
                        KernelClient.Memory.GRPC_ONLY)) {
            Kernel kernel = cluster.kernel(0);
            LocalTask local = kernel.taskCreate("local");
            long localBase = local.vmMap("obj");
            LocalThread owner = local.threadCreate();
            owner.lockFutex(localBase);
            FutexEntry futex = kernel.<FutexEntry>call(r -> r.complete(kernel.core().inspect().futexAt(local.id(),
                    localBase)));

            TaskClient task = client.taskCreate("remote");
            long base = task.vmMap("obj");
            ThreadClient thread = task.threadCreate();
            long taskId = kernel.taskHandles().taskId(task.id());
            Thread caller = new Thread(() -> {
                try {
                    thread.lockFutex(base);
                } catch (MachxpException expected) {
                    // the connection ended under it
                }
            });
            caller.setDaemon(true);
            caller.start();
            await().atMost(WAIT).until(() -> FutexWord.hasWaiters(futex.state()));

            proxy.hold(); // the client falls silent: nothing it sends reaches the kernel
            await().atMost(WAIT).until(() -> kernel.<Boolean>call(r -> {
                MachThread t = kernel.core().task(taskId).thread(thread.tid());
                r.complete(t.blockedIn == null);
            }));
            owner.unlockFutex(localBase);
            assertThat(FutexWord.owner(futex.state())).as("not granted to the silent connection's thread")
                    .isNotEqualTo(thread.tid());
        } finally {
            if (before == null) {
                System.clearProperty(TaskKeepalive.PROPERTY);
            } else {
                System.setProperty(TaskKeepalive.PROPERTY, before);
            }
        }
    }
}
