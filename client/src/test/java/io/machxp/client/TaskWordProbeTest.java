package io.machxp.client;

import static io.machxp.client.RawKernel.fails;
import static io.machxp.client.RawKernel.lock;
import static io.machxp.client.RawKernel.unlock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.proto.task.ThreadComputeRequest;
import io.machxp.proto.task.ThreadSleepRequest;
import io.machxp.proto.task.VmCompareAndSwapRequest;
import io.machxp.proto.task.VmFetchAddRequest;
import io.machxp.proto.task.VmLockFutexReply;
import io.machxp.proto.task.VmMsyncRequest;
import io.machxp.proto.task.WordSize;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The task API's atomic word operations and durations probed by an outside client (raw stubs,
 * {@link RawKernel}), from task.proto and the docs alone: what the atomics may do to a futex word
 * threads wait for, values a word cannot hold, and durations at the top of a uint64.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TaskWordProbeTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int WAITERS = 0x80000000;
    private final EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 4 * 4096L));
    private final RawKernel a = new RawKernel(cluster.kernelTargets().get(0));

    TaskWordProbeTest() throws Exception {}

    @AfterEach
    void close() {
        a.close();
        cluster.close();
    }

    private VmCompareAndSwapRequest cas(long task, long address, WordSize size, long expected, long value) {
        return VmCompareAndSwapRequest.newBuilder().setTask(task).setAddress(address).setSize(size)
                .setExpected(expected).setNewValue(value).build();
    }

    /**
     * task.proto: "the word of a futex that threads wait for is EINVAL, and a refused write changes
     * nothing" (vm_write). The atomics write memory too: a compare-and-swap or fetch-add that would
     * clear the owner and WAITERS of a waited futex (32- or 64-bit, the word or the 8 bytes around
     * it) is refused the same way, and the waiter is not stranded: the owner's unlock hands it on.
     */
    @Test
    void atomicsCannotRewriteAWaitedFutexWord() throws Exception {
        long task = a.task("t");
        long base = a.map(task, "obj");
        long futex = base + 68; // the high half of the 8-byte word at base + 64
        int owner = a.thread(task, 10);
        int waiter = a.thread(task, 10);
        a.call().vmLockFutex(lock(task, owner, futex));
        ListenableFuture<VmLockFutexReply> waiting = a.async.vmLockFutex(lock(task, waiter, futex));
        await().atMost(WAIT).until(() -> "vm_lock_futex".equals(a.blockedIn(waiter)));
        long word = Integer.toUnsignedLong(owner | WAITERS);
        assertThat(Integer.toUnsignedLong(a.word(task, futex))).isEqualTo(word);

        fails(() -> a.call().vmCompareAndSwap(cas(task, futex, WordSize.WORD32, word, 0)),
                Status.Code.INVALID_ARGUMENT, "EINVAL");
        fails(() -> a.call().vmCompareAndSwap(cas(task, base + 64, WordSize.WORD64, word << 32, 0)),
                Status.Code.INVALID_ARGUMENT, "EINVAL");
        fails(() -> a.call().vmFetchAdd(VmFetchAddRequest.newBuilder().setTask(task).setAddress(futex)
                .setSize(WordSize.WORD32).setDelta(-word).build()), Status.Code.INVALID_ARGUMENT, "EINVAL");
        assertThat(Integer.toUnsignedLong(a.word(task, futex))).as("refused: nothing changed").isEqualTo(word);
        // a compare that would fail is refused too (the word is the futex's): the waiter is still there
        fails(() -> a.call().vmCompareAndSwap(cas(task, futex, WordSize.WORD32, 5, 6)),
                Status.Code.INVALID_ARGUMENT, "EINVAL");
        assertThat(a.blockedIn(waiter)).isEqualTo("vm_lock_futex");
        // the word next to it is plain memory
        assertThat(a.call().vmCompareAndSwap(cas(task, base + 64, WordSize.WORD32, 0, 9)).getSwapped()).isTrue();

        a.call().vmUnlockFutex(unlock(task, owner, futex));
        waiting.get(30, TimeUnit.SECONDS);
        assertThat(a.word(task, futex) & 0x3fffffff).isEqualTo(waiter); // WAITERS may stay set after a handoff, as on Linux
        a.call().vmUnlockFutex(unlock(task, waiter, futex));
        assertThat(a.word(task, futex)).isZero();
        // free, nobody waiting: plain memory again (as on Linux)
        assertThat(a.call().vmCompareAndSwap(cas(task, futex, WordSize.WORD32, 0, 7)).getSwapped()).isTrue();
    }

    /**
     * A 32-bit compare-and-swap whose new value does not fit in 32 bits is EINVAL naming the value:
     * not stored cut to its low half (task.proto zero-extends the word for the compare, so a value
     * above 2^32 - 1 is not a 32-bit word), and the word is unchanged.
     */
    @Test
    void aWord32CannotTakeA64BitValue() {
        long task = a.task("t");
        long base = a.map(task, "obj");
        long value = (1L << 32) | 5;
        StatusRuntimeException e = fails(() -> a.call().vmCompareAndSwap(cas(task, base, WordSize.WORD32, 0, value)),
                Status.Code.INVALID_ARGUMENT, "EINVAL");
        assertThat(e.getStatus().getDescription()).contains(Long.toUnsignedString(value));
        assertThat(a.word(task, base)).isZero();
        assertThat(a.call().vmCompareAndSwap(cas(task, base, WordSize.WORD64, 0, value)).getSwapped()).isTrue();
    }

    /**
     * Durations at the top of a uint64 (2^63 - 1 and 2^64 - 1 nanoseconds) are waits longer than
     * any run: thread_sleep and thread_compute stay blocked (not answered at once by an overflowing
     * deadline) until their caller cancels.
     */
    @Test
    void sleepsAndComputesAtTheTopOfTheirRangeWait() {
        long task = a.task("t");
        for (long nanos : new long[] {Long.MAX_VALUE, -1L}) {
            int t = a.thread(task, 10);
            Future<?> sleep = a.async.threadSleep(ThreadSleepRequest.newBuilder().setTask(task).setThread(t)
                    .setNanos(nanos).build());
            await().atMost(WAIT).until(() -> sleep.isDone() || "thread_sleep".equals(a.blockedIn(t)));
            assertThat(sleep.isDone()).as("sleep of %s ns answered at once", Long.toUnsignedString(nanos)).isFalse();
            sleep.cancel(true);
            await().atMost(WAIT).until(() -> "".equals(a.blockedIn(t)));

            Future<?> compute = a.async.threadCompute(ThreadComputeRequest.newBuilder().setTask(task).setThread(t)
                    .setNanos(nanos).build());
            await().atMost(WAIT).until(() -> compute.isDone() || "thread_compute".equals(a.blockedIn(t)));
            assertThat(compute.isDone()).as("compute of %s ns answered at once", Long.toUnsignedString(nanos)).isFalse();
            compute.cancel(true);
            await().atMost(WAIT).until(() -> "".equals(a.blockedIn(t)));
        }
    }

    /** vm_msync of 0 bytes, and of a range past the end of the address space: EINVAL (task.proto: 1 byte to 1 MiB). */
    @Test
    void msyncOfNothingOrPastTheTop() {
        long task = a.task("t");
        long base = a.map(task, "obj");
        fails(() -> a.call().vmMsync(VmMsyncRequest.newBuilder().setTask(task).setAddress(base).setLength(0).build()),
                Status.Code.INVALID_ARGUMENT, "EINVAL");
        fails(() -> a.call().vmMsync(VmMsyncRequest.newBuilder().setTask(task).setAddress(-4096L).setLength(8192).build()),
                Status.Code.INVALID_ARGUMENT, "EINVAL");
        assertThat(a.call().vmMsync(VmMsyncRequest.newBuilder().setTask(task).setAddress(base).setLength(1).build()))
                .isNotNull();
    }
}
