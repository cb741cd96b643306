package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerCore;
import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.core.PagerEnv;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.object.ObjectCatalog;
import io.machxp.pager.store.PageStore;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectDataUnlock;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link PagerCore} serving "obj" (4 pages) with the test playing the kernels: each kernel
 * initializes "obj" as object id 7; what the pager sends piles up per session until taken.
 */
final class XpKernels {
    static final int PAGE = 4096;
    static final int OBJ = 7;
    static final long SIZE = 4L * PAGE;

    final Map<Long, List<PagerToKernel>> inbox = new HashMap<>();
    final PagerStats stats = new PagerStats();
    final PagerCore pager;

    /** Sessions the pager ended, with the errno and sentence it gave (only with a lease). */
    final Map<Long, String> ended = new HashMap<>();
    /** Of {@link #ended}, those whose refusal was marked final for the grace period (xp-spec 9.7). */
    final java.util.Set<Long> finals = new java.util.HashSet<>();
    /** Kernels the pager declared dead, with the futex offsets they held. */
    final Map<String, List<Long>> declaredDead = new HashMap<>();
    private final io.machxp.pager.ManualClock clock = new io.machxp.pager.ManualClock();
    /** What the pager's clock reads when {@link #clock} is at 0. */
    private final long clockStart;
    /** Store effects waiting for {@link #runStore}, once {@link #deferStoreEffects} was called; else run at once. */
    private java.util.ArrayDeque<Runnable> storeEffects;
    /** Page effects waiting for {@link #runPageEffects}, once {@link #deferPageEffects} was called; else run at once. */
    private java.util.ArrayDeque<Runnable> pageEffects;

    XpKernels(PageStore store) {
        this(store, 0);
    }

    /** With a session lease (0: none) on a clock the test moves ({@link #advance}). */
    XpKernels(PageStore store, long leaseNanos) {
        this(store, new PagerOptions(leaseNanos, 3));
    }

    XpKernels(PageStore store, PagerOptions options) {
        this(store, options, 0);
    }

    /** With the pager's clock starting at {@code clockStartNanos} (System.nanoTime may be below zero). */
    XpKernels(PageStore store, PagerOptions options, long clockStartNanos) {
        this(store, options, clockStartNanos, Map.of("obj", SIZE));
    }

    /** Serving {@code objects} (name to size) instead of "obj" alone. */
    XpKernels(PageStore store, PagerOptions options, long clockStartNanos, Map<String, Long> objects) {
        this.clockStart = clockStartNanos;
        long leaseNanos = options.leaseNanos();
        pager = new PagerCore("p", PAGE, new ObjectCatalog(objects, PAGE, store), new PagerEnv() {
            @Override
            public void send(long sessionId, PagerToKernel message) {
                inbox.computeIfAbsent(sessionId, s -> new ArrayList<>()).add(message);
            }

            @Override
            public void endSession(long sessionId, Errno errno, String message) {
                if (leaseNanos == 0) {
                    throw new AssertionError("session " + sessionId + " ended: " + message);
                }
                ended.put(sessionId, errno + ": " + message);
            }

            @Override
            public void endSessionFinal(long sessionId, Errno errno, String message) {
                endSession(sessionId, errno, message);
                finals.add(sessionId);
            }

            @Override
            public long nanoTime() {
                return clockStart + clock.now();
            }

            @Override
            public void storeEffect(Runnable io, java.util.function.Consumer<RuntimeException> done) {
                if (storeEffects == null) {
                    PagerEnv.super.storeEffect(io, done);
                } else {
                    storeEffects.add(() -> PagerEnv.super.storeEffect(io, done));
                }
            }

            @Override
            public <T> void pageEffect(String page, java.util.function.Supplier<T> io,
                    java.util.function.Consumer<T> done) {
                if (pageEffects == null) {
                    PagerEnv.super.pageEffect(page, io, done);
                } else {
                    pageEffects.add(() -> PagerEnv.super.pageEffect(page, io, done));
                }
            }

            @Override
            public void schedule(long delayNanos, Runnable action) {
                clock.schedule(delayNanos, action);
            }

            @Override
            public void declaredDead(String kernelName, List<io.machxp.pager.futex.FutexKey> held) {
                declaredDead.put(kernelName, held.stream().map(io.machxp.pager.futex.FutexKey::offset).toList());
            }
        }, stats, options);
    }

    /** From now on the test is the pager's store thread: store effects wait for {@link #runStore}. */
    void deferStoreEffects() {
        storeEffects = new java.util.ArrayDeque<>();
    }

    /**
     * From now on the test is the pager's page-effect threads (a blocking store's reads): page
     * effects wait for {@link #runPageEffects}.
     */
    void deferPageEffects() {
        pageEffects = new java.util.ArrayDeque<>();
    }

