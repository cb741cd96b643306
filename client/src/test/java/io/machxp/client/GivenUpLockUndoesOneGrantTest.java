package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.StatusRuntimeException;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.net.MachTaskService;
import io.machxp.proto.task.Errno;
import io.machxp.proto.task.VmLockFutexReply;
import io.machxp.proto.task.VmLockFutexRequest;
import io.machxp.proto.task.VmUnlockFutexReply;
import io.machxp.proto.task.VmUnlockFutexRequest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An undo of a lock its caller gave up on undoes that lock's grant and nothing else (task.proto
 * lock_seq, abandoned_lock_seq): the kernel's own queued undo of a grant that met a cancelled call
 * does not release the futex the thread's retry was granted after the client's undo (shmfixa
 * review A), and an interrupted re-lock of a held futex does not give the held one up (B). A
 * lock that arrives after its undo is refused; the never released abandoned_lock alone is refused.
 * The core is held by work the test queues, so every order is fixed; no sleeps.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GivenUpLockUndoesOneGrantTest {
    private EmbeddedCluster cluster;
    private Kernel kernel;
    private LocalTask task;
    private long handle;
    private MachTaskService service;

    private void start() throws Exception {
        cluster = EmbeddedCluster.start(1, true, Map.of("obj", 64L * 1024));
        kernel = cluster.kernel(0);
        task = kernel.taskCreate("app");
        handle = kernel.taskHandles().issue(task.id());
        service = new MachTaskService(kernel);
    }

    @AfterEach
    void close() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Lock 1 is granted by the event-loop fast path to a call already cancelled (the call-file shape). */
    @Test
    void theKernelsQueuedUndoOfAFastGrantLeavesTheRetryItsFutex() throws Exception {
        start();
        long base = task.vmMap("obj");
        LocalThread owner = task.threadCreate();
        LocalThread caller = task.threadCreate();
        owner.lockFutex(base); // cached here, then free: the fast path can take it
        owner.unlockFutex(base);
        CountDownLatch release = new CountDownLatch(1);
        holdCore(release);
        CancelledServerCall<VmLockFutexReply> retry = new CancelledServerCall<>();
        CancelledServerCall<VmUnlockFutexReply> undo = new CancelledServerCall<>();
        try {
            service.vmLockFutex(lock(caller, base, 1), CancelledServerCall.givenUp()); // granted, then undone by the kernel
            service.vmUnlockFutex(abandoned(caller, base, 1), undo); // the client library's undo
            service.vmLockFutex(lock(caller, base, 2), retry); // the application's retry
        } finally {
            release.countDown();
        }
        drainCore();
        assertThat(retry.answers()).as("the retry is granted").hasSize(1);
        assertThat(owner(base)).as("the retry was answered granted: its thread still owns the futex").isEqualTo(caller.tid());
        assertThat(undo.answers()).as("the kernel undid lock 1 first: the client's undo found nothing").isEmpty();
        assertThat(errno(undo.errors())).isEqualTo(Errno.EPERM);
    }

    /** Lock 1 waits on the core (a word not yet resident), its caller gives up, and the core grants it. */
    @Test
    void theKernelsQueuedUndoOfACoreGrantLeavesTheRetryItsFutex() throws Exception {
        start();
        long base = task.vmMap("obj") + 64; // not resident yet: the fast path cannot take it
        LocalThread caller = task.threadCreate();
        CountDownLatch release1 = new CountDownLatch(1);
        holdCore(release1);
        CancelledServerCall<VmLockFutexReply> lock1 = new CancelledServerCall<>();
        service.vmLockFutex(lock(caller, base, 1), lock1);
        lock1.cancelled = true; // the cancel is read while lock 1 is queued on the core
        // other work: it runs until the core has granted lock 1 (the kernel's undo is queued behind it), then holds the core
        CountDownLatch granted = new CountDownLatch(1);
        CountDownLatch release2 = new CountDownLatch(1);
        Runnable[] other = new Runnable[1];
        other[0] = () -> {
            FutexEntry f = kernel.core().task(task.id()).residentFutex(base);
            if (f != null && FutexWord.owner(f.state()) == caller.tid()) {
                granted.countDown();
                awaitQuietly(release2);
            } else {
                kernel.execute(other[0]);
            }
        };
        kernel.execute(other[0]);
        release1.countDown();
        granted.await();
        assertThat(lock1.answers()).as("a cancelled call is not answered").isEmpty();
        CancelledServerCall<VmUnlockFutexReply> undo = new CancelledServerCall<>();
        CancelledServerCall<VmLockFutexReply> retry = new CancelledServerCall<>();
        try {
            service.vmUnlockFutex(abandoned(caller, base, 1), undo);
            service.vmLockFutex(lock(caller, base, 2), retry);
        } finally {
            release2.countDown();
        }
        drainCore();
        assertThat(retry.answers()).as("the retry is granted").hasSize(1);
        assertThat(owner(base)).as("the retry was answered granted: its thread still owns the futex").isEqualTo(caller.tid());
    }

    /** Linux answers a re-lock EDEADLK and keeps the futex held; an interrupt on that re-lock must not release it. */
    @Test
    void anInterruptedRelockOfAHeldFutexKeepsItHeld() throws Exception {
        start();
        try (KernelClient client = KernelClient.connect(cluster.kernelTargets().get(0),
                io.machxp.proto.transport.Transport.LOOPBACK_PLAINTEXT, null, KernelClient.Memory.GRPC_ONLY)) {
            TaskClient remote = client.taskCreate("remote");
            long base = remote.vmMap("obj");
            ThreadClient thread = remote.threadCreate();
            thread.lockFutex(base); // held, answered
            Thread.currentThread().interrupt(); // e.g. Future.cancel(true) of code that re-locks by mistake
            MachxpException failure = null;
            try {
                thread.lockFutex(base);
            } catch (MachxpException e) {
                failure = e;
            } finally {
                Thread.interrupted();
            }
            assertThat(failure).as("the re-lock fails").isNotNull();
            assertThat(failure.getSuppressed()).as("its undo found nothing to undo (EPERM), and did not fail").isEmpty();
            LocalTask peek = kernel.taskCreate("peek");
            long peekBase = peek.vmMap("obj");
            LocalThread other = peek.threadCreate();
            assertThat(other.tryLockFutex(peekBase)).as("the thread still holds it: nobody else may take it").isFalse();
            thread.unlockFutex(base);
            assertThat(other.tryLockFutex(peekBase)).isTrue();
        }
    }

    /** The undo overtakes its lock (another connection): the lock, when it comes, is refused. */
    @Test
    void aLockThatArrivesAfterItsUndoIsRefused() throws Exception {
        start();
        long base = task.vmMap("obj");
        LocalThread caller = task.threadCreate();
        CancelledServerCall<VmUnlockFutexReply> undo = new CancelledServerCall<>();
        service.vmUnlockFutex(abandoned(caller, base, 3), undo);
        drainCore();
        assertThat(errno(undo.errors())).as("nothing to undo yet").isEqualTo(Errno.EPERM);
        CancelledServerCall<VmLockFutexReply> late = new CancelledServerCall<>();
        service.vmLockFutex(lock(caller, base, 3), late);
        drainCore();
        assertThat(late.answers()).isEmpty();
        assertThat(errno(late.errors())).isEqualTo(Errno.EINTR);
        assertThat(owner(base)).as("nobody owns it on the caller's behalf").isZero();
        CancelledServerCall<VmLockFutexReply> next = new CancelledServerCall<>();
        service.vmLockFutex(lock(caller, base, 4), next);
        // Served on the core once the page is here: its first touch may wait for the pager's
        // data, which a drained core queue does not cover.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> !next.answers().isEmpty() || !next.errors().isEmpty());
        assertThat(next.errors()).as("the thread's next lock is not refused").isEmpty();
        assertThat(next.answers()).as("the thread's next lock is served").hasSize(1);
        assertThat(owner(base)).isEqualTo(caller.tid());
    }

    /** The never released abandoned_lock without a lock_seq names no grant: refused, the held futex stays held. */
    @Test
    void abandonedLockWithoutItsSeqChangesNothing() throws Exception {
        start();
        long base = task.vmMap("obj");
        LocalThread caller = task.threadCreate();
        caller.lockFutex(base);
        CancelledServerCall<VmUnlockFutexReply> undo = new CancelledServerCall<>();
        service.vmUnlockFutex(VmUnlockFutexRequest.newBuilder().setTask(handle).setThread(caller.tid()).setAddress(base)
                .setAbandonedLock(true).build(), undo);
        drainCore();
        assertThat(errno(undo.errors())).isEqualTo(Errno.EINVAL);
        assertThat(owner(base)).isEqualTo(caller.tid());
    }

    private VmLockFutexRequest lock(LocalThread thread, long address, long seq) {
        return VmLockFutexRequest.newBuilder().setTask(handle).setThread(thread.tid()).setAddress(address).setLockSeq(seq).build();
    }

    private VmUnlockFutexRequest abandoned(LocalThread thread, long address, long seq) {
        return VmUnlockFutexRequest.newBuilder().setTask(handle).setThread(thread.tid()).setAddress(address)
                .setAbandonedLockSeq(seq).build();
    }

    private int owner(long address) {
        FutexEntry e = kernel.<FutexEntry>call(r -> r.complete(kernel.core().inspect().futexAt(task.id(), address)));
        return e == null ? 0 : FutexWord.owner(e.state());
    }

    /** Queues work that holds the core until {@code release}; returns once it runs. */
    private void holdCore(CountDownLatch release) throws InterruptedException {
        CountDownLatch held = new CountDownLatch(1);
        kernel.execute(() -> {
            held.countDown();
            awaitQuietly(release);
        });
        held.await();
    }

    /** Waits until the core has run what was queued before (twice: what that queued too). */
    private void drainCore() {
        kernel.<Void>call(r -> r.complete(null));
        kernel.<Void>call(r -> r.complete(null));
    }

    private static Errno errno(List<Throwable> errors) {
        assertThat(errors).hasSize(1);
        return MachxpException.from("test", (StatusRuntimeException) errors.get(0)).errno();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
