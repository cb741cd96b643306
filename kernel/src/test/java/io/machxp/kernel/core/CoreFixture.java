package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataError;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.MemoryObjectDataUnavailable;
import io.machxp.proto.xp.MemoryObjectFutexBusy;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.MemoryObjectReady;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import java.util.List;

/**
 * A kernel core with one task mapping an object of 4 pages, driven by hand: the test plays the
 * pager, sending what the kernel should receive and checking what it sent.
 */
final class CoreFixture {
    static final int PAGE = 4096;
    static final int OBJECT_ID = 1;
    final FakeKernelEnv env = new FakeKernelEnv();
    final KernelStats stats = new KernelStats();
    final KernelCore core;
    final MachTask task;
    final long base;
    private long fencingTokens;

    CoreFixture(boolean cacheFutexes) {
        this(cacheFutexes, false, 0);
    }

    CoreFixture(boolean cacheFutexes, boolean piggyback, int maxResidentPages) {
        this(CoreOptions.DEFAULT.withCacheFutexes(cacheFutexes).withPiggyback(piggyback)
                .withMaxResidentPages(maxResidentPages));
    }

    CoreFixture(CoreOptions options) {
        this(options, 0);
    }

    /** With a session lease from the welcome (0: none); its first keepalive is answered at once. */
    CoreFixture(CoreOptions options, long leaseMillis) {
        this(options, leaseMillis, 0);
    }

