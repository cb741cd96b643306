package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.kernel.core.KernelException;
import io.machxp.proto.admin.FutexStatus;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.task.VmLockFutexReply;
import io.machxp.proto.threads.OwnThreads;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * docs/multi-pager.md over real gRPC: a pager that crashes, or is lost for good, stalls only the
 * objects it serves. Pager 0 (the primary) serves "zero", pager 1 "one"; kernels A and B use both.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SecondaryPagerLossOverGrpcTest {
    /**
     * Pager 0's lease: a minute. Kernels' sessions with it must only go on (it is never waited
     * out), and on a loaded machine a kernel's keepalives can pause for a second or more.
     */
    private static final Duration PRIMARY_LEASE = Duration.ofMinutes(1);
    /** Pager 1's lease where a test waits it out: short, but a pause of over 2 s would end it early. */
    private static final Duration LEASE = Duration.ofSeconds(3);
    /**
     * Pager 1's lease where it restarts within it: long, so that the restart, the kernels' reconnects
     * (every twentieth of the lease) and their reclaims stay inside it on a loaded machine. Not a
     * minute: the restarted pager holds a grace period as long, and the test waits it out.
     */
    private static final Duration RESTART_LEASE = Duration.ofSeconds(10);

    /**
     * Pager 1 crashes and stays down: once kernel A's lease with it runs out, what waits on "one"
     * fails with EIO - and nothing else. A's session with pager 0 goes on: a futex of "zero" that
     * A's thread holds is still A's (kernel B waits for its unlock, and gets it without
     * OWNER_DIED), A's thread takes it again on the fast path, and A's writes reach B.
     */
    @Test
    void aSecondaryPagerLostForGoodFailsOnlyItsObjects() throws Exception {
        try (TwoPagers cluster = TwoPagers.start(2, PRIMARY_LEASE, LEASE);
                KernelClient kernelB = KernelClient.connect(cluster.kernelTargets().get(1))) {
            Kernel a = cluster.kernel(0);
            LocalTask ta = a.taskCreate("a");
            long zero = ta.vmMap(TwoPagers.ZERO);
            long one = ta.vmMap(TwoPagers.ONE);
            LocalThread t1 = ta.threadCreate();
            LocalThread t2 = ta.threadCreate();
            t1.lockFutex(zero);
            t1.lockFutex(one);
            TaskClient tb = kernelB.taskCreate("b");
            long zeroAtB = tb.vmMap(TwoPagers.ZERO);
            ThreadClient u = tb.threadCreate();

            CompletableFuture<Throwable> waitsForOne = OwnThreads.supply("lock-futex", () -> {
                try {
                    t2.lockFutex(one);
                    return null;
                } catch (KernelException e) {
                    return e;
                }
            });
            cluster.crashPagerOne();
            assertThat(waitsForOne.get(30, TimeUnit.SECONDS)).as("a lock of pager 1's futex, once its lease ran out")
                    .isInstanceOfSatisfying(KernelException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EIO));

            // Pager 0's futex, held by t1 all along, is still A's: B waits for t1's unlock.
            CompletableFuture<VmLockFutexReply> bLocks = OwnThreads.supply("lock-futex", () -> u.lock(zeroAtB, null));
            await().atMost(Duration.ofSeconds(20)).until(() -> waitersAtPagerZero(cluster) == 1);
            ta.vmWrite(zero + 64, "after".getBytes(StandardCharsets.UTF_8));
            t1.unlockFutex(zero);
            VmLockFutexReply got = bLocks.get(20, TimeUnit.SECONDS);
            assertThat(got.getOwnerDied()).as("A's thread never died: its unlock passed the futex on").isFalse();
            assertThat(new String(tb.vmRead(zeroAtB + 64, 5), StandardCharsets.UTF_8)).isEqualTo("after");
            u.unlockFutex(zeroAtB);

            // A goes on with pager 0's futex (cached again once B gives it up), in the same session.
            assertThat(t1.lockFutex(zero)).isIn(AcquirePath.PAGER_GRANT, AcquirePath.FAST_PATH);
            t1.unlockFutex(zero);
            assertThat(t1.lockFutex(zero)).as("cached: the fast path").isEqualTo(AcquirePath.FAST_PATH);
            t1.unlockFutex(zero);
            assertThat(a.sessionsOpened()).isEqualTo(1);
        }
    }

    /**
     * Pager 1 crashes and comes back within the lease: kernels A and B reclaim from it what they
     * hold of "one" (A's thread still owns its futex there and unlocks it afterwards), while
     * "zero" passes between A and B all along, and its cached futex takes the fast path at A. No
     * kernel opens a new session.
     */
    @Test
    void aSecondaryPagerRestartedWithinTheLeaseIsReclaimedWhileThePrimarysObjectsGoOn() throws Exception {
        try (TwoPagers cluster = TwoPagers.start(2, PRIMARY_LEASE, RESTART_LEASE);
                KernelClient kernelB = KernelClient.connect(cluster.kernelTargets().get(1))) {
            Kernel a = cluster.kernel(0);
            LocalTask ta = a.taskCreate("a");
            long zero = ta.vmMap(TwoPagers.ZERO);
            long one = ta.vmMap(TwoPagers.ONE);
            LocalThread t1 = ta.threadCreate();
            t1.lockFutex(zero);
            t1.unlockFutex(zero);
            t1.lockFutex(one);
            ta.vmWrite(one + 64, "kept".getBytes(StandardCharsets.UTF_8));
            TaskClient tb = kernelB.taskCreate("b");
            long zeroAtB = tb.vmMap(TwoPagers.ZERO);
            long oneAtB = tb.vmMap(TwoPagers.ONE);
            ThreadClient u = tb.threadCreate();

            cluster.crashPagerOne();
            // While pager 1 is down: "zero" goes to B and back through pager 0, and is cached at A again.
            assertThat(u.lockFutex(zeroAtB)).isEqualTo(AcquirePath.PAGER_GRANT);
            tb.vmWrite(zeroAtB + 64, "from B".getBytes(StandardCharsets.UTF_8));
            u.unlockFutex(zeroAtB);
            assertThat(t1.lockFutex(zero)).isEqualTo(AcquirePath.PAGER_GRANT);
            assertThat(new String(ta.vmRead(zero + 64, 6), StandardCharsets.UTF_8)).isEqualTo("from B");
            t1.unlockFutex(zero);
            assertThat(t1.lockFutex(zero)).isEqualTo(AcquirePath.FAST_PATH);
            t1.unlockFutex(zero);

            cluster.restartPagerOne();
            // B waits for "one", which A reclaimed (its holder's unlock passes it on, no OWNER_DIED):
            // B's lock is held until the restarted pager's grace period (a lease) is over.
            CompletableFuture<VmLockFutexReply> bLocks = OwnThreads.supply("lock-futex", () -> u.lock(oneAtB, null));
            await().atMost(RESTART_LEASE.plusSeconds(20)).until(() -> cluster.pager(1).status().getFutexesList().stream()
                    .anyMatch(f -> f.getObject().equals(TwoPagers.ONE) && f.getHolder().equals("A")
                            && f.getWaitersCount() == 1));
            t1.unlockFutex(one);
            VmLockFutexReply got = bLocks.get(20, TimeUnit.SECONDS);
            assertThat(got.getOwnerDied()).isFalse();
            assertThat(new String(tb.vmRead(oneAtB + 64, 4), StandardCharsets.UTF_8)).isEqualTo("kept");
            u.unlockFutex(oneAtB);
            assertThat(a.sessionsOpened()).isEqualTo(1);
            assertThat(cluster.kernel(1).sessionsOpened()).isEqualTo(1);
        }
    }

    /**
     * Pager 1 crashes, kernel A's lease with it runs out, and the pager comes back (past A's lease:
     * it takes no reclaim from A). A opens a new session with it by itself, in the same kernel
     * session with pager 0: the mapping of "one" made before stays failed (its futex went on with
     * OWNER_DIED, the write A never returned is gone, and nothing pretends otherwise), and a new
     * vm_map of "one" maps it again, its futex handed on with OWNER_DIED. Before, "one" failed with
     * EIO at A until A was restarted.
     */
    @Test
    void aKernelOpensANewSessionWithASecondaryPagerBackAfterItsLease() throws Exception {
        try (TwoPagers cluster = TwoPagers.start(1, PRIMARY_LEASE, LEASE)) {
            Kernel a = cluster.kernel(0);
            LocalTask ta = a.taskCreate("a");
            long zero = ta.vmMap(TwoPagers.ZERO);
            long one = ta.vmMap(TwoPagers.ONE);
            LocalThread t1 = ta.threadCreate();
            LocalThread t2 = ta.threadCreate();
            t1.lockFutex(one);
            ta.vmWrite(one + 64, "never returned".getBytes(StandardCharsets.UTF_8));

            cluster.crashPagerOne();
            // Once A's lease with pager 1 ran out, its copy of the page is neither read nor written:
            // before, both went on, and the writes were acknowledged and could never go back.
            await().atMost(Duration.ofSeconds(20)).until(() -> failsWithEio(() -> ta.vmRead(one + 64, 5)));
            assertThat(failsWithEio(() -> ta.vmWrite(one + 64, "lost".getBytes(StandardCharsets.UTF_8)))).isTrue();
            cluster.restartPagerOne();
            long again = await().atMost(Duration.ofSeconds(30)).until(() -> mapOrZero(ta, TwoPagers.ONE), at -> at != 0);

            assertThat(again).as("a new mapping, not the old one").isNotEqualTo(one);
            assertThat(t2.lock(again, null).ownerDied()).as("EOWNERDEAD: t1 held it when A lost pager 1").isTrue();
            int word = java.nio.ByteBuffer.wrap(ta.vmRead(again, 4)).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
            assertThat(word).as("t1's futex, held when A lost pager 1, went on with OWNER_DIED")
                    .isEqualTo(t2.tid() | 0x40000000);
            assertThat(new String(ta.vmRead(again + 64, 5), StandardCharsets.UTF_8)).isNotEqualTo("never");
            ta.vmWrite(again + 64, "after".getBytes(StandardCharsets.UTF_8));
            assertThat(new String(ta.vmRead(again + 64, 5), StandardCharsets.UTF_8)).isEqualTo("after");

            // The old mapping says what happened and what to do, and stays failed.
            KernelException old = org.junit.jupiter.api.Assertions.assertThrows(KernelException.class,
                    () -> ta.vmRead(one + 64, 5));
            assertThat(old.errno()).isEqualTo(Errno.EIO);
            assertThat(old.getMessage()).contains("vm_map the object again");
            KernelException unlock = org.junit.jupiter.api.Assertions.assertThrows(KernelException.class,
                    () -> t1.unlockFutex(one));
            assertThat(unlock.errno()).isEqualTo(Errno.EIO);

            // Pager 0's object and the kernel's one session went on all along.
            t1.lockFutex(zero);
            t1.unlockFutex(zero);
            assertThat(a.sessionsOpened()).isEqualTo(1);
            t2.unlockFutex(again);
        }
    }

    private static boolean failsWithEio(Runnable call) {
        try {
            call.run();
            return false;
        } catch (KernelException e) {
            return e.errno() == Errno.EIO;
        }
    }

    /** The address of a new mapping of {@code object}, or 0 while the kernel has no session with its pager. */
    private static long mapOrZero(LocalTask task, String object) {
        try {
            return task.vmMap(object);
        } catch (KernelException e) {
            assertThat(e.errno()).as(e.getMessage()).isEqualTo(Errno.EIO);
            return 0;
        }
    }

    private static int waitersAtPagerZero(TwoPagers cluster) {
        return cluster.pager(0).status().getFutexesList().stream()
                .filter(f -> f.getObject().equals(TwoPagers.ZERO) && f.getOffset() == 0)
                .mapToInt(FutexStatus::getWaitersCount).sum();
    }
}
