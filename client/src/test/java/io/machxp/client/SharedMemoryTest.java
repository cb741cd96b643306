package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.transport.Transport;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Tasks of a client on the kernel's host use the memory the kernel shares (docs/shared-memory.md):
 * cached futexes lock and unlock without a call, words of mapped pages load and store without one,
 * and the memory stays coherent across kernels. The same calls forced over gRPC answer alike.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedMemoryTest {
    private final ClusterFixture c;

    SharedMemoryTest() throws Exception {
        c = new ClusterFixture(2);
    }

    @AfterEach
    void close() {
        c.close();
    }

    private long kernelFastPathCount(int kernel) {
        return c.kernel(kernel).stats().acquiresByPath().getOrDefault(AcquirePath.FAST_PATH.name(), 0L);
    }

    @Test
    void aCachedFutexLocksAndUnlocksInTheTasksOwnProcess() {
        assertThat(c.tasks.get(0).sharesMemory()).isTrue();
        ThreadClient t = c.thread(0);
        long futex = c.base[0] + 64;
        assertThat(t.lockFutex(futex)).isEqualTo(AcquirePath.PAGER_GRANT);
        t.unlockFutex(futex);
        long kernelSaw = kernelFastPathCount(0);
        long xpSent = c.kernel(0).stats().sentTotal();

        for (int i = 0; i < 1_000; i++) {
            assertThat(t.lockFutex(futex)).isEqualTo(AcquirePath.FAST_PATH);
            t.unlockFutex(futex);
        }

        assertThat(kernelFastPathCount(0)).as("no lock reached the kernel").isEqualTo(kernelSaw);
        assertThat(c.kernel(0).stats().sentTotal()).isEqualTo(xpSent);
    }

    @Test
    void wordsOfAMappedPageAreCoherentAcrossKernels() {
        TaskClient a = c.tasks.get(0);
        TaskClient b = c.tasks.get(1);
        long counter = 4096 + 8; // a page without futexes
        for (int i = 0; i < 200; i++) {
            TaskClient writer = i % 10 < 5 ? a : b; // runs of five on each kernel: the page moves
            int k = writer == a ? 0 : 1;
            long before = writer.readLong(c.base[k] + counter);
            assertThat(before).isEqualTo(i);
            writer.writeLong(c.base[k] + counter, before + 1);
        }
        assertThat(a.readLong(c.base[0] + counter)).isEqualTo(200);
        assertThat(b.readLong(c.base[1] + counter)).isEqualTo(200);
        // each run of five: the first read faults the page in over gRPC, the other nine accesses are loads and stores
        assertThat(a.sharedAccesses() + b.sharedAccesses()).isGreaterThanOrEqualTo(40 * 8);
    }

    /**
     * vm_fetch_add and vm_compare_and_swap go to the kernel, which takes the page back for them;
     * from a task process it maps the page to task processes again afterwards, as a read or write
     * does (it used to map it in process, which took it from every task process).
     */
    @Test
    void anAtomicFromATaskProcessLeavesThePageInSharedMemory() {
        TaskClient a = c.tasks.get(0);
        long word = c.base[0] + 4096 + 8; // a page without futexes
        a.writeLong(word, 0);
        long servedAfterAtomics = 0;
        for (int i = 0; i < 10; i++) {
            long before = a.sharedAccesses();
            if (i % 2 == 0) {
                assertThat(a.fetchAdd(word, io.machxp.proto.task.WordSize.WORD64, 1)).isEqualTo(i);
            } else {
                assertThat(a.compareAndSwap(word, io.machxp.proto.task.WordSize.WORD64, i, i + 1).getSwapped()).isTrue();
            }
            assertThat(a.readLong(word)).isEqualTo(i + 1);
            servedAfterAtomics += a.sharedAccesses() - before;
        }
        // before, none was: the kernel mapped the page in process after each atomic, taking it
        // from every task process (one read may still miss it if the lease's end lags)
        assertThat(servedAfterAtomics).as("reads after an atomic served in shared memory").isPositive();
    }

    @Test
    void theFutexWordIsNotAPlainWordOfTheSharedPage() {
        ThreadClient t = c.thread(0);
        long futex = c.base[0] + 128;
        t.lockFutex(futex);
        assertThat(c.tasks.get(0).readInt(futex)).as("the kernel's word, the owner's TID").isEqualTo(t.tid());
        t.unlockFutex(futex);
        assertThat(c.tasks.get(0).readInt(futex)).isZero();
    }

    /** Errors are the kernel's, through shared memory as over gRPC: the fast path only ever succeeds. */
    @Test
    void errorsAreTheKernelsOwn() {
        ThreadClient t = c.thread(0);
        long futex = c.base[0] + 64;
        t.lockFutex(futex);
        t.unlockFutex(futex);
        MachxpException unlocked = org.assertj.core.api.Assertions.catchThrowableOfType(MachxpException.class,
                () -> t.unlockFutex(futex));
        assertThat(unlocked.errno()).isEqualTo(io.machxp.proto.task.Errno.EPERM);
        t.lockFutex(futex);
        MachxpException again = org.assertj.core.api.Assertions.catchThrowableOfType(MachxpException.class,
                () -> t.lockFutex(futex));
        assertThat(again.errno()).isEqualTo(io.machxp.proto.task.Errno.EDEADLK);
        t.unlockFutex(futex);
        t.terminate();
        MachxpException ended = org.assertj.core.api.Assertions.catchThrowableOfType(MachxpException.class,
                () -> t.lockFutex(futex));
        assertThat(ended.errno()).as("a thread the kernel ended makes no fast call").isEqualTo(io.machxp.proto.task.Errno.ESRCH);
        // Its lock's CAS landed and saw REVOKED after it: undone, so the futex is free, not a dead owner's.
        assertThat(c.tasks.get(0).readInt(futex)).isZero();
        var next = c.thread(0).lock(futex, null);
        assertThat(next.getPath()).isEqualTo(AcquirePath.FAST_PATH);
        assertThat(next.getOwnerDied()).isFalse();
    }

    @Test
    void forcedGrpcAnswersTheSame() {
        try (KernelClient grpc = KernelClient.connect(c.clients.get(0).target(), Transport.LOOPBACK_PLAINTEXT, null,
                KernelClient.Memory.GRPC_ONLY)) {
            TaskClient task = grpc.taskCreate("grpc");
            assertThat(task.sharesMemory()).isFalse();
            long base = task.vmMap(ClusterFixture.OBJECT);
            ThreadClient t = task.threadCreate();
            t.lockFutex(base + 64);
            long before = kernelFastPathCount(0);
            t.unlockFutex(base + 64);
            assertThat(t.lockFutex(base + 64)).isEqualTo(AcquirePath.FAST_PATH);
            assertThat(kernelFastPathCount(0)).as("the kernel's fast path, over gRPC").isEqualTo(before + 1);
            t.unlockFutex(base + 64);
            task.writeLong(base + 4096 + 16, 7);
            assertThat(c.tasks.get(0).readLong(c.base[0] + 4096 + 16)).isEqualTo(7);
        }
    }
}