    /** Runs the page effects waiting now (not those they start), in order, each result fed back to the core. */
    void runPageEffects() {
        for (int n = pageEffects.size(); n > 0; n--) {
            pageEffects.poll().run();
        }
    }

    /** Runs the store effects waiting, in order, each outcome fed back to the core. */
    void runStore() {
        while (!storeEffects.isEmpty()) {
            storeEffects.poll().run();
        }
    }

    /** Moves the clock on by {@code nanos}, running the pager's timers that come due on the way. */
    void advance(long nanos) {
        clock.advance(nanos, () -> { });
    }

    /**
     * Moves the clock on by {@code nanos} in steps of {@code step}, each followed by a keepalive
     * from every one of {@code sessions}, so that their leases do not run out meanwhile.
     */
    void advanceHeard(long nanos, long step, long... sessions) {
        for (long done = 0; done < nanos; done += step) {
            advance(Math.min(step, nanos - done));
            for (long s : sessions) {
                keepalive(s, done);
                inbox.getOrDefault(s, new ArrayList<>()).removeIf(PagerToKernel::hasPagerKeepalive); // its answer
            }
        }
    }

    /**
     * A kernel's hello stating TID prefix {@code tidPrefix} (0: none, the pager's kernel id is its
     * prefix) and its init of "obj": what the pager answered (a welcome and ready, or a refusal).
     */
    List<PagerToKernel> helloWithPrefix(long session, String name, int tidPrefix) {
        pager.sessionOpened(session);
        KernelHello.Builder h = KernelHello.newBuilder().setKernelName(name).setProtocolVersion(1);
        if (tidPrefix != 0) {
            h.setTidPrefix(tidPrefix);
        }
        xp(session, KernelToPager.newBuilder().setKernelHello(h));
        xp(session, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(OBJ).setName("obj").setPageSize(PAGE)));
        return take(session);
    }

    /** Whether a hello's answers ({@link #helloWithPrefix}) begin with a welcome. */
    static boolean welcomed(List<PagerToKernel> got) {
        return !got.isEmpty() && got.get(0).hasPagerWelcome();
    }

    /** Opens a session for a kernel that has initialized "obj" as object id 7. */
    long kernel(long session, String name, String... features) {
        pager.sessionOpened(session);
        xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1).addAllFeatures(List.of(features))));
        xp(session, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(OBJ).setName("obj").setPageSize(PAGE)));
        assertThat(take(session)).hasSize(2); // welcome, ready
        return session;
    }

    // ---- kernel -> pager ----------------------------------------------------------------------

    void read(long s, long offset) {
        request(s, offset, VmProt.VM_PROT_READ);
    }

    void write(long s, long offset) {
        request(s, offset, VmProt.VM_PROT_READ_WRITE);
    }

    void request(long s, long offset, VmProt access) {
        xp(s, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(OBJ).setOffset(offset).setLength(PAGE).setDesiredAccess(access)));
    }

    void unlock(long s, long offset, long length) {
        xp(s, KernelToPager.newBuilder().setMemoryObjectDataUnlock(MemoryObjectDataUnlock.newBuilder()
                .setObjectId(OBJ).setOffset(offset).setLength(length).setDesiredAccess(VmProt.VM_PROT_WRITE)));
    }

    void unlock(long s, long offset) {
        unlock(s, offset, PAGE);
    }

    /** data_return of dirty data. */
    void returnDirty(long s, long offset, byte[] data, boolean kernelCopy) {
        xp(s, KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(OBJ).setOffset(offset).setData(ByteString.copyFrom(data)).setDirty(true)
                .setKernelCopy(kernelCopy)));
    }

    /** data_return of access only (clean page). */
    void returnClean(long s, long offset, boolean kernelCopy) {
        xp(s, KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(OBJ).setOffset(offset).setKernelCopy(kernelCopy)));
    }

    void lockCompleted(long s, long offset) {
        xp(s, KernelToPager.newBuilder().setMemoryObjectLockCompleted(MemoryObjectLockCompleted.newBuilder()
                .setObjectId(OBJ).setOffset(offset).setLength(PAGE)));
    }

    void lockFutex(long s, long offset) {
        xp(s, KernelToPager.newBuilder().setMemoryObjectLockFutex(
                MemoryObjectLockFutex.newBuilder().setObjectId(OBJ).setOffset(offset)));
    }

    /** futex_released with the token of the futex's current grant, as the holder knows it. */
    void futexReleased(long s, long offset, PageData... pages) {
        xp(s, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJ).setOffset(offset).setFencingToken(pager.fencingToken("obj", offset))
                .addAllPages(Arrays.asList(pages))));
    }

    void keepalive(long s, long sequence) {
        xp(s, KernelToPager.newBuilder().setKernelKeepalive(
                io.machxp.proto.xp.KernelKeepalive.newBuilder().setSequence(sequence)));
    }

    void synchronize(long s, long offset, long length) {
        xp(s, KernelToPager.newBuilder().setMemoryObjectSynchronize(io.machxp.proto.xp.MemoryObjectSynchronize
                .newBuilder().setObjectId(OBJ).setOffset(offset).setLength(length)));
    }

    void terminate(long s) {
        xp(s, KernelToPager.newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder().setObjectId(OBJ)));
    }

    void xp(long s, KernelToPager.Builder m) {
        pager.onXp(s, m.build());
    }

    // ---- pager -> kernel ----------------------------------------------------------------------

    /** Everything sent to the session since the last take. */
    List<PagerToKernel> take(long s) {
        List<PagerToKernel> got = new ArrayList<>(inbox.getOrDefault(s, List.of()));
        inbox.remove(s);
        return got;
    }

    /** The one message sent to the session since the last take. */
    PagerToKernel one(long s) {
        List<PagerToKernel> got = take(s);
        assertThat(got).as("messages to session %d", s).hasSize(1);
        return got.get(0);
    }

    void nothingTo(long... sessions) {
        for (long s : sessions) {
            assertThat(take(s)).as("messages to session %d", s).isEmpty();
        }
    }

    // ---- data ---------------------------------------------------------------------------------

    /** A page full of {@code b}. */
    static byte[] page(int b) {
        byte[] data = new byte[PAGE];
        Arrays.fill(data, (byte) b);
        return data;
    }

    static PageData dirtyPage(long offset, byte[] data) {
        return PageData.newBuilder().setOffset(offset).setData(ByteString.copyFrom(data)).setDirty(true).build();
    }

    // ---- expected messages --------------------------------------------------------------------

    /** data_supply of {@code data}, or data_unavailable if {@code data} is null. */
    static void assertSupply(PagerToKernel m, long offset, byte[] data, VmProt lockValue) {
        if (data == null) {
            assertThat(m.getRoutineCase()).isEqualTo(PagerToKernel.RoutineCase.MEMORY_OBJECT_DATA_UNAVAILABLE);
            assertThat(m.getMemoryObjectDataUnavailable().getObjectId()).isEqualTo(OBJ);
            assertThat(m.getMemoryObjectDataUnavailable().getOffset()).isEqualTo(offset);
            assertThat(m.getMemoryObjectDataUnavailable().getLength()).isEqualTo(PAGE);
            assertThat(m.getMemoryObjectDataUnavailable().getLockValue()).isEqualTo(lockValue);
            return;
        }
        assertThat(m.getRoutineCase()).isEqualTo(PagerToKernel.RoutineCase.MEMORY_OBJECT_DATA_SUPPLY);
        assertThat(m.getMemoryObjectDataSupply().getObjectId()).isEqualTo(OBJ);
        assertThat(m.getMemoryObjectDataSupply().getOffset()).isEqualTo(offset);
        assertThat(m.getMemoryObjectDataSupply().getData().toByteArray()).isEqualTo(data);
        assertThat(m.getMemoryObjectDataSupply().getLockValue()).isEqualTo(lockValue);
    }

    /** A read-only copy. */
    static void assertReadCopy(PagerToKernel m, long offset, byte[] data) {
        assertSupply(m, offset, data, VmProt.VM_PROT_WRITE);
    }

    /** A writable copy. */
    static void assertWriteCopy(PagerToKernel m, long offset, byte[] data) {
        assertSupply(m, offset, data, VmProt.VM_PROT_NONE);
    }

    /** Keep a read-only copy, return dirty data, reply. */
    static void assertDowngrade(PagerToKernel m, long offset) {
        assertLockRequest(m, offset, ReturnPolicy.RETURN_DIRTY, false, VmProt.VM_PROT_WRITE, true);
    }

    /** Drop the page, return dirty data, reply. */
    static void assertFlush(PagerToKernel m, long offset) {
        assertLockRequest(m, offset, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
    }

    /** Write permission for a read-only copy, no data, no reply. */
    static void assertAllowWrite(PagerToKernel m, long offset) {
        assertLockRequest(m, offset, ReturnPolicy.RETURN_NONE, false, VmProt.VM_PROT_NONE, false);
    }

    static void assertLockRequest(PagerToKernel m, long offset, ReturnPolicy shouldReturn, boolean flush,
            VmProt lockValue, boolean reply) {
        assertThat(m.getRoutineCase()).isEqualTo(PagerToKernel.RoutineCase.MEMORY_OBJECT_LOCK_REQUEST);
        assertThat(m.getMemoryObjectLockRequest()).isEqualTo(MemoryObjectLockRequest.newBuilder().setObjectId(OBJ)
                .setOffset(offset).setLength(PAGE).setShouldReturn(shouldReturn).setShouldFlush(flush)
                .setLockValue(lockValue).setReply(reply).build());
    }
}
