package io.machxp.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.VmLockFutexReply;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pager and two kernels as separate JVM processes; the pager is killed with SIGKILL while
 * kernel A's thread owns a futex (with a write under it that A has not given back) and a thread
 * on kernel B waits for it. A new pager process starts on the same store and port; A reconnects
 * and reclaims the futex and its page in the grace period, B asks again for the futex; when A's
 * thread unlocks, B gets it, with A's write, no OWNER_DIED and a token of the new epoch.
 */
class PagerProcessRestartTest {
    /**
     * Long enough for a cold JVM to restart the pager within what is left of the kernels' leases
     * (they stop a fifth early) on a loaded machine: 10 s was not, once (a restart of over 8 s in CI
     * beside other JVMs; 1.2-2.7 s is usual). The restarted pager's grace is as long: B's grant
     * comes about a lease after the kill. Even 20 s was lost once (a restart of over 16 s under
     * load): a restart too slow for the kernels' lease now fails saying so ({@link #slowRestart}),
     * not as a reclaim that went wrong.
     */
    private static final long LEASE_MILLIS = 20_000;
    @TempDir
    Path store;
    private MachxpProcess pager;
    private MachxpProcess kernelA;
    private MachxpProcess kernelB;

    @AfterEach
    void stop() throws InterruptedException {
        MachxpProcess.closeAll(kernelA, kernelB, pager);
    }

    private MachxpProcess startPager(int port) throws Exception {
        MachxpProcess p = MachxpProcess.start("pager", "pager", "--port", String.valueOf(port), "--object", "obj=16k",
                "--store", store.toString(), "--lease-ms", String.valueOf(LEASE_MILLIS));
        assertThat(p.port()).isEqualTo(port);
        return p;
    }

    /**
     * Why the test could not check a reclaim: the pager's JVM restarted too late for A's kernel,
     * which stops counting on its lease 0.8 of it after the send of its last keepalive answered (at
     * least 0.675 of it after the kill). The host was too loaded for this test's lease; the remedy
     * is a longer {@link #LEASE_MILLIS}, not a change to the reclaim.
     */
    private static String slowRestart(long restartedMillis, String what) {
        return String.format("the killed pager's JVM took %d ms to restart and listen, and the kernels keep a lease "
                + "of %d ms for 0.675 to 0.8 of it after the kill: %s before it could reclaim (a loaded host, not a "
                + "reclaim bug; see LEASE_MILLIS)", restartedMillis, LEASE_MILLIS, what);
    }

    @Test
    void kernelsReclaimWhatTheyHeldFromARestartedPagerAndNothingIsLostOrGivenTwice() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        pager = startPager(port);
        String pagerTarget = "127.0.0.1:" + port;
        kernelA = MachxpProcess.start("kernel A", "kernel", "--name", "A", "--pager", pagerTarget, "--port", "0");
        kernelB = MachxpProcess.start("kernel B", "kernel", "--name", "B", "--pager", pagerTarget, "--port", "0");

        try (KernelClient a = KernelClient.connect("127.0.0.1:" + kernelA.port());
                KernelClient b = KernelClient.connect("127.0.0.1:" + kernelB.port())) {
            TaskClient taskA = a.taskCreate("holder");
            long baseA = taskA.vmMap("obj");
            ThreadClient holder = taskA.threadCreate();
            VmLockFutexReply held = holder.lock(baseA, null);
            taskA.writeLong(baseA + 8, 7); // dirty in A's cache: the pager's store never had it

            TaskClient taskB = b.taskCreate("waiter");
            long baseB = taskB.vmMap("obj");
            ThreadClient waiter = taskB.threadCreate();
            assertThat(waiter.tryLockFutex(baseB)).as("A holds it").isFalse();
            CompletableFuture<VmLockFutexReply> waiting = CompletableFuture.supplyAsync(() -> waiter.lock(baseB, null));

            pager.kill();
            long killed = System.nanoTime();
            pager = startPager(port);
            long restartedMillis = (System.nanoTime() - killed) / 1_000_000;
            if (restartedMillis >= LEASE_MILLIS * 4 / 5) {
                throw new AssertionError(slowRestart(restartedMillis, "A's kernel has given up its lease"));
            }

            // A's thread still owns the futex across the restart (its kernel kept it) and unlocks it.
            VmLockFutexReply got;
            try {
                assertThat(taskA.readLong(baseA + 8)).isEqualTo(7);
                holder.unlockFutex(baseA);
                got = waiting.get(60, TimeUnit.SECONDS);
            } catch (AssertionError | RuntimeException | ExecutionException e) {
                if (restartedMillis * 1000 >= LEASE_MILLIS * 675) {
                    throw new AssertionError(slowRestart(restartedMillis, "A's kernel may have given up its lease"), e);
                }
                throw e;
            }
            long handedOnMillis = (System.nanoTime() - killed) / 1_000_000;

            assertThat(got.getOwnerDied()).as("nobody died").isFalse();
            assertThat(got.getPath()).isEqualTo(AcquirePath.PAGER_GRANT);
            assertThat(got.getFencingToken()).as("a token of the new pager's epoch")
                    .isGreaterThan(held.getFencingToken());
            assertThat(got.getFencingToken() >>> 32).isGreaterThan(held.getFencingToken() >>> 32);
            assertThat(taskB.readLong(baseB + 8)).as("A's write, reclaimed with its page").isEqualTo(7);
            waiter.unlockFutex(baseB);
            assertThat(holder.lock(baseA, Duration.ofSeconds(30)).getOwnerDied()).isFalse();
            System.out.printf("pager killed: restarted in %d ms; A reclaimed, B got the futex %d ms after the kill "
                    + "(grace %d ms)%n", restartedMillis, handedOnMillis, LEASE_MILLIS);
        }
        assertThat(pager.output()).contains("restarted")
                .containsPattern("kernel A reconnected \\(id \\d+\\) and reclaimed 1 futexes");
        assertThat(kernelA.output()).contains("reconnected to pager");
    }
}
