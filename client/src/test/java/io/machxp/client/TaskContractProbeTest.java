package io.machxp.client;

import static io.machxp.client.RawKernel.fails;
import static io.machxp.client.RawKernel.lock;
import static io.machxp.client.RawKernel.unlock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.proto.task.ThreadComputeReply;
import io.machxp.proto.task.ThreadComputeRequest;
import io.machxp.proto.task.ThreadSleepReply;
import io.machxp.proto.task.ThreadSleepRequest;
import io.machxp.proto.task.VmLockFutexReply;
import io.machxp.proto.task.VmTrylockFutexRequest;
import io.machxp.proto.task.VmWriteRequest;
import io.machxp.proto.task.VmReadRequest;
import io.machxp.proto.task.VmMsyncRequest;
import io.machxp.proto.task.VmMapRequest;
import io.machxp.proto.task.ThreadTerminateRequest;
import io.machxp.proto.task.TaskTerminateRequest;
import io.machxp.proto.task.VmFutexConsistentRequest;
import com.google.protobuf.ByteString;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The task interface probed by an outside client (raw stubs, {@link RawKernel}) against an
 * embedded pager and two kernels on loopback: each probe states what task.proto and
 * FUTEX-SEMANTICS.md promise, and checks the kernel keeps serving afterwards.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TaskContractProbeTest {
    private static final long PAGE = 4096;
    private static final Duration WAIT = Duration.ofSeconds(30);
    private final EmbeddedCluster cluster = EmbeddedCluster.start(2, true, Map.of("obj", 4 * PAGE));
    private final RawKernel a = new RawKernel(cluster.kernelTargets().get(0));
    private final RawKernel b = new RawKernel(cluster.kernelTargets().get(1));

    TaskContractProbeTest() throws Exception {}

    @AfterEach
    void close() {
        a.close();
        b.close();
        cluster.close();
    }

    /** Fails with {@code code} and the errno in ErrorInfo, with a sentence after it. */
    /** A lock, unlock and read on kernel A still work for a fresh task and thread. */
    private void aStillServes() {
        long task = a.task("after");
        long base = a.map(task, "obj");
        int t = a.thread(task, 10);
        a.call().vmLockFutex(lock(task, t, base + 8));
        a.call().vmUnlockFutex(unlock(task, t, base + 8));
        assertThat(a.word(task, base + 8)).isZero();
    }

    // ---- cancelled calls -------------------------------------------------------------------------

    /**
     * A caller that cancels a blocked thread_sleep (or whose deadline passes) stops it, as one
     * that cancels a blocked lock does (EINTR, "the caller cancelled a blocked call"): the thread is
     * free for its next call, not EBUSY until the sleep would have ended.
     */
    @Test
    void aCancelledSleepFreesItsThread() {
        long task = a.task("sleeper");
        long base = a.map(task, "obj");
        int t = a.thread(task, 10);
        ListenableFuture<ThreadSleepReply> sleep = a.async.threadSleep(ThreadSleepRequest.newBuilder()
                .setTask(task).setThread(t).setNanos(TimeUnit.HOURS.toNanos(1)).build());
        await().atMost(WAIT).until(() -> "thread_sleep".equals(a.blockedIn(t)));
        sleep.cancel(true);
        await().atMost(WAIT).until(() -> "".equals(a.blockedIn(t)));
        assertThat(a.call().vmTrylockFutex(VmTrylockFutexRequest.newBuilder().setTask(task).setThread(t)
                .setAddress(base).build()).getAcquired()).isTrue();
    }

    /**
     * A thread_compute its caller gave up stops computing: a priority-99 thread cancelled while it
     * computes for an hour gives its CPU back, so a thread of another task computes and finishes.
     */
    @Test
    void aCancelledComputeGivesItsCpuBack() throws Exception {
        long hog = a.task("hog");
        int h = a.thread(hog, 99);
        ListenableFuture<ThreadComputeReply> compute = a.async.threadCompute(ThreadComputeRequest.newBuilder()
                .setTask(hog).setThread(h).setNanos(TimeUnit.HOURS.toNanos(1)).build());
        await().atMost(WAIT).until(() -> "thread_compute".equals(a.blockedIn(h)));
        compute.cancel(true);
        long other = a.task("other");
        int o = a.thread(other, 1);
        a.async.threadCompute(ThreadComputeRequest.newBuilder().setTask(other).setThread(o)
                .setNanos(TimeUnit.MILLISECONDS.toNanos(1)).build()).get(30, TimeUnit.SECONDS);
        assertThat(a.blockedIn(h)).isEmpty();
    }

    /**
     * A lock whose client gave up (deadline) leaves the queue: its thread makes its next call at
     * once, the owner's unlock frees the futex, and the next lock takes it without waiting.
     */
    @Test
    void aLockWhoseDeadlinePassedLeavesNoTrace() {
        long task = a.task("t");
        long base = a.map(task, "obj");
        int owner = a.thread(task, 10);
        int waiter = a.thread(task, 10);
        a.call().vmLockFutex(lock(task, owner, base));
        fails(() -> a.stub.withDeadlineAfter(300, TimeUnit.MILLISECONDS).vmLockFutex(lock(task, waiter, base)),
                Status.Code.DEADLINE_EXCEEDED, null);
        await().atMost(WAIT).until(() -> "".equals(a.blockedIn(waiter)));
        a.call().vmUnlockFutex(unlock(task, owner, base));
        assertThat(a.word(task, base)).as("free after the unlock").isZero();
        a.call().vmLockFutex(lock(task, waiter, base));
        assertThat(a.word(task, base)).isEqualTo(waiter);
    }

    /**
     * A lock on kernel B waiting for a futex held on kernel A, cancelled by its client: B's thread
     * is free at once, and after A's owner unlocks the futex serves both kernels again (not
     * stranded with B, which asked the pager for it).
     */
    @Test
    void aCancelledRemoteWaitDoesNotStrandTheFutex() throws Exception {
        long ta = a.task("a");
        long baseA = a.map(ta, "obj");
        int owner = a.thread(ta, 10);
        long tb = b.task("b");
        long baseB = b.map(tb, "obj");
        int waiter = b.thread(tb, 10);
        a.call().vmLockFutex(lock(ta, owner, baseA + 256));
        ListenableFuture<VmLockFutexReply> waiting = b.async.vmLockFutex(lock(tb, waiter, baseB + 256));
        await().atMost(WAIT).until(() -> "vm_lock_futex".equals(b.blockedIn(waiter)));
        await().atMost(WAIT).until(() -> (a.word(ta, baseA + 256) & 0x80000000) != 0);
        waiting.cancel(true);
        await().atMost(WAIT).until(() -> "".equals(b.blockedIn(waiter)));
        a.call().vmUnlockFutex(unlock(ta, owner, baseA + 256));
        b.call().vmLockFutex(lock(tb, waiter, baseB + 256));
        assertThat(b.word(tb, baseB + 256) & 0x3fffffff).isEqualTo(waiter);
        b.call().vmUnlockFutex(unlock(tb, waiter, baseB + 256));
        a.call().vmLockFutex(lock(ta, owner, baseA + 256));
        a.call().vmUnlockFutex(unlock(ta, owner, baseA + 256));
        assertThat(a.word(ta, baseA + 256) & 0x3fffffff).isZero();
    }

    /** Many calls at once on one thread: one blocks, every other is EBUSY; cancelling frees the thread. */
    @Test
    void concurrentCallsOnOneThread() throws Exception {
        long task = a.task("t");
        long base = a.map(task, "obj");
        int t = a.thread(task, 10);
        java.util.List<ListenableFuture<ThreadSleepReply>> calls = new java.util.ArrayList<>();
        for (int i = 0; i < 32; i++) {
            calls.add(a.async.threadSleep(ThreadSleepRequest.newBuilder().setTask(task).setThread(t)
                    .setNanos(TimeUnit.HOURS.toNanos(1)).build()));
        }
        // 31 answers come (the sleeper's would take an hour): every one EBUSY
        await().atMost(WAIT).until(() -> calls.stream().filter(java.util.concurrent.Future::isDone).count() == 31);
        ListenableFuture<ThreadSleepReply> sleeping = null;
        for (ListenableFuture<ThreadSleepReply> c : calls) {
            if (!c.isDone()) {
                sleeping = c;
                continue;
            }
            ExecutionException e = org.assertj.core.api.Assertions.catchThrowableOfType(ExecutionException.class, c::get);
            assertThat(RawKernel.errno(e)).isEqualTo("EBUSY");
        }
        assertThat(a.blockedIn(t)).isEqualTo("thread_sleep");
        sleeping.cancel(true);
        await().atMost(WAIT).until(() -> "".equals(a.blockedIn(t)));
        a.call().vmLockFutex(lock(task, t, base));
        a.call().vmUnlockFutex(unlock(task, t, base));
    }

    /**
     * A lock with timeout 0 on a held futex: ETIMEDOUT at once, WAITERS stays (measured on Linux);
     * a thread ended holding a futex another kernel's thread waits for passes it on with OWNER_DIED.
     */
    @Test
    void zeroTimeoutAndAThreadEndedHoldingAFutex() throws Exception {
        long ta = a.task("a");
        long baseA = a.map(ta, "obj");
        int owner = a.thread(ta, 10);
        int other = a.thread(ta, 10);
        a.call().vmLockFutex(lock(ta, owner, baseA + 512));
        fails(() -> a.call().vmLockFutex(lock(ta, other, baseA + 512).toBuilder().setTimeoutMillis(0).build()),
                Status.Code.DEADLINE_EXCEEDED, "ETIMEDOUT");
        assertThat(a.word(ta, baseA + 512)).isEqualTo(owner | 0x80000000);

        long tb = b.task("b");
        long baseB = b.map(tb, "obj");
        int next = b.thread(tb, 10);
        ListenableFuture<VmLockFutexReply> waiting = b.async.vmLockFutex(lock(tb, next, baseB + 512));
        await().atMost(WAIT).until(() -> "vm_lock_futex".equals(b.blockedIn(next)));
        a.call().threadTerminate(ThreadTerminateRequest.newBuilder().setTask(ta).setThread(owner).build());
        assertThat(waiting.get(30, TimeUnit.SECONDS).getOwnerDied()).isTrue();
        assertThat(b.word(tb, baseB + 512)).isEqualTo(next | 0x40000000 | 0x80000000);
    }

    /** Priorities outside 1-99, also above 2^31 as a uint32: EINVAL naming the value sent. */
    @Test
    void prioritiesOutOfRange() {
        long task = a.task("t");
        for (int priority : new int[] {100, -1}) {
            StatusRuntimeException e = fails(() -> a.thread(task, priority), Status.Code.INVALID_ARGUMENT, "EINVAL");
            assertThat(e.getStatus().getDescription()).contains(Integer.toUnsignedString(priority));
        }
        int t = a.thread(task, 1);
        fails(() -> a.call().threadSetPriority(io.machxp.proto.task.ThreadSetPriorityRequest.newBuilder()
                .setTask(task).setThread(t).setPriority(0).build()), Status.Code.INVALID_ARGUMENT, "EINVAL");
        aStillServes();
    }

    // ---- memory ----------------------------------------------------------------------------------

    /** A vm_write refused (EINVAL: a waited futex's word in its second page) changes nothing. */
    @Test
    void aRefusedWriteChangesNothing() throws Exception {
        long task = a.task("t");
        long base = a.map(task, "obj");
        int owner = a.thread(task, 10);
        int waiter = a.thread(task, 10);
        long futex = base + PAGE + 16;
        a.call().vmLockFutex(lock(task, owner, futex));
        ListenableFuture<VmLockFutexReply> waiting = a.async.vmLockFutex(lock(task, waiter, futex));
        await().atMost(WAIT).until(() -> "vm_lock_futex".equals(a.blockedIn(waiter)));

        byte[] ones = new byte[(int) PAGE + 64];
        java.util.Arrays.fill(ones, (byte) 1);
        StatusRuntimeException e = fails(() -> a.write(task, base + 8, ones), Status.Code.INVALID_ARGUMENT, "EINVAL");
        assertThat(e.getStatus().getDescription()).contains("wait");
        assertThat(a.read(task, base + 8, (int) PAGE - 8)).as("the first page is as it was").containsOnly(0);
        assertThat(a.word(task, base + PAGE)).as("nor the second page's bytes before the futex").isZero();

        a.call().vmUnlockFutex(unlock(task, owner, futex));
        assertThat(waiting.get(30, TimeUnit.SECONDS)).isNotNull();
        aStillServes();
    }

    /**
     * The word of a futex that threads wait for is EINVAL also when the futex is held on another
     * kernel: here a thread on B waits for a futex a thread on A owns, and a task on B writes the
     * word. The owner then unlocks and the waiter gets the futex.
     */
    @Test
    void aWaitedWordIsRefusedOnTheWaitersKernel() throws Exception {
        long ta = a.task("a");
        long baseA = a.map(ta, "obj");
        int owner = a.thread(ta, 10);
        long tb = b.task("b");
        long baseB = b.map(tb, "obj");
        int waiter = b.thread(tb, 10);
        a.call().vmLockFutex(lock(ta, owner, baseA + 32));
        ListenableFuture<VmLockFutexReply> waiting = b.async.vmLockFutex(lock(tb, waiter, baseB + 32));
        await().atMost(WAIT).until(() -> "vm_lock_futex".equals(b.blockedIn(waiter)));
        await().atMost(WAIT).until(() -> (a.word(ta, baseA + 32) & 0x80000000) != 0); // the owner knows

        fails(() -> b.writeWord(tb, baseB + 32, 0), Status.Code.INVALID_ARGUMENT, "EINVAL");
        fails(() -> a.writeWord(ta, baseA + 32, 0), Status.Code.INVALID_ARGUMENT, "EINVAL");
        assertThat(a.word(ta, baseA + 32) & 0x3fffffff).isEqualTo(owner);

        a.call().vmUnlockFutex(unlock(ta, owner, baseA + 32));
        assertThat(waiting.get(30, TimeUnit.SECONDS)).isNotNull();
        assertThat(b.word(tb, baseB + 32) & 0x3fffffff).isEqualTo(waiter);
        b.call().vmUnlockFutex(unlock(tb, waiter, baseB + 32));
        aStillServes();
    }

    /**
     * The word of a futex whose owner and waiter are both on kernel A, written from kernel B,
     * which has never seen the futex. The contract says EINVAL; B cannot know of the wait, so it
     * accepts the write (a known deviation, docs/architecture.md). What holds: the futex is not
     * stranded - A keeps the held word, its owner unlocks, and its waiter gets the futex.
     */
    @Test
    void aWaitedWordWrittenFromAKernelThatNeverSawTheFutexIsNotStranded() throws Exception {
        long ta = a.task("a");
        long baseA = a.map(ta, "obj");
        int owner = a.thread(ta, 10);
        int waiter = a.thread(ta, 10);
        long tb = b.task("b");
        long baseB = b.map(tb, "obj");
        a.call().vmLockFutex(lock(ta, owner, baseA + 1024));
        ListenableFuture<VmLockFutexReply> waiting = a.async.vmLockFutex(lock(ta, waiter, baseA + 1024));
        await().atMost(WAIT).until(() -> "vm_lock_futex".equals(a.blockedIn(waiter)));

        b.writeWord(tb, baseB + 1024, 0); // accepted: B knows nothing of the futex
        a.call().vmUnlockFutex(unlock(ta, owner, baseA + 1024));
        assertThat(waiting.get(30, TimeUnit.SECONDS)).isNotNull();
        assertThat(b.word(tb, baseB + 1024)).isEqualTo(waiter | 0x80000000);
        a.call().vmUnlockFutex(unlock(ta, waiter, baseA + 1024));
        assertThat(b.word(tb, baseB + 1024)).isZero();
    }

    /**
     * "A futex word is plain memory while nobody waits for the futex (the write changes the futex,
     * as on Linux)", and "a read that starts after a vm_write returned on any kernel sees it": a
     * word of a futex held on A, nobody waiting, written 0 from B. A then writes next to it (its
     * page comes back writable to A): the word stays 0, and A's owner no longer owns the futex
     * (EPERM, as Linux's UNLOCK_PI of a word that is not the caller's TID).
     */
    @Test
    void aWriteFromAnotherKernelToAHeldFutexWordIsKept() {
        long ta = a.task("a");
        long baseA = a.map(ta, "obj");
        int owner = a.thread(ta, 10);
        long tb = b.task("b");
        long baseB = b.map(tb, "obj");
        a.call().vmLockFutex(lock(ta, owner, baseA + 2048));
        b.writeWord(tb, baseB + 2048, 0);
        assertThat(a.word(ta, baseA + 2048)).isZero();
        a.writeWord(ta, baseA + 2052, 5); // the page writable on A again
        assertThat(b.word(tb, baseB + 2048)).as("B's acknowledged write").isZero();
        fails(() -> a.call().vmUnlockFutex(unlock(ta, owner, baseA + 2048)), Status.Code.PERMISSION_DENIED, "EPERM");
        int next = b.thread(tb, 10);
        b.call().vmLockFutex(lock(tb, next, baseB + 2048));
        b.call().vmUnlockFutex(unlock(tb, next, baseB + 2048));
        assertThat(a.word(ta, baseA + 2052)).isEqualTo(5);
    }

    /** Lengths and addresses at and past every edge: EINVAL with a sentence, never another code. */
    @Test
    void edgesOfAddressesAndLengths() {
        long task = a.task("t");
        long base = a.map(task, "obj");
        long end = base + 4 * PAGE;
        for (int length : new int[] {0, -1, Integer.MIN_VALUE, (1 << 20) + 1}) {
            StatusRuntimeException e = fails(() -> a.call().vmRead(VmReadRequest.newBuilder().setTask(task)
                    .setAddress(base).setLength(length).build()), Status.Code.INVALID_ARGUMENT, "EINVAL");
            assertThat(e.getStatus().getDescription()).as("the length as sent").contains(Integer.toUnsignedString(length));
        }
        for (long address : new long[] {0, -1L, -16L, end, end - 4 + 8, base - 1, Long.MIN_VALUE, end + PAGE}) {
            fails(() -> a.read(task, address, 16), Status.Code.INVALID_ARGUMENT, "EINVAL");
            fails(() -> a.write(task, address, new byte[16]), Status.Code.INVALID_ARGUMENT, "EINVAL");
        }
        fails(() -> a.read(task, end - 8, 16), Status.Code.INVALID_ARGUMENT, "EINVAL");
        fails(() -> a.write(task, end - 8, new byte[16]), Status.Code.INVALID_ARGUMENT, "EINVAL");
        fails(() -> a.write(task, base, new byte[(1 << 20) + 1]), Status.Code.INVALID_ARGUMENT, "EINVAL");
        StatusRuntimeException m = fails(() -> a.call().vmMsync(VmMsyncRequest.newBuilder().setTask(task)
                .setAddress(base).setLength(-1L).build()), Status.Code.INVALID_ARGUMENT, "EINVAL");
        assertThat(m.getStatus().getDescription()).as("the length as sent").contains(Long.toUnsignedString(-1L));
        fails(() -> a.call().vmLockFutex(lock(task, a.thread(task, 1), -4L)), Status.Code.INVALID_ARGUMENT, "EINVAL");

        // across the page boundary and to the last byte: written and read back whole
        byte[] data = new byte[(int) PAGE];
        new java.util.Random(7).nextBytes(data);
        a.write(task, base + PAGE / 2, data);
        assertThat(a.read(task, base + PAGE / 2, data.length)).isEqualTo(data);
        a.write(task, end - 1, new byte[] {42});
        assertThat(a.read(task, end - 1, 1)).containsExactly(42);
        aStillServes();
    }

    /**
     * A task that maps without end meets a bound (EAGAIN, RESOURCE_EXHAUSTED) instead of making
     * every vm_map, and the core thread every task shares, slower; other tasks map as before.
     */
    @Test
    void mappingsOfATaskAreBounded() {
        long task = a.task("mapper");
        long first = a.map(task, "obj");
        StatusRuntimeException refused = null;
        for (int maps = 1; refused == null && maps < 100_000; maps++) {
            try {
                a.map(task, "obj");
            } catch (StatusRuntimeException e) {
                refused = e;
            }
        }
        StatusRuntimeException seen = refused;
        StatusRuntimeException e = fails(() -> {
            if (seen != null) {
                throw seen;
            }
        }, Status.Code.RESOURCE_EXHAUSTED, "EAGAIN");
        assertThat(e.getStatus().getDescription()).contains("mappings");
        a.writeWord(task, first + 4, 7); // its mappings still work
        assertThat(a.word(task, first + 4)).isEqualTo(7);
        aStillServes();
    }

    /**
     * Task names are bounded: a name of megabytes (under gRPC's 4 MiB) is EINVAL, not kept for the
     * task's life and repeated for each of its threads in every KernelThreads reply.
     */
    @Test
    void taskNamesAreBounded() {
        String huge = "x".repeat(3 << 20);
        StatusRuntimeException e = fails(() -> a.task(huge), Status.Code.INVALID_ARGUMENT, "EINVAL");
        assertThat(e.getStatus().getDescription()).hasSizeLessThan(300);
        fails(() -> a.task("two\nlines"), Status.Code.INVALID_ARGUMENT, "EINVAL");
        long task = a.task("n".repeat(255));
        a.thread(task, 1);
        assertThat(a.call().kernelThreads(io.machxp.proto.task.KernelThreadsRequest.getDefaultInstance())
                .getThreadsList()).anyMatch(t -> t.getTaskName().length() == 255);
        aStillServes();
    }

    // ---- ids ------------------------------------------------------------------------------------

    /** Ended threads and tasks, and a thread of another task: ESRCH for every call. */
    @Test
    void idsOfEndedOrForeignThreadsAndTasks() {
        long t1 = a.task("one");
        long base = a.map(t1, "obj");
        long t2 = a.task("two");
        a.map(t2, "obj");
        int mine = a.thread(t1, 10);
        int theirs = a.thread(t2, 10);
        fails(() -> a.call().vmLockFutex(lock(t1, theirs, base)), Status.Code.NOT_FOUND, "ESRCH");
        fails(() -> a.call().vmUnlockFutex(unlock(t1, theirs, base)), Status.Code.NOT_FOUND, "ESRCH");

        a.call().threadTerminate(ThreadTerminateRequest.newBuilder().setTask(t1).setThread(mine).build());
        fails(() -> a.call().vmLockFutex(lock(t1, mine, base)), Status.Code.NOT_FOUND, "ESRCH");
        fails(() -> a.call().threadTerminate(ThreadTerminateRequest.newBuilder().setTask(t1).setThread(mine).build()),
                Status.Code.NOT_FOUND, "ESRCH");
        fails(() -> a.call().threadSleep(ThreadSleepRequest.newBuilder().setTask(t1).setThread(mine).setNanos(1)
                .build()), Status.Code.NOT_FOUND, "ESRCH");

        a.call().taskTerminate(TaskTerminateRequest.newBuilder().setTask(t2).build());
        fails(() -> a.call().taskTerminate(TaskTerminateRequest.newBuilder().setTask(t2).build()),
                Status.Code.NOT_FOUND, "ESRCH");
        fails(() -> a.read(t2, base, 4), Status.Code.NOT_FOUND, "ESRCH");
        fails(() -> a.call().vmMap(VmMapRequest.newBuilder().setTask(t2).setObject("obj").build()),
                Status.Code.NOT_FOUND, "ESRCH");
        fails(() -> b.read(t1, base, 4), Status.Code.NOT_FOUND, "ESRCH"); // A's handle on kernel B
        aStillServes();
    }

    // ---- futex semantics -------------------------------------------------------------------------

    /** FUTEX-SEMANTICS.md rows a library might not exercise, through raw calls and vm_read of the word. */
    @Test
    void futexRowsThroughRawCalls() throws Exception {
        long task = a.task("t");
        long base = a.map(task, "obj");
        int t1 = a.thread(task, 10);
        int t2 = a.thread(task, 10);
        VmTrylockFutexRequest.Builder tryLock = VmTrylockFutexRequest.newBuilder().setTask(task).setAddress(base);
        assertThat(a.call().vmTrylockFutex(tryLock.setThread(t1).build()).getAcquired()).isTrue();
        fails(() -> a.call().vmTrylockFutex(tryLock.setThread(t1).build()), Status.Code.FAILED_PRECONDITION, "EDEADLK");
        assertThat(a.call().vmTrylockFutex(tryLock.setThread(t2).build()).getAcquired()).isFalse();
        assertThat(a.word(task, base)).as("a failed trylock sets WAITERS").isEqualTo(t1 | 0x80000000);
        a.call().vmUnlockFutex(unlock(task, t1, base));
        assertThat(a.word(task, base)).isZero();
        fails(() -> a.call().vmUnlockFutex(unlock(task, t1, base)), Status.Code.PERMISSION_DENIED, "EPERM");

        a.writeWord(task, base + 4, 0x1234); // a TID of no thread
        fails(() -> a.call().vmLockFutex(lock(task, t1, base + 4)), Status.Code.NOT_FOUND, "ESRCH");
        assertThat(a.word(task, base + 4)).isEqualTo(0x1234 | 0x80000000);
        a.writeWord(task, base + 4, 0x40000000 | 0x1234);
        fails(() -> a.call().vmTrylockFutex(tryLock.setThread(t1).setAddress(base + 4).build()),
                Status.Code.NOT_FOUND, "ESRCH");
        a.writeWord(task, base + 4, 0x40000000); // OWNER_DIED alone
        VmLockFutexReply got = a.call().vmLockFutex(lock(task, t1, base + 4));
        assertThat(got.getOwnerDied()).isTrue();
        fails(() -> a.call().vmFutexConsistent(VmFutexConsistentRequest.newBuilder().setTask(task).setThread(t2)
                .setAddress(base + 4).build()), Status.Code.INVALID_ARGUMENT, "EINVAL");
        a.call().vmFutexConsistent(VmFutexConsistentRequest.newBuilder().setTask(task).setThread(t1)
                .setAddress(base + 4).build());
        fails(() -> a.call().vmFutexConsistent(VmFutexConsistentRequest.newBuilder().setTask(task).setThread(t1)
                .setAddress(base + 4).build()), Status.Code.INVALID_ARGUMENT, "EINVAL");
        a.call().vmUnlockFutex(unlock(task, t1, base + 4));
        assertThat(a.word(task, base + 4)).isZero();
        aStillServes();
    }

    /**
     * Waiters are served highest priority first, FIFO among equals; each handoff leaves TID|WAITERS
     * (the last waiter too); a lock that would close a cycle of owners is EDEADLK at once.
     */
    @Test
    void waiterOrderHandoffWordAndCycles() throws Exception {
        long task = a.task("t");
        long base = a.map(task, "obj");
        long f = base + 3000;
        int owner = a.thread(task, 10);
        int low = a.thread(task, 10);
        int high1 = a.thread(task, 50);
        int high2 = a.thread(task, 50);
        a.call().vmLockFutex(lock(task, owner, f));
        java.util.Map<Integer, ListenableFuture<VmLockFutexReply>> waits = new java.util.LinkedHashMap<>();
        for (int t : new int[] {low, high1, high2}) {
            waits.put(t, a.async.vmLockFutex(lock(task, t, f)));
            await().atMost(WAIT).until(() -> "vm_lock_futex".equals(a.blockedIn(t)));
        }
        int holder = owner;
        for (int next : new int[] {high1, high2, low}) {
            a.call().vmUnlockFutex(unlock(task, holder, f));
            waits.get(next).get(30, TimeUnit.SECONDS);
            assertThat(a.word(task, f)).as("handed to %d", next).isEqualTo(next | 0x80000000);
            holder = next;
        }
        a.call().vmUnlockFutex(unlock(task, holder, f));
        assertThat(a.word(task, f)).isZero();

        // T1 holds A and waits for B; T2 holds B and locks A: EDEADLK, T1 goes on waiting
        long fa = base + 3004;
        long fb = base + 3008;
        a.call().vmLockFutex(lock(task, low, fa));
        a.call().vmLockFutex(lock(task, high1, fb));
        ListenableFuture<VmLockFutexReply> t1 = a.async.vmLockFutex(lock(task, low, fb));
        await().atMost(WAIT).until(() -> "vm_lock_futex".equals(a.blockedIn(low)));
        fails(() -> a.call().vmLockFutex(lock(task, high1, fa)), Status.Code.FAILED_PRECONDITION, "EDEADLK");
        a.call().vmUnlockFutex(unlock(task, high1, fb));
        t1.get(30, TimeUnit.SECONDS);
        a.call().vmUnlockFutex(unlock(task, low, fb));
        a.call().vmUnlockFutex(unlock(task, low, fa));
    }

    /**
     * A thread blocked in one call makes no other (EBUSY), also a lock that the futex fast path
     * could serve: here the thread waits for one futex and asks for a free, cached one.
     */
    @Test
    void aBlockedThreadIsBusyEvenForACachedFreeFutex() throws Exception {
        long task = a.task("t");
        long base = a.map(task, "obj");
        int owner = a.thread(task, 10);
        int t = a.thread(task, 10);
        a.call().vmLockFutex(lock(task, t, base + 64)); // cached and free from here on
        a.call().vmUnlockFutex(unlock(task, t, base + 64));
        a.call().vmLockFutex(lock(task, owner, base));
        ListenableFuture<VmLockFutexReply> waiting = a.async.vmLockFutex(lock(task, t, base));
        await().atMost(WAIT).until(() -> "vm_lock_futex".equals(a.blockedIn(t)));
        fails(() -> a.call().vmLockFutex(lock(task, t, base + 64)), Status.Code.FAILED_PRECONDITION, "EBUSY");
        fails(() -> a.call().vmTrylockFutex(VmTrylockFutexRequest.newBuilder().setTask(task).setThread(t)
                .setAddress(base + 64).build()), Status.Code.FAILED_PRECONDITION, "EBUSY");
        assertThat(a.word(task, base + 64)).as("nobody took it").isZero();
        a.call().vmUnlockFutex(unlock(task, owner, base));
        assertThat(waiting.get(30, TimeUnit.SECONDS)).isNotNull();
    }

    /** A task ended while its thread waits: the wait fails (ESRCH); the owner's unlock frees the futex. */
    @Test
    void aTaskEndedWhileItsThreadWaits() throws Exception {
        long ta = a.task("owner");
        long base = a.map(ta, "obj");
        int owner = a.thread(ta, 10);
        long tw = a.task("waiter");
        long wbase = a.map(tw, "obj");
        int waiter = a.thread(tw, 50);
        a.call().vmLockFutex(lock(ta, owner, base + 128));
        ListenableFuture<VmLockFutexReply> waiting = a.async.vmLockFutex(lock(tw, waiter, wbase + 128));
        await().atMost(WAIT).until(() -> "vm_lock_futex".equals(a.blockedIn(waiter)));
        a.call().taskTerminate(TaskTerminateRequest.newBuilder().setTask(tw).build());
        ExecutionException e = org.assertj.core.api.Assertions.catchThrowableOfType(ExecutionException.class,
                () -> waiting.get(30, TimeUnit.SECONDS));
        assertThat(RawKernel.errno(e)).isEqualTo("ESRCH");
        a.call().vmUnlockFutex(unlock(ta, owner, base + 128));
        assertThat(a.word(ta, base + 128)).isZero();
        aStillServes();
    }

    /** A payload above gRPC's message limit: refused by the transport (no errno), the kernel goes on. */
    @Test
    void aPayloadAboveTheMessageLimit() {
        long task = a.task("t");
        long base = a.map(task, "obj");
        Throwable t = catchThrowable(() -> a.call().vmWrite(VmWriteRequest.newBuilder().setTask(task)
                .setAddress(base).setData(ByteString.copyFrom(new byte[5 << 20])).build()));
        assertThat(t).isInstanceOf(StatusRuntimeException.class);
        assertThat(((StatusRuntimeException) t).getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        aStillServes();
    }
}
