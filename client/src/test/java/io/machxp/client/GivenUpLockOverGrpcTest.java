package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.proto.transport.Transport;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A lock over gRPC whose caller gives up (here: its Java thread is interrupted) while the
 * kernel's grant is on its way: the kernel answered a call it did not know was cancelled, so it
 * cannot undo the grant; the client library does (task.proto: vm_unlock_futex with
 * abandoned_lock). Made deterministic with a proxy that holds what the client sends (its cancel,
 * then the undo) until the kernel has answered.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GivenUpLockOverGrpcTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** An HTTP/2 RST_STREAM frame: the cancel; anything the client sends beyond it is the undo. */
    private static final int RST_STREAM_FRAME = 13;
    private final EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 64L * 1024));
    private final HoldingProxy proxy = new HoldingProxy(cluster.kernelTargets().get(0));
    private final KernelClient client = KernelClient.connect(proxy.target(), Transport.LOOPBACK_PLAINTEXT, null,
            KernelClient.Memory.GRPC_ONLY);

    GivenUpLockOverGrpcTest() throws Exception {}

    @AfterEach
    void close() throws Exception {
        client.close();
        proxy.close();
        cluster.close();
    }

    @Test
    void aLockGivenUpAsItIsGrantedLeavesTheFutexFree() throws Exception {
        GaveUp g = giveUpAsGranted(LocalThread::unlockFutex);
        assertThat(FutexWord.word(g.futex().state())).as("free: nobody holds it for the caller that gave up").isZero();
        assertThat(g.task().threadCreate().lock(g.base(), null).getOwnerDied()).isFalse();
    }

    @Test
    void aLockGivenUpAsItIsGrantedWithOwnerDiedPassesTheDeathOn() throws Exception {
        GaveUp g = giveUpAsGranted((owner, address) -> owner.terminate());
        assertThat(FutexWord.word(g.futex().state())).as("free with OWNER_DIED, as the death left it; not NOT_RECOVERABLE; "
                + "WAITERS stays, as Linux's robust-list walk leaves it: the caller had waited")
                .isEqualTo(FutexWord.OWNER_DIED | FutexWord.WAITERS);
        assertThat(g.task().threadCreate().lock(g.base(), null).getOwnerDied()).as("the next owner hears EOWNERDEAD")
                .isTrue();
    }

    /**
     * thread_create's undoes_abandoned_locks gates the undo: a client of a kernel that does not say
     * it (an older kernel, which would take abandoned_lock_seq as a plain unlock) sends no lock_seq
     * and no undo, so a lock given up as it is granted stays the thread's, as before the undo.
     */
    @Test
    void withAKernelThatDoesNotUndoGivenUpLocksTheClientSendsNoUndo() throws Exception {
        GaveUp g = giveUpAsGranted(LocalThread::unlockFutex,
                task -> new ThreadClient(client, task.id(), task.threadCreate().tid(), false));
        assertThat(FutexWord.owner(g.futex().state())).as("no undo was sent: still the thread's").isEqualTo(g.tid());
        Kernel kernel = cluster.kernel(0);
        long taskId = kernel.taskHandles().taskId(g.task().id()); // the client's id is the task's handle
        io.machxp.kernel.task.MachThread t = kernel.<io.machxp.kernel.task.MachThread>call(
                r -> r.complete(kernel.core().task(taskId).thread(g.tid())));
        assertThat(t.grants.of(g.base()).lockSeq()).as("the lock carried no lock_seq").isZero();
        assertThat(t.abandonedLockSeq).as("no abandoned_lock_seq came").isZero();
    }

    private GaveUp giveUpAsGranted(LetGo letGo) throws Exception {
        return giveUpAsGranted(letGo, TaskClient::threadCreate);
    }

    /**
     * A local thread holds the futex; a thread over gRPC waits for it; its caller gives up while
     * the proxy holds what the client sends; the local owner lets go ({@code letGo}: unlock or
     * death) and the kernel answers the grant; then the proxy passes the cancel and the undo on.
     */
    private GaveUp giveUpAsGranted(LetGo letGo, java.util.function.Function<TaskClient, ThreadClient> threads)
            throws Exception {
        Kernel kernel = cluster.kernel(0);
        LocalTask local = kernel.taskCreate("local");
        long localBase = local.vmMap("obj");
        LocalThread owner = local.threadCreate();
        owner.lockFutex(localBase);
        FutexEntry futex = kernel.<FutexEntry>call(r -> r.complete(kernel.core().inspect().futexAt(local.id(), localBase)));

        TaskClient task = client.taskCreate("remote");
        long base = task.vmMap("obj");
        ThreadClient thread = threads.apply(task);
        AtomicReference<MachxpException> failed = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                thread.lockFutex(base);
            } catch (MachxpException e) {
                failed.set(e);
            }
        });
        caller.start();
        await().atMost(WAIT).until(() -> FutexWord.hasWaiters(futex.state()));

        proxy.hold();
        caller.interrupt(); // the caller gives up; the kernel does not hear of it yet
        // the lock failed at the client and its undo was sent (held), or, without the undo, the caller is done
        await().atMost(WAIT).until(() -> proxy.heldBytes() > RST_STREAM_FRAME || !caller.isAlive());
        letGo.letGo(owner, localBase);
        await().atMost(WAIT).until(() -> FutexWord.owner(futex.state()) == thread.tid());
        kernel.<Void>call(r -> r.complete(null)); // the core turn that granted it, and answered, is over
        proxy.release();

        caller.join(WAIT.toMillis());
        assertThat(caller.isAlive()).isFalse();
        assertThat(failed.get()).as("the lock failed for its caller").isNotNull();
        assertThat(failed.get().code()).isEqualTo(Status.Code.CANCELLED);
        return new GaveUp(futex, task, base, thread.tid());
    }

    private record GaveUp(FutexEntry futex, TaskClient task, long base, int tid) {}

    private interface LetGo {
        void letGo(LocalThread owner, long address);
    }
}
