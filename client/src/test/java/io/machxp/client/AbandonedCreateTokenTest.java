package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Context;
import io.grpc.Status;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.task.MachTask;
import io.machxp.proto.transport.Transport;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv59 MED-1a (and LOW-1 for VmMap) over real gRPC: the kernel answered a create and closed the call OK, but the
 * answer was still on its way (held in a proxy: a slow link) when the client gave up. The kernel
 * saw no cancel; before create_token, the task (or thread) stayed, counted to the peer, and nobody
 * could name it (20 of 20 behind a 0.5 s link). Now KernelClient abandons the create by its token
 * and the kernel ends what it made.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AbandonedCreateTokenTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private EmbeddedCluster cluster;
    private Kernel kernel;
    private HeldRepliesProxy proxy;
    private KernelClient client;

    @BeforeEach
    void start() throws Exception {
        cluster = EmbeddedCluster.start(1, true, Map.of("obj", 64L * 1024));
        kernel = cluster.kernel(0);
        proxy = new HeldRepliesProxy(cluster.kernelTargets().get(0));
        client = KernelClient.connect(proxy.target(), Transport.LOOPBACK_PLAINTEXT, null, KernelClient.Memory.GRPC_ONLY);
        client.statistics(); // connected, nothing held yet
    }

    @AfterEach
    void close() throws Exception {
        client.close();
        proxy.close();
        cluster.close();
    }

    private MachTask task(long id) {
        return kernel.<MachTask>call(r -> r.complete(kernel.core().task(id)));
    }

    /**
     * Runs {@code create} in a cancellable context, holds the kernel's answer until the kernel has
     * closed the call OK, then cancels: the client gives up on an answer already sent.
     */
    private MachxpException givenUpAfterTheAnswer(Function<KernelClient, Object> create) throws Exception {
        int ends = proxy.endsHeld();
        proxy.hold();
        Context.CancellableContext context = Context.current().withCancellation();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread caller = new Thread(() -> context.run(() -> {
            try {
                create.apply(client);
            } catch (Throwable t) {
                failure.set(t);
            }
        }));
        caller.start();
        await().atMost(WAIT).until(() -> proxy.endsHeld() > ends); // the kernel closed the create OK
        context.cancel(null);
        // the abandon reaches the kernel (its own answer is held too), or, without it, the call just ends
        await().atMost(WAIT).until(() -> !caller.isAlive() || kernel.taskHandles().size() == 0
                || proxy.endsHeld() > ends + 1);
        proxy.release();
        caller.join();
        assertThat(failure.get()).isInstanceOf(MachxpException.class);
        return (MachxpException) failure.get();
    }

    @Test
    void aTaskCreateWhoseAnswerWasOnItsWayWhenTheClientGaveUpKeepsNoTask() throws Exception {
        long before = kernel.taskCreate("first").id(); // ids are consecutive: the given-up one is the next
        MachxpException failure = givenUpAfterTheAnswer(c -> c.taskCreate("lost-reply"));
        assertThat(failure.code()).isEqualTo(Status.Code.CANCELLED);
        assertThat(kernel.taskHandles().size()).as("the handle nobody received is withdrawn").isZero();
        await().atMost(WAIT).until(() -> task(before + 1) == null);

        TaskClient next = client.taskCreate("after"); // the connection and the peer's share are fine
        assertThat(kernel.taskHandles().ref(next.id())).isNotNull();
    }

    @Test
    void aThreadCreateWhoseAnswerWasOnItsWayWhenTheClientGaveUpKeepsNoThread() throws Exception {
        TaskClient task = client.taskCreate("app");
        long id = kernel.taskHandles().ref(task.id()).id();
        MachxpException failure = givenUpAfterTheAnswer(c -> task.threadCreate());
        assertThat(failure.code()).isEqualTo(Status.Code.CANCELLED);
        await().atMost(WAIT).until(() -> kernel.<Integer>call(r -> r.complete(kernel.core().task(id).threads().size())) == 0);
        assertThat(task.threadCreate().tid()).isPositive(); // the task goes on
    }

    @Test
    void aVmMapWhoseAnswerWasOnItsWayWhenTheClientGaveUpKeepsNoMapping() throws Exception {
        TaskClient task = client.taskCreate("app");
        long id = kernel.taskHandles().ref(task.id()).id();
        MachxpException failure = givenUpAfterTheAnswer(c -> task.map("obj"));
        assertThat(failure.code()).isEqualTo(Status.Code.CANCELLED);
        // review rv59 LOW-1: the mapping stayed, counted to the task's 4,096, the object and the peer
        await().atMost(WAIT).until(() -> kernel.<Integer>call(r -> r.complete(kernel.core().task(id).mappingCount())) == 0);
        assertThat(kernel.<Integer>call(r -> r.complete(kernel.core().inspect().mappingsOf("obj")))).isZero();
        assertThat(task.vmMap("obj")).isPositive(); // the task goes on
    }
}
