package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.proto.task.Errno;
import io.machxp.proto.task.VmLockFutexReply;
import io.machxp.proto.threads.OwnThreads;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * docs/multi-pager.md, "Kernel ids and TIDs", "OWNER_DIED ... per pager" and "Priority
 * inheritance and deadlock probes across pagers", over real gRPC: futex "z" in object "zero"
 * (pager 0) and futex "o" in object "one" (pager 1), used from several kernels. Calls that wait
 * run on {@link OwnThreads} (several wait at once; the common pool may have one worker).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FutexesAcrossPagersOverGrpcTest {
    private static final Duration LEASE = Duration.ofSeconds(5);

    /**
     * TIDs carry the primary's kernel id, unique across kernels; a task that dies holding a futex
     * on each pager passes each on with OWNER_DIED (as a robust futex list on Linux does).
     */
    @Test
    void aTaskDyingWithFutexesOnTwoPagersPassesEachOnWithOwnerDied() throws Exception {
        try (TwoPagers cluster = TwoPagers.start(2, LEASE);
                KernelClient kernelB = KernelClient.connect(cluster.kernelTargets().get(1))) {
            Kernel a = cluster.kernel(0);
            LocalTask ta = a.taskCreate("dies");
            long z = ta.vmMap(TwoPagers.ZERO);
            long o = ta.vmMap(TwoPagers.ONE);
            LocalThread t = ta.threadCreate();
            t.lockFutex(z);
            t.lockFutex(o);
            TaskClient tb = kernelB.taskCreate("next");
            ThreadClient u = tb.threadCreate();
            assertThat(t.tid() >>> 20).as("A's TIDs carry its primary's kernel id").isEqualTo(a.kernelId());
            assertThat(u.tid() >>> 20).isEqualTo(cluster.kernel(1).kernelId()).isNotEqualTo(a.kernelId());

            ta.terminate();
            long zAtB = tb.vmMap(TwoPagers.ZERO);
            long oAtB = tb.vmMap(TwoPagers.ONE);
            VmLockFutexReply atZero = u.lock(zAtB, null);
            VmLockFutexReply atOne = u.lock(oAtB, null);
            assertThat(atZero.getOwnerDied()).as("EOWNERDEAD from pager 0").isTrue();
            assertThat(atOne.getOwnerDied()).as("EOWNERDEAD from pager 1").isTrue();
        }
    }

    /**
     * A cycle through two kernels and two pagers: A's thread owns z and waits for o; B's thread
     * owns o and locks z, which closes the cycle. As on Linux (FUTEX_LOCK_PI), the lock that would
     * close it fails with EDEADLK, and the other thread gets o once B's thread lets it go.
     */
    @Test
    void aDeadlockThroughTwoPagersIsRefusedToTheLockThatClosesIt() throws Exception {
        try (TwoPagers cluster = TwoPagers.start(2, LEASE);
                KernelClient kernelB = KernelClient.connect(cluster.kernelTargets().get(1))) {
            LocalTask ta = cluster.kernel(0).taskCreate("a");
            long z = ta.vmMap(TwoPagers.ZERO);
            long o = ta.vmMap(TwoPagers.ONE);
            LocalThread t = ta.threadCreate();
            TaskClient tb = kernelB.taskCreate("b");
            long zAtB = tb.vmMap(TwoPagers.ZERO);
            long oAtB = tb.vmMap(TwoPagers.ONE);
            ThreadClient u = tb.threadCreate();
            t.lockFutex(z);
            u.lockFutex(oAtB);
            CompletableFuture<Void> tWaits = OwnThreads.run("lock-futex", () -> t.lockFutex(o));
            await().atMost(Duration.ofSeconds(20)).until(() -> waiters(cluster, 1, TwoPagers.ONE) == 1);

            MachxpException closing = org.assertj.core.api.Assertions.catchThrowableOfType(
                    () -> u.lockFutex(zAtB), MachxpException.class);
            assertThat(closing).as("B's lock closes the cycle").isNotNull();
            assertThat(closing.errno()).isEqualTo(Errno.EDEADLK);
            assertThat(tWaits).as("A's thread still waits for o").isNotDone();
            u.unlockFutex(oAtB);
            tWaits.get(20, TimeUnit.SECONDS);
            t.unlockFutex(o);
            t.unlockFutex(z);
        }
    }

    /**
     * A cycle that passes each kernel twice: T1 (A) owns z and waits for o; T2 (B) owns o and waits
     * for z2; T3 (A) owns z2 and waits for o2; T4 (B) owns o2 and locks z, which closes it. Linux's
     * FUTEX_LOCK_PI fails that lock with EDEADLK whatever the cycle's length (up to its chain depth
     * of 1,024); the probe here crosses the pagers four times with two kernels.
     */
    @Test
    void aDeadlockPassingEachKernelTwiceIsRefusedToo() throws Exception {
        try (TwoPagers cluster = TwoPagers.start(2, LEASE);
                KernelClient kernelB = KernelClient.connect(cluster.kernelTargets().get(1))) {
            LocalTask ta = cluster.kernel(0).taskCreate("a");
            long z = ta.vmMap(TwoPagers.ZERO);
            long o = ta.vmMap(TwoPagers.ONE);
            LocalThread t1 = ta.threadCreate();
            LocalThread t3 = ta.threadCreate();
            TaskClient tb = kernelB.taskCreate("b");
            long zAtB = tb.vmMap(TwoPagers.ZERO);
            long oAtB = tb.vmMap(TwoPagers.ONE);
            ThreadClient t2 = tb.threadCreate();
            ThreadClient t4 = tb.threadCreate();
            long second = 4096; // another futex of each object, on its own page
            t1.lockFutex(z);
            t3.lockFutex(z + second);
            t2.lockFutex(oAtB);
            t4.lockFutex(oAtB + second);
            CompletableFuture<Void> w1 = OwnThreads.run("lock-futex", () -> t1.lockFutex(o));
            await().atMost(Duration.ofSeconds(20)).until(() -> waiters(cluster, 1, TwoPagers.ONE) == 1);
            CompletableFuture<Void> w2 = OwnThreads.run("lock-futex", () -> t2.lockFutex(zAtB + second));
            await().atMost(Duration.ofSeconds(20)).until(() -> waiters(cluster, 0, TwoPagers.ZERO, second) == 1);
            CompletableFuture<Void> w3 = OwnThreads.run("lock-futex", () -> t3.lockFutex(o + second));
            await().atMost(Duration.ofSeconds(20)).until(() -> waiters(cluster, 1, TwoPagers.ONE, second) == 1);

            CompletableFuture<Throwable> closing = OwnThreads.supply("lock-futex", () -> {
                try {
                    t4.lockFutex(zAtB);
                    return null;
                } catch (MachxpException e) {
                    return e;
                }
            });
            assertThat(closing.get(20, TimeUnit.SECONDS)).as("T4's lock closes the cycle")
                    .isInstanceOfSatisfying(MachxpException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EDEADLK));
            t4.unlockFutex(oAtB + second);
            w3.get(20, TimeUnit.SECONDS);
            t3.unlockFutex(o + second);
            t3.unlockFutex(z + second);
            w2.get(20, TimeUnit.SECONDS);
            t2.unlockFutex(zAtB + second);
            t2.unlockFutex(oAtB);
            w1.get(20, TimeUnit.SECONDS);
        }
    }

    /**
     * A chain of owners across three kernels and both pagers: L on A (priority 10) owns z; M on B
     * (20) owns o and waits for z; H on C (90) locks o. H's priority reaches M through pager 1, and
     * M's boosted wait reaches L through pager 0: L runs at 90, as on Linux's PI chain.
     */
    @Test
    void aPriorityChainCrossesBothPagers() throws Exception {
        try (TwoPagers cluster = TwoPagers.start(3, LEASE);
                KernelClient kernelA = KernelClient.connect(cluster.kernelTargets().get(0));
                KernelClient kernelB = KernelClient.connect(cluster.kernelTargets().get(1));
                KernelClient kernelC = KernelClient.connect(cluster.kernelTargets().get(2))) {
            TaskClient ta = kernelA.taskCreate("a");
            TaskClient tb = kernelB.taskCreate("b");
            TaskClient tc = kernelC.taskCreate("c");
            ThreadClient low = ta.threadCreate(10);
            ThreadClient mid = tb.threadCreate(20);
            ThreadClient high = tc.threadCreate(90);
            long zAtA = ta.vmMap(TwoPagers.ZERO);
            long zAtB = tb.vmMap(TwoPagers.ZERO);
            long oAtB = tb.vmMap(TwoPagers.ONE);
            long oAtC = tc.vmMap(TwoPagers.ONE);
            low.lockFutex(zAtA);
            mid.lockFutex(oAtB);
            CompletableFuture<?> midWaits = OwnThreads.run("lock-futex", () -> mid.lockFutex(zAtB));
            await().atMost(Duration.ofSeconds(20)).until(() -> waiters(cluster, 0, TwoPagers.ZERO) == 1);
            CompletableFuture<?> highWaits = OwnThreads.run("lock-futex", () -> high.lockFutex(oAtC));

            await().atMost(Duration.ofSeconds(20)).until(() -> priority(cluster.kernel(1), mid.tid()) == 90);
            await().atMost(Duration.ofSeconds(20)).until(() -> priority(cluster.kernel(0), low.tid()) == 90);

            low.unlockFutex(zAtA);
            midWaits.get(20, TimeUnit.SECONDS);
            assertThat(priority(cluster.kernel(0), low.tid())).as("L's boost ends with its futex").isEqualTo(10);
            mid.unlockFutex(zAtB);
            mid.unlockFutex(oAtB);
            highWaits.get(20, TimeUnit.SECONDS);
        }
    }

    private static int waiters(TwoPagers cluster, int pager, String object) {
        return waiters(cluster, pager, object, 0);
    }

    private static int waiters(TwoPagers cluster, int pager, String object, long offset) {
        return cluster.pager(pager).status().getFutexesList().stream()
                .filter(f -> f.getObject().equals(object) && f.getOffset() == offset)
                .mapToInt(io.machxp.proto.admin.FutexStatus::getWaitersCount).sum();
    }

    /** The effective priority of thread {@code tid} of {@code kernel}, read on its core thread. */
    private static int priority(Kernel kernel, int tid) {
        return kernel.<Integer>call(r -> r.complete(kernel.core().inspect().threads().stream().filter(th -> th.tid == tid)
                .mapToInt(th -> th.effectivePriority).findFirst().orElse(-1)));
    }
}