    /** With a lease and a session token (0: the session cannot be resumed). */
    CoreFixture(CoreOptions options, long leaseMillis, long sessionToken) {
        core = new KernelCore("A", env, stats, options);
        core.xp().start();
        assertThat(env.drain()).extracting(KernelToPager::getRoutineCase)
                .containsExactly(KernelToPager.RoutineCase.KERNEL_HELLO);
        core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(
                PagerWelcome.newBuilder().setKernelId(1).setPageSize(PAGE).setLeaseMillis(leaseMillis)
                        .setSessionToken(sessionToken)).build());
        answerKeepalives();
        Answer<MachTask> t = new Answer<>();
        core.taskCreate("test", t);
        task = t.value();
        Answer<VmMapping> m = new Answer<>();
        core.vmMap(task.id, "obj", m);
        KernelToPager init = single();
        assertThat(init.getMemoryObjectInit().getName()).isEqualTo("obj");
        assertThat(m.answered()).as("vm_map waits for memory_object_ready").isFalse();
        core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectReady(MemoryObjectReady.newBuilder()
                .setObjectId(init.getMemoryObjectInit().getObjectId()).setSize(4 * PAGE)).build());
        base = m.value().start();
    }

    /** Answers every keepalive the kernel sent since the last look (and drops them from what it sent). */
    void answerKeepalives() {
        List<KernelToPager> keepalives = env.sent.stream().filter(KernelToPager::hasKernelKeepalive).toList();
        env.sent.removeAll(keepalives);
        for (KernelToPager k : keepalives) {
            core.xp().onXp(PagerToKernel.newBuilder().setPagerKeepalive(io.machxp.proto.xp.PagerKeepalive.newBuilder()
                    .setSequence(k.getKernelKeepalive().getSequence())).build());
        }
    }

    MachThread thread() {
        Answer<MachThread> a = new Answer<>();
        core.threadCreate(task.id, a);
        return a.value();
    }

    MachThread thread(int priority) {
        Answer<MachThread> a = new Answer<>();
        core.threadCreate(task.id, priority, a);
        return a.value();
    }

    Answer<AcquirePath> lock(MachThread t, long address) {
        return lock(t, address, -1);
    }

    Answer<AcquirePath> lock(MachThread t, long address, long timeoutNanos) {
        Answer<AcquirePath> a = new Answer<>();
        core.vmLockFutex(task.id, t.tid, address, timeoutNanos, paths(a));
        return a;
    }

    /** vm_lock_futex with the whole answer: the path and whether an owner died. */
    Answer<Acquired> lockFull(MachThread t, long address) {
        Answer<Acquired> a = new Answer<>();
        core.vmLockFutex(task.id, t.tid, address, -1, a);
        return a;
    }

    Answer<AcquirePath> trylock(MachThread t, long address) {
        Answer<AcquirePath> a = new Answer<>();
        core.vmTrylockFutex(task.id, t.tid, address, paths(a));
        return a;
    }

    Answer<Void> consistent(MachThread t, long address) {
        Answer<Void> a = new Answer<>();
        core.vmFutexConsistent(task.id, t.tid, address, a);
        return a;
    }

    Answer<Void> compute(MachThread t, long nanos) {
        Answer<Void> a = new Answer<>();
        core.threadCompute(task.id, t.tid, nanos, a);
        return a;
    }

    /** Runs {@code then} as {@code t}'s compute of {@code nanos} ends, while it still has its CPU. */
    void computeThen(MachThread t, long nanos, Runnable then) {
        core.threadCompute(task.id, t.tid, nanos, new Reply<>() {
            @Override
            public void complete(Void value) {
                then.run();
            }

            @Override
            public void fail(KernelError error) {
                throw new AssertionError(error.message());
            }
        });
    }

    Answer<Void> terminate(MachThread t) {
        Answer<Void> a = new Answer<>();
        core.threadTerminate(task.id, t.tid, a);
        return a;
    }

    Answer<Void> setPriority(MachThread t, int priority) {
        Answer<Void> a = new Answer<>();
        core.threadSetPriority(task.id, t.tid, priority, a);
        return a;
    }

    /** Passes on the path only (null: a trylock that did not get it). */
    private static Reply<Acquired> paths(Answer<AcquirePath> a) {
        return new Reply<>() {
            @Override
            public void complete(Acquired value) {
                a.complete(value == null ? null : value.path());
            }

            @Override
            public void fail(KernelError error) {
                a.fail(error);
            }
        };
    }

    Answer<Void> unlock(MachThread t, long address) {
        Answer<Void> a = new Answer<>();
        core.vmUnlockFutex(task.id, t.tid, address, a);
        return a;
    }

    /** The one message the kernel sent since the last look. */
    KernelToPager single() {
        List<KernelToPager> sent = env.drain();
        assertThat(sent).hasSize(1);
        return sent.get(0);
    }

    List<KernelToPager.RoutineCase> sentRoutines() {
        return env.drain().stream().map(KernelToPager::getRoutineCase).toList();
    }

    void zeroFill(long pageOffset) {
        core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectDataUnavailable(MemoryObjectDataUnavailable.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(pageOffset).setLength(PAGE)).build());
    }

    void supply(long pageOffset, byte[] data) {
        core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(pageOffset).setData(ByteString.copyFrom(data))).build());
    }

    /** memory_object_data_error for one page: the pager cannot supply it. */
    void dataError(long pageOffset, String reason) {
        core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectDataError(MemoryObjectDataError.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(pageOffset).setLength(PAGE).setReason(reason)).build());
    }

    Answer<byte[]> read(long address, int length) {
        Answer<byte[]> a = new Answer<>();
        core.vmRead(task.id, address, length, a);
        return a;
    }

    Answer<Void> write(long address, byte[] data) {
        Answer<Void> a = new Answer<>();
        core.vmWrite(task.id, address, data, a);
        return a;
    }

    void supply(long pageOffset, byte[] data, VmProt lockValue) {
        core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(pageOffset).setData(ByteString.copyFrom(data))
                .setLockValue(lockValue)).build());
    }

    void lockRequest(long pageOffset, ReturnPolicy ret, boolean flush, VmProt lockValue, boolean reply) {
        core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectLockRequest(MemoryObjectLockRequest.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(pageOffset).setLength(PAGE).setShouldReturn(ret)
                .setShouldFlush(flush).setLockValue(lockValue).setReply(reply)).build());
    }

    /** Grants a futex, with a fencing token above every earlier one (as the pager's grow). */
    void grant(long offset) {
        core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(offset).setFencingToken(++fencingTokens)).build());
    }

    /** Grants a futex whose last release named a stale heir's TID (futex_granted.stale_heir_tid, xp-spec 8.4). */
    void grantNamingStaleHeir(long offset, int tid) {
        core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(offset).setFencingToken(++fencingTokens).setStaleHeirTid(tid)).build());
    }

    /** As a welcome that said carries_stale_heir_tid: the pager carries a release's stale_heir_tid. */
    void pagerCarriesStaleHeirTid() {
        core.sessions.forObject(OBJECT_ID).pagerCarriesStaleHeirTid = true;
    }

    /**
     * Grants a futex with its page (zero-filled) attached, as the pager does when the kernel that
     * released the futex sent the page along.
     */
    void grantWithPage(long offset) {
        long page = offset - offset % PAGE;
        core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(offset).setFencingToken(++fencingTokens).addPages(PageData.newBuilder().setOffset(page)
                        .setData(ByteString.copyFrom(new byte[PAGE])))).build());
    }

    void busy(long offset) {
        core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectFutexBusy(MemoryObjectFutexBusy.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(offset)).build());
    }

    void relinquish(long offset) {
        relinquish(offset, 0);
    }

    void relinquish(long offset, int priority) {
        relinquish(offset, priority, false);
    }

    /** relinquish_futex; {@code requeued}: the waiter elsewhere just changed priority. */
    void relinquish(long offset, int priority, boolean requeued) {
        core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(offset).setPriority(priority).setRequeued(requeued)).build());
    }

    /**
     * A grant that is also a relinquish (other kernels wait): at {@code priority}, its top waiter
     * elsewhere having waited {@code waitedNanos}.
     */
    void grantWithRelinquish(long offset, int priority, long waitedNanos) {
        core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(offset).setFencingToken(++fencingTokens).setRelinquish(true)
                .setRelinquishPriority(priority).setRelinquishWaitedNanos(waitedNanos)).build());
    }

    /** relinquish_futex at {@code priority}, its top waiter elsewhere having waited {@code waitedNanos}. */
    void relinquishWaited(long offset, int priority, long waitedNanos) {
        core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(offset).setPriority(priority).setWaitedNanos(waitedNanos)).build());
    }

    /** relinquish_futex with try: another kernel's trylock. */
    void relinquishTry(long offset) {
        core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(offset).setTry(true)).build());
    }

    /** relinquish_futex with try at {@code priority}: another kernel's trylock, its priority said. */
    void relinquishTry(long offset, int priority) {
        core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(offset).setTry(true).setPriority(priority)).build());
    }

    /** The word of the futex at {@link #base}, unsigned. */
    long baseWord() {
        return io.machxp.kernel.futex.FutexWord.word(futex(base).state()) & 0xffffffffL;
    }

    /** The pager takes page 0 back (RETURN_ALL, flush, reply): the data the kernel returned. */
    byte[] takePageBack() {
        lockRequest(0, ReturnPolicy.RETURN_ALL, true, VmProt.VM_PROT_NONE, true);
        return env.drain().stream().filter(KernelToPager::hasMemoryObjectDataReturn).findFirst()
                .orElseThrow().getMemoryObjectDataReturn().getData().toByteArray();
    }

    /**
     * Runs {@code steps} of 10 ms (answering keepalives if told), refusing every data_request of
     * page 0, one out at a time and no futex released meanwhile; returns the data_requests seen.
     */
    int refuseFor(int steps, boolean keepalives) {
        int requests = 0;
        for (int i = 0; i < steps; i++) {
            env.advance(10_000_000L);
            if (keepalives) {
                answerKeepalives();
            }
            List<KernelToPager> sent = env.drain();
            long n = sent.stream().filter(KernelToPager::hasMemoryObjectDataRequest).count();
            assertThat(n).as("one fetch out at a time").isLessThanOrEqualTo(1);
            assertThat(sent).noneMatch(KernelToPager::hasMemoryObjectFutexReleased);
            if (n > 0) {
                requests++;
                dataError(0, "transient store error");
            }
        }
        return requests;
    }

    /** Advances by 10 ms (answering keepalives if told) until the next data_request; the messages sent meanwhile. */
    List<KernelToPager> untilDataRequest(boolean keepalives) {
        List<KernelToPager> sent = new java.util.ArrayList<>();
        for (int i = 0; i < 1000 && sent.stream().noneMatch(KernelToPager::hasMemoryObjectDataRequest); i++) {
            env.advance(10_000_000L);
            if (keepalives) {
                answerKeepalives();
            }
            sent.addAll(env.drain());
        }
        return sent;
    }

    FutexEntry futex(long address) {
        return core.inspect().futexAt(task.id, address);
    }

    /**
     * Locks a futex for the first time: lock_futex, grant, then page-in if the page is not here
     * yet (with the cache and in Part II alike: the pager hears of the waiter before any page moves).
     */
    void acquireFromPager(MachThread t, long address) {
        Answer<AcquirePath> a = lock(t, address);
        long offset = address - base;
        long page = offset - offset % PAGE;
        List<KernelToPager> sent = env.drain();
        assertThat(sent).hasSize(1);
        KernelToPager lock = sent.get(0);
        assertThat(lock.getMemoryObjectLockFutex().getOffset()).isEqualTo(offset);
        grant(offset);
        List<KernelToPager> after = env.drain();
        if (!after.isEmpty()) {
            assertThat(after).hasSize(1);
            assertThat(after.get(0).getMemoryObjectDataRequest().getOffset()).isEqualTo(page);
            assertThat(a.answered()).as("the futex is not used before its page is here").isFalse();
            zeroFill(page);
        }
        assertThat(a.value()).isEqualTo(AcquirePath.PAGER_GRANT);
    }
}
