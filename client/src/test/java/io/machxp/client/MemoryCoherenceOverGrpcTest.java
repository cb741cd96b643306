package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.proto.task.Errno;
import io.machxp.proto.task.WordSize;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Coherent memory across kernels over loopback gRPC: vm_read, vm_write, atomics, futex words. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MemoryCoherenceOverGrpcTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final int PAGE = 4096;
    private final ClusterFixture c;

    MemoryCoherenceOverGrpcTest() throws Exception {
        c = new ClusterFixture(3);
    }

    @AfterEach
    void close() {
        c.close();
    }

    /** A read that starts after a write returned, on any kernel, sees it. */
    @Test
    void readsSeeTheLatestWriteFromAnyKernel() {
        for (int i = 1; i <= 60; i++) {
            int writer = i % 3;
            c.tasks.get(writer).writeLong(c.base[writer] + 128, i);
            for (int reader = 0; reader < 3; reader++) {
                assertThat(c.tasks.get(reader).readLong(c.base[reader] + 128))
                        .as("round %d, written on %d, read on %d", i, writer, reader).isEqualTo(i);
            }
        }
    }

    /** Readers share read-only copies: once each has one, reading costs no message. */
    @Test
    void concurrentReadersDoNotPingPong() {
        c.tasks.get(0).writeLong(c.base[0] + PAGE, 77);
        for (int k = 0; k < 3; k++) {
            assertThat(c.tasks.get(k).readLong(c.base[k] + PAGE)).isEqualTo(77);
        }
        long before = c.pagerMessages();
        for (int i = 0; i < 100; i++) {
            for (int k = 0; k < 3; k++) {
                assertThat(c.tasks.get(k).readLong(c.base[k] + PAGE)).isEqualTo(77);
            }
        }
        assertThat(c.pagerMessages() - before).isZero();
        // A write takes the page from both other readers; they read the new value afterwards.
        c.tasks.get(1).writeLong(c.base[1] + PAGE, 78);
        assertThat(c.tasks.get(0).readLong(c.base[0] + PAGE)).isEqualTo(78);
        assertThat(c.tasks.get(2).readLong(c.base[2] + PAGE)).isEqualTo(78);
    }

    /** vm_fetch_add from three kernels at once loses nothing. */
    @Test
    void atomicsFromSeveralKernelsLoseNothing() throws Exception {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            int kernel = k;
            all.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 200; i++) {
                    c.tasks.get(kernel).fetchAdd(c.base[kernel] + 2 * PAGE, WordSize.WORD64, 1);
                }
            }, c.pool));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(c.tasks.get(0).readLong(c.base[0] + 2 * PAGE)).isEqualTo(600);
        var cas = c.tasks.get(2).compareAndSwap(c.base[2] + 2 * PAGE, WordSize.WORD64, 600, 1);
        assertThat(cas.getSwapped()).isTrue();
        assertThat(c.tasks.get(1).readLong(c.base[1] + 2 * PAGE)).isEqualTo(1);
    }

    /**
     * The futex word is in the page: any kernel reads the owner's TID while it is held, WAITERS
     * once another kernel waits and after the handoff to it, and 0 when it is free.
     */
    @Test
    void theFutexWordReadsTheSameOnEveryKernel() throws Exception {
        long offset = 3 * PAGE + 16;
        ThreadClient a = c.thread(0);
        ThreadClient b = c.thread(1);
        a.lockFutex(c.base[0] + offset);
        for (int k = 0; k < 3; k++) {
            assertThat(c.tasks.get(k).readInt(c.base[k] + offset)).as("kernel %d", k).isEqualTo(a.tid());
        }
        CompletableFuture<?> bLocks = CompletableFuture.runAsync(() -> b.lockFutex(c.base[1] + offset), c.pool);
        await().atMost(WAIT).until(() -> c.tasks.get(2).readInt(c.base[2] + offset) == (a.tid() | FutexWord.WAITERS));
        assertThat(bLocks).isNotDone();
        a.unlockFutex(c.base[0] + offset);
        bLocks.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(c.tasks.get(0).readInt(c.base[0] + offset)).as("handed over: WAITERS, as Linux's handoff")
                .isEqualTo(b.tid() | FutexWord.WAITERS);
        b.unlockFutex(c.base[1] + offset);
        for (int k = 0; k < 3; k++) {
            assertThat(c.tasks.get(k).readInt(c.base[k] + offset)).as("free, kernel %d", k).isZero();
        }
        // Kernel B still caches it: locking there again is local.
        assertThat(b.lockFutex(c.base[1] + offset)).isNotNull();
        b.unlockFutex(c.base[1] + offset);
    }

    /** A counter incremented under a futex with vm_read/vm_write from three kernels ends exact. */
    @Test
    void noLostUpdatesUnderTheFutex() throws Exception {
        long futex = 64;
        long counter = 72;
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            for (int t = 0; t < 2; t++) {
                int kernel = k;
                ThreadClient thread = c.thread(kernel);
                TaskClient task = c.tasks.get(kernel);
                all.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < 100; i++) {
                        thread.lockFutex(c.base[kernel] + futex);
                        long v = task.readLong(c.base[kernel] + counter);
                        task.writeLong(c.base[kernel] + counter, v + 1);
                        thread.unlockFutex(c.base[kernel] + futex);
                    }
                }, c.pool));
            }
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        for (int k = 0; k < 3; k++) {
            assertThat(c.tasks.get(k).readLong(c.base[k] + counter)).isEqualTo(600);
        }
    }

    /** A kernel that shuts down returns its dirty pages first. */
    @Test
    void aKernelThatShutsDownReturnsItsDirtyPages() {
        c.tasks.get(0).writeLong(c.base[0] + 8, 4242);
        c.kernel(0).close();
        assertThat(c.tasks.get(1).readLong(c.base[1] + 8)).isEqualTo(4242);
    }

    /**
     * A kernel that dies loses only the writes it had not given back: a page another kernel read
     * since keeps them, a page only it held reverts to the pager's last copy.
     */
    @Test
    void aKernelThatDiesLosesOnlyItsUnreturnedWrites() {
        c.tasks.get(1).writeLong(c.base[1] + 2 * PAGE, 1);  // reaches the pager when A writes next
        c.tasks.get(0).writeLong(c.base[0] + PAGE, 11);
        c.tasks.get(0).writeLong(c.base[0] + 2 * PAGE, 22);
        assertThat(c.tasks.get(1).readLong(c.base[1] + PAGE)).isEqualTo(11); // returned to the pager
        c.kernel(0).crash();
        await().atMost(WAIT).until(() -> !c.cluster.pager().kernels().contains("A"));
        assertThat(c.tasks.get(2).readLong(c.base[2] + PAGE)).isEqualTo(11);
        assertThat(c.tasks.get(2).readLong(c.base[2] + 2 * PAGE)).as("the write only A held is lost").isEqualTo(1);
    }

    /** Ranges past the object's end are INVALID_ARGUMENT with a sentence, and the kernel keeps working. */
    @Test
    void aRangePastTheEndIsInvalidArgument() {
        TaskClient task = c.tasks.get(0);
        assertThatThrownBy(() -> task.vmRead(c.base[0] + ClusterFixture.OBJECT_SIZE - 4, 8))
                .isInstanceOfSatisfying(MachxpException.class, e -> {
                    assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.errno()).isEqualTo(Errno.EINVAL);
                    assertThat(e.getMessage()).contains("runs past the end of 'obj'");
                });
        assertThatThrownBy(() -> task.vmWrite(c.base[0] + ClusterFixture.OBJECT_SIZE + 4096, new byte[1]))
                .isInstanceOfSatisfying(MachxpException.class,
                        e -> assertThat(e.getMessage()).contains("outside every mapping"));
        assertThatThrownBy(() -> task.fetchAdd(c.base[0] + 2, WordSize.WORD32, 1))
                .isInstanceOfSatisfying(MachxpException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL));
        task.writeLong(c.base[0], 5);
        assertThat(task.readLong(c.base[0])).isEqualTo(5);
    }
}
