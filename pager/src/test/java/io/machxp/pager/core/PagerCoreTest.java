package io.machxp.pager.core;

import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_DATA_ERROR;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_DATA_UNAVAILABLE;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_DESTROY;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_BUSY;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_READY;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_RELINQUISH_FUTEX;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.PAGER_WELCOME;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.ByteString;
import io.machxp.pager.object.ObjectCatalog;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectDataUnlock;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.MemoryObjectTerminate;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/** The pager's futex ownership and object service, with the test playing three kernels. */
class PagerCoreTest {
    private static final int PAGE = 4096;
    private final Map<Long, List<PagerToKernel>> inbox = new HashMap<>();
    private final Map<Long, Errno> ended = new HashMap<>();
    private final PagerStats stats = new PagerStats();
    private final PagerCore pager = new PagerCore("p", PAGE, new ObjectCatalog(Map.of("obj", 4L * PAGE), PAGE),
            new PagerEnv() {
                @Override
                public void send(long sessionId, PagerToKernel message) {
                    inbox.computeIfAbsent(sessionId, s -> new ArrayList<>()).add(message);
                }

                @Override
                public void endSession(long sessionId, Errno errno, String message) {
                    ended.put(sessionId, errno);
                }

                @Override
                public void endSession(long sessionId, XpProtocolError error, String message) {
                    protocolEnded.put(sessionId, error + ": " + message);
                }

                @Override
                public long nanoTime() {
                    return clock[0];
                }
            }, stats);
    /** The pager's clock, moved by hand. */
    private final long[] clock = {1_000_000_000L};
    private final Map<Long, String> protocolEnded = new HashMap<>();

    /** Opens a session for a kernel that has initialized "obj" as object id 7. */
    private long kernel(long session, String name) {
        pager.sessionOpened(session);
        pager.onXp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1)).build());
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(7).setName("obj").setPageSize(PAGE)).build());
        assertThat(routines(session)).containsExactly(PAGER_WELCOME, MEMORY_OBJECT_READY);
        return session;
    }

    private void lock(long session, long offset) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectLockFutex(
                MemoryObjectLockFutex.newBuilder().setObjectId(7).setOffset(offset)).build());
    }

    /** lock_futex with the priority of the kernel's top waiter. */
    private void lock(long session, long offset, int priority) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectLockFutex(
                MemoryObjectLockFutex.newBuilder().setObjectId(7).setOffset(offset).setPriority(priority)).build());
    }

    /** lock_futex update: a new priority for the lock_futex the kernel has outstanding. */
    private void update(long session, long offset, int priority) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(offset).setPriority(priority).setUpdate(true)).build());
    }

    private void trylock(long session, long offset) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectLockFutex(
                MemoryObjectLockFutex.newBuilder().setObjectId(7).setOffset(offset).setTry(true)).build());
    }

    /** futex_released with the token of the futex's current grant, as the holder knows it. */
    private void released(long session, long offset) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased
                .newBuilder().setObjectId(7).setOffset(offset).setFencingToken(pager.fencingToken("obj", offset))).build());
    }

    /** The routines sent to the session since the last look; a grant carrying a relinquish counts as both. */
    private List<PagerToKernel.RoutineCase> routines(long session) {
        List<PagerToKernel> got = inbox.getOrDefault(session, new ArrayList<>());
        List<PagerToKernel.RoutineCase> out = got.stream().flatMap(m -> m.getMemoryObjectFutexGranted().getRelinquish()
                ? java.util.stream.Stream.of(MEMORY_OBJECT_FUTEX_GRANTED, MEMORY_OBJECT_RELINQUISH_FUTEX)
                : java.util.stream.Stream.of(m.getRoutineCase())).toList();
        got.clear();
        return out;
    }

    /**
     * What was sent to the session since the last look, futex messages spelled out: "granted",
     * "busy", "relinquish P" (P its priority; "relinquish P try" for a trylock's); anything else by
     * its routine name. A grant that carries a relinquish says "granted+relinquish P".
     */
    private List<String> said(long session) {
        List<PagerToKernel> got = inbox.getOrDefault(session, new ArrayList<>());
        List<String> out = got.stream().map(m -> switch (m.getRoutineCase()) {
            case MEMORY_OBJECT_FUTEX_GRANTED -> m.getMemoryObjectFutexGranted().getRelinquish()
                    ? "granted+relinquish " + m.getMemoryObjectFutexGranted().getRelinquishPriority() : "granted";
            case MEMORY_OBJECT_FUTEX_BUSY -> "busy";
            case MEMORY_OBJECT_RELINQUISH_FUTEX -> "relinquish " + m.getMemoryObjectRelinquishFutex().getPriority()
                    + (m.getMemoryObjectRelinquishFutex().getTry() ? " try" : "")
                    + (m.getMemoryObjectRelinquishFutex().getRequeued() ? " requeued" : "");
            default -> m.getRoutineCase().name();
        }).toList();
        got.clear();
        return out;
    }

    private void probe(long session, long offset, int initiator, long wait, int hops) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder()
                .setObjectId(7).setOffset(offset).setInitiator(initiator).setWait(wait).setHops(hops)).build());
    }

    /** Deadlock probes go to the futex's holder, one hop further; dropped where the chain is broken. */
    @Test
    void aDeadlockProbeGoesToTheHolderOfTheFutex() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        lock(a, 64);
        lock(b, 64);
        said(a);
        said(b);
        probe(b, 64, 0x200001, 5, 1);
        List<PagerToKernel> toA = inbox.get(a);
        assertThat(toA).hasSize(1);
        MemoryObjectFutexProbe p = toA.get(0).getMemoryObjectFutexProbe();
        assertThat(p.getObjectId()).isEqualTo(7);
        assertThat(p.getOffset()).isEqualTo(64);
        assertThat(p.getInitiator()).isEqualTo(0x200001);
        assertThat(p.getWait()).isEqualTo(5);
        assertThat(p.getHops()).isEqualTo(2);
        toA.clear();
        // C waits for the futex too: a pager passes a probe only from a kernel queued for it (8.9).
        lock(c, 64);
        said(a);
        said(c);

        probe(a, 64, 0x100001, 1, 0);
        assertThat(said(a)).as("its own futex: nowhere to go").isEmpty();
        probe(c, 128, 0x300001, 1, 0);
        assertThat(said(a)).as("a free futex: the chain is broken").isEmpty();
        probe(c, 64, 0x300001, 1, 1025);
        assertThat(said(a)).as("more hops than the bound: a chain that does not come back").isEmpty();
        probe(c, 64, 0x300001, 1, 4);
        assertThat(said(a)).as("more hops than kernels: a cycle may pass a kernel twice").hasSize(1);
        assertThat(said(b)).isEmpty();
        assertThat(stats.refused()).isZero();
    }

    /** Grants in arrival order; the holder is asked to relinquish once, the next holder at once. */
    @Test
    void grantsInArrivalOrderAndRelinquishesOncePerGrant() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        lock(a, 0);
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
        lock(b, 0);
        lock(c, 0);
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_RELINQUISH_FUTEX);
        assertThat(routines(b)).isEmpty();
        assertThat(routines(c)).isEmpty();

        released(a, 0);
        assertThat(routines(b)).as("B asked first; C still waits, so B is asked back at once")
                .containsExactly(MEMORY_OBJECT_FUTEX_GRANTED, MEMORY_OBJECT_RELINQUISH_FUTEX);
        assertThat(routines(c)).isEmpty();
        lock(a, 0);
        assertThat(routines(b)).as("relinquish already sent for this grant").isEmpty();

        released(b, 0);
        assertThat(routines(c)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED, MEMORY_OBJECT_RELINQUISH_FUTEX);
        released(c, 0);
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
        assertThat(pager.holderOf("obj", 0)).isEqualTo("A");
        assertThat(stats.grants()).isEqualTo(4);
        assertThat(stats.handoffs()).isEqualTo(3);
    }

    /** Futexes are independent: different offsets, different owners. */
    @Test
    void differentOffsetsAreDifferentFutexes() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 0);
        lock(b, 4);
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
        assertThat(routines(b)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
    }

    /** memory_object_futex_held from the holder, with the token of its grant. */
    private void held(long session, long offset) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectFutexHeld(MemoryObjectFutexHeld.newBuilder()
                .setObjectId(7).setOffset(offset).setFencingToken(pager.fencingToken("obj", offset))).build());
    }

    /**
     * A trylock of a futex another kernel caches asks that kernel (relinquish with try): it is free
     * if nobody there owns it, and then the trylock gets it (Linux: TRYLOCK_PI on a free word).
     */
    @Test
    void aTryOnACachedFutexAsksTheHolderAndGetsItWhenGivenBack() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 0);
        said(a);
        trylock(b, 0);
        trylock(b, 0);
        assertThat(said(a)).as("asked once").containsExactly("relinquish 0 try");
        assertThat(said(b)).isEmpty();
        assertThat(stats.refused()).as("a second try while the first waits").isEqualTo(1);
        released(a, 0);
        assertThat(said(b)).containsExactly("granted");
        assertThat(pager.holderOf("obj", 0)).isEqualTo("B");
        assertThat(said(a)).isEmpty();
    }

    /**
     * The relinquish with try carries the trylock's priority, so that a holder whose woken heir has
     * not run gives the futex to a try above it (Linux's TRYLOCK_PI steal): released without
     * request_again, it goes to the try; the holder's own lock_futex after it queues as any (an
     * older kernel's way: a kernel now asks again inside the release, TryAheadOfQueueTest).
     */
    @Test
    void aTrysPriorityGoesToTheHolderAndAReleaseWithoutAskingAgainGrantsTheTry() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 0);
        said(a);
        pager.onXp(b, KernelToPager.newBuilder().setMemoryObjectLockFutex(
                MemoryObjectLockFutex.newBuilder().setObjectId(7).setOffset(0).setTry(true).setPriority(30)).build());
        assertThat(said(a)).containsExactly("relinquish 30 try");
        released(a, 0);
        lock(a, 0, 20);
        assertThat(said(b)).containsExactly("granted", "relinquish 20");
        assertThat(pager.holderOf("obj", 0)).isEqualTo("B");
    }

    /** The holder keeps a futex a thread there owns: futex_held, and the trylock is busy. */
    @Test
    void aTryOnAnOwnedFutexIsBusyOnceTheHolderSaysSo() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        lock(a, 0);
        said(a);
        trylock(b, 0);
        trylock(c, 0);
        assertThat(said(a)).containsExactly("relinquish 0 try");
        held(a, 0);
        assertThat(said(b)).containsExactly("busy");
        assertThat(said(c)).containsExactly("busy");
        assertThat(pager.holderOf("obj", 0)).isEqualTo("A");
        held(a, 0);
        assertThat(said(b)).as("a futex_held nobody asked for is dropped").isEmpty();
        trylock(b, 0);
        assertThat(said(a)).as("a later try asks again").containsExactly("relinquish 0 try");
    }

    /**
     * A trylock never queues: busy at once while kernels wait. One asked of the holder before a
     * lock came is answered by the release: busy if the lock is above it (xp-spec 8.3: the lock may
     * have reached the holder first, and a trylock steals only above the top waiter; review tb
     * LOW-1, before the try at 0 went ahead of C at 5), first if it is above the lock.
     */
    @Test
    void aTryNeverWaitsBehindALock() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        lock(a, 0);
        said(a);
        trylock(b, 0);
        lock(c, 0, 5);
        assertThat(said(a)).containsExactly("relinquish 0 try", "relinquish 5");
        released(a, 0);
        assertThat(said(c)).as("C (5) above the try (0)").containsExactly("granted");
        assertThat(said(b)).containsExactly("busy");
        trylock(a, 0);
        assertThat(said(c)).as("nobody waits: the holder is asked").containsExactly("relinquish 0 try");
        released(c, 0);
        assertThat(said(a)).containsExactly("granted");
    }

    /** A futex_held that crossed the futex on its way back (from a kernel that no longer holds it) is dropped. */
    @Test
    void aFutexHeldFromAKernelThatGaveItBackIsDropped() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 0);
        said(a);
        trylock(b, 0);
        released(a, 0);
        assertThat(said(b)).containsExactly("granted");
        said(a);
        held(a, 0);
        assertThat(said(b)).isEmpty();
        assertThat(pager.holderOf("obj", 0)).isEqualTo("B");
        assertThat(stats.refused()).isZero();
    }

    /** A kernel whose stream ends releases what it held and leaves every queue. */
    @Test
    void aClosedSessionReleasesEverything() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        lock(a, 0);
        lock(b, 0);
        lock(c, 0);
        routines(a);
        pager.sessionClosed(b);
        pager.sessionClosed(a);
        assertThat(routines(c)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
        assertThat(pager.holderOf("obj", 0)).isEqualTo("C");
        assertThat(pager.kernels()).containsExactly("C");
    }

    /** Terminate releases the futexes the kernel held in that object. */
    @Test
    void terminateReleasesTheObjectsFutexes() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 8);
        lock(b, 8);
        routines(a);
        pager.onXp(a, KernelToPager.newBuilder().setMemoryObjectTerminate(
                MemoryObjectTerminate.newBuilder().setObjectId(7)).build());
        assertThat(routines(b)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
    }

    // ---- bad input catalog --------------------------------------------------------------------

    /**
     * One malformed or out-of-order kernel message: what it is, how many refusals it counts (0 when
     * the protocol has an answer for it), what the pager sends for it, as "A:ROUTINE", and how to
     * send it. Kernel A holds the futex at 0 and writes page 0; B is connected and has "obj" as 7.
     */
    record BadInput(String what, int refused, List<String> answer, Consumer<PagerCoreTest> send) {
        @Override
        public String toString() {
            return what;
        }
    }

    static List<BadInput> badInputs() {
        return List.of(
            new BadInput("data_request for an object id never initialized: data_error", 0,
                    List.of("B:MEMORY_OBJECT_DATA_ERROR"), t -> t.pager.onXp(2, KernelToPager.newBuilder()
                            .setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder().setObjectId(99)
                                    .setOffset(0).setLength(PAGE)).build())),
            new BadInput("data_unlock for an object id never initialized: data_error", 0,
                    List.of("B:MEMORY_OBJECT_DATA_ERROR"), t -> t.pager.onXp(2, KernelToPager.newBuilder()
                            .setMemoryObjectDataUnlock(MemoryObjectDataUnlock.newBuilder().setObjectId(99)
                                    .setOffset(0).setLength(PAGE).setDesiredAccess(VmProt.VM_PROT_WRITE)).build())),
            new BadInput("init of an object the pager does not serve: destroyed", 0, List.of("B:MEMORY_OBJECT_DESTROY"),
                    t -> t.pager.onXp(2, KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                            .setObjectId(8).setName("missing").setPageSize(PAGE)).build())),
            // answered since outside review 3 (O3-4; xp-spec 5.1), no longer dropped: the same object is ready again
            new BadInput("init of an object id already in use, for the same object: ready again", 0,
                    List.of("B:MEMORY_OBJECT_READY"), t -> t.pager.onXp(2, KernelToPager
                    .newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(7).setName("obj")
                            .setPageSize(PAGE)).build())),
            new BadInput("terminate of an object id never initialized", 1, List.of(), t -> t.pager.onXp(2, KernelToPager
                    .newBuilder().setMemoryObjectTerminate(MemoryObjectTerminate.newBuilder().setObjectId(99)).build())),
            new BadInput("lock_futex for an object id never initialized", 1, List.of(), t -> t.pager.onXp(2, KernelToPager
                    .newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder().setObjectId(99)).build())),
            new BadInput("lock_futex at an unaligned offset", 1, List.of(), t -> t.lock(2, 2)),
            new BadInput("lock_futex outside the object", 1, List.of(), t -> t.lock(2, 4L * PAGE)),
            new BadInput("lock_futex for a futex it holds", 1, List.of(), t -> t.lock(1, 0)),
            new BadInput("a second lock_futex without update", 1, List.of(), t -> {
                t.lock(2, 0);
                t.said(1); // A: relinquish
                t.lock(2, 0);
            }),
            new BadInput("a try from a kernel that already waits", 1, List.of(), t -> {
                t.lock(2, 0);
                t.said(1);
                t.trylock(2, 0);
            }),
            new BadInput("an update without a lock_futex", 1, List.of(), t -> t.update(2, 0, 5)),
            new BadInput("futex_released of a futex it does not hold", 1, List.of(), t -> t.released(2, 0)),
            new BadInput("futex_released of a futex nobody ever asked for", 1, List.of(), t -> t.released(2, 128)),
            new BadInput("a futex_probe for an object id never initialized", 1, List.of(), t -> t.pager.onXp(2,
                    KernelToPager.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder()
                            .setObjectId(99).setOffset(0).setInitiator(0x200001)).build())),
            new BadInput("lock_completed nobody asked for", 1, List.of(), t -> t.pager.onXp(2, KernelToPager.newBuilder()
                    .setMemoryObjectLockCompleted(MemoryObjectLockCompleted.newBuilder().setObjectId(7).setOffset(0)
                            .setLength(PAGE)).build())),
            new BadInput("data_return of a page it does not hold", 1, List.of(), t -> t.pager.onXp(2, KernelToPager
                    .newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder().setObjectId(7)
                            .setOffset(0).setDirty(true).setData(ByteString.copyFrom(new byte[PAGE]))).build())),
            new BadInput("data_return of less than a page", 1, List.of(), t -> t.pager.onXp(1, KernelToPager.newBuilder()
                    .setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder().setObjectId(7).setOffset(0)
                            .setDirty(true).setData(ByteString.copyFrom(new byte[100])).setKernelCopy(true)).build())),
            new BadInput("data_unlock of a range that is not one page: data_error", 0,
                    List.of("B:MEMORY_OBJECT_DATA_ERROR"), t -> t.pager.onXp(2, KernelToPager
                    .newBuilder().setMemoryObjectDataUnlock(MemoryObjectDataUnlock.newBuilder().setObjectId(7)
                            .setOffset(PAGE).setLength(2L * PAGE)).build())),
            new BadInput("data_unlock for a page it does not hold: supplied writable", 0,
                    List.of("B:MEMORY_OBJECT_DATA_UNAVAILABLE"), t -> t.pager.onXp(2, KernelToPager.newBuilder()
                            .setMemoryObjectDataUnlock(MemoryObjectDataUnlock.newBuilder().setObjectId(7)
                                    .setOffset(3L * PAGE).setLength(PAGE).setDesiredAccess(VmProt.VM_PROT_WRITE)).build())),
            new BadInput("data_request outside the object: data_error", 0, List.of("B:MEMORY_OBJECT_DATA_ERROR"),
                    t -> t.pager.onXp(2, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest
                            .newBuilder().setObjectId(7).setOffset(4L * PAGE).setLength(PAGE)).build())));
    }

    /**
     * Each bad input is refused - counted, logged at WARN - or answered as the protocol says, the
     * pager sends nothing else, A keeps its futex and its page, and a kernel that behaves still gets
     * a futex and a page.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void aBadInputIsRefusedAndChangesNothing(BadInput bad) {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 0);
        pager.onXp(a, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(7).setOffset(0).setLength(PAGE).setDesiredAccess(VmProt.VM_PROT_READ_WRITE)).build());
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED, MEMORY_OBJECT_DATA_UNAVAILABLE);
        ListAppender<ILoggingEvent> warnings = new ListAppender<>();
        Logger log = (Logger) LoggerFactory.getLogger(PagerCore.class);
        warnings.start();
        log.addAppender(warnings);
        try {
            bad.send().accept(this);
        } finally {
            log.detachAppender(warnings);
        }

        assertThat(stats.refused()).isEqualTo(bad.refused());
        assertThat(warnings.list).filteredOn(e -> e.getLevel() == Level.WARN && e.getFormattedMessage().contains("refused"))
                .hasSize(bad.refused());
        List<String> answer = new ArrayList<>();
        inbox.forEach((session, got) -> got.forEach(m -> answer.add((session == a ? "A:" : session == b ? "B:" : session + ":")
                + m.getRoutineCase())));
        assertThat(answer).containsExactlyElementsOf(bad.answer());
        inbox.clear();
        assertThat(ended).isEmpty();
        assertThat(pager.holderOf("obj", 0)).isEqualTo("A");
        assertThat(pager.pageWriter("obj", 0)).isEqualTo("A");

        lock(b, 64);
        assertThat(routines(b)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
        pager.onXp(b, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(7).setOffset(2L * PAGE).setLength(PAGE).setDesiredAccess(VmProt.VM_PROT_READ)).build());
        assertThat(routines(b)).containsExactly(MEMORY_OBJECT_DATA_UNAVAILABLE);
        assertThat(stats.refused()).isEqualTo(bad.refused());
    }

    /** A breach of the protocol's order or form: what it is, how it ends the stream, and how to send it. */
    record Breach(String what, long session, XpProtocolError error, Consumer<PagerCoreTest> send) {
        @Override
        public String toString() {
            return what;
        }
    }

    static List<Breach> breaches() {
        return List.of(
            new Breach("a message before kernel_hello", 9, XpProtocolError.EPROTO, t -> {
                t.pager.sessionOpened(9);
                t.lock(9, 64);
            }),
            new Breach("a second kernel_hello", 2, XpProtocolError.EPROTO, t -> t.pager.onXp(2,
                    KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("B2")
                            .setProtocolVersion(1)).build())),
            new Breach("a message with no routine", 2, XpProtocolError.EBADMSG,
                    t -> t.pager.onXp(2, KernelToPager.getDefaultInstance())),
            new Breach("a routine this pager does not know", 2, XpProtocolError.EBADMSG,
                    t -> t.pager.onXp(2, KernelToPager.newBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet
                            .newBuilder().addField(99, com.google.protobuf.UnknownFieldSet.Field.newBuilder()
                                    .addVarint(1).build()).build()).build())),
            new Breach("kernel_hello without a protocol version", 9, XpProtocolError.EPROTONOSUPPORT,
                    t -> t.hello(9, 0)),
            new Breach("kernel_hello of protocol version 3", 9, XpProtocolError.EPROTONOSUPPORT, t -> t.hello(9, 3)),
            new Breach("kernel_hello of protocol version 99", 9, XpProtocolError.EPROTONOSUPPORT, t -> t.hello(9, 99)));
    }

    private void hello(long session, int version) {
        pager.sessionOpened(session);
        pager.onXp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("N")
                .setProtocolVersion(version)).build());
    }

    /**
     * A breach of the protocol's order or form ends the stream at once, with a status that says
     * which (and, for a version, which versions the pager speaks); nothing is sent on it, A keeps
     * its futex, and a kernel that behaves is still served.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("breaches")
    void aProtocolBreachEndsTheStreamAtOnce(Breach breach) {
        long a = kernel(1, "A");
        kernel(2, "B");
        kernel(3, "C");
        lock(a, 0);
        routines(a);
        breach.send().accept(this);
        assertThat(protocolEnded).containsOnlyKeys(breach.session());
        assertThat(protocolEnded.get(breach.session())).startsWith(breach.error().name());
        if (breach.error() == XpProtocolError.EPROTONOSUPPORT) {
            assertThat(protocolEnded.get(breach.session())).contains("speaks versions 1 and 2");
        }
        assertThat(routines(breach.session())).isEmpty();
        assertThat(pager.kernels()).doesNotContain("N", "B2");
        assertThat(pager.kernels().contains("B")).isEqualTo(breach.session() != 2);
        assertThat(pager.holderOf("obj", 0)).isEqualTo("A");
        lock(3, 64);
        assertThat(routines(3)).containsExactly(MEMORY_OBJECT_FUTEX_GRANTED);
    }

    /** Kernel names are unique while connected; a name keeps its kernel id across sessions. */
    @Test
    void kernelNamesAreUniqueAndKeepTheirIds() {
        kernel(1, "A");
        kernel(2, "B");
        pager.sessionOpened(3);
        pager.onXp(3, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1)).build());
        assertThat(ended).containsEntry(3L, Errno.EEXIST);
        pager.sessionClosed(1);
        pager.sessionOpened(4);
        pager.onXp(4, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("A")
                .setProtocolVersion(1)).build());
        assertThat(inbox.get(4L).get(0).getPagerWelcome().getKernelId()).isEqualTo(1);
    }

    /** Unknown objects are destroyed; pages are zero fill; ranges outside the object are errors. */
    @Test
    void objectsAndPages() {
        long a = kernel(1, "A");
        pager.onXp(a, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(8).setName("missing").setPageSize(PAGE)).build());
        List<PagerToKernel> got = new ArrayList<>(inbox.get(a));
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_DESTROY);
        assertThat(got.get(0).getMemoryObjectDestroy().getReason()).contains("'missing'").contains("obj");
        pager.onXp(a, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(7).setOffset(PAGE).setLength(PAGE)).build());
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_DATA_UNAVAILABLE);
        pager.onXp(a, KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(7).setOffset(4L * PAGE).setLength(PAGE)).build());
        assertThat(routines(a)).containsExactly(MEMORY_OBJECT_DATA_ERROR);
    }

    // ---- priority inheritance across kernels -----------------------------------------------------

    /** The highest priority is granted first, FIFO among equals; relinquish carries the top priority. */
    @Test
    void grantsHighestPriorityFirstAndInArrivalOrderAmongEquals() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        long d = kernel(4, "D");
        lock(a, 0, 1);
        assertThat(said(a)).containsExactly("granted");
        lock(b, 0, 5);
        assertThat(said(a)).containsExactly("relinquish 5");
        lock(c, 0, 9);
        assertThat(said(a)).as("the top waiting priority rose").containsExactly("relinquish 9");
        lock(d, 0, 5);
        assertThat(said(a)).as("the top did not change").isEmpty();

        released(a, 0);
        assertThat(said(c)).as("9 before the 5s; B and D still wait")
                .containsExactly("granted+relinquish 5");
        assertThat(said(b)).isEmpty();
        assertThat(said(d)).isEmpty();
        released(c, 0);
        assertThat(said(b)).as("B came before D").containsExactly("granted+relinquish 5");
        assertThat(said(d)).isEmpty();
        released(b, 0);
        assertThat(said(d)).containsExactly("granted");
        released(d, 0);
        assertThat(pager.holderOf("obj", 0)).isNull();
        assertThat(stats.grants()).isEqualTo(4);
        assertThat(stats.handoffs()).isEqualTo(3);
        assertThat(stats.refused()).isZero();
    }

    /**
     * A kernel that gives a futex back while its own threads still wait asks again inside
     * futex_released (request_again): it is queued before the next holder is picked, so that
     * grant carries the relinquish for it, and no relinquish can come after an unlock that
     * already happened (the race a separate lock_futex left open).
     */
    @Test
    void aReleaseThatAsksAgainIsQueuedBeforeTheGrantItCauses() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 0, 10);
        said(a);
        lock(b, 0, 40);
        assertThat(said(a)).containsExactly("relinquish 40");
        pager.onXp(a, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(7).setOffset(0).setFencingToken(pager.fencingToken("obj", 0)).setHandoff(true)
                .setRequestAgain(true).setRequestPriority(20)).build());
        assertThat(said(b)).as("A already waits again, at 20: inside the grant").containsExactly("granted+relinquish 20");
        assertThat(inbox.get(b)).isEmpty();
        assertThat(said(a)).isEmpty();
        released(b, 0);
        List<PagerToKernel> toA = new ArrayList<>(inbox.get(a));
        assertThat(said(a)).containsExactly("granted");
        assertThat(toA.get(0).getMemoryObjectFutexGranted().getHandoff()).isFalse();
        assertThat(stats.refused()).isZero();
    }

    /** An update raises a queued kernel ahead of the others and the holder is asked again, higher. */
    @Test
    void anUpdateRaisesAQueuedKernelAndTheHolderIsAskedAgain() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        long d = kernel(4, "D");
        lock(a, 0, 0);
        said(a);
        lock(b, 0, 3);
        lock(c, 0, 3);
        lock(d, 0, 3);
        assertThat(said(a)).containsExactly("relinquish 3");
        update(d, 0, 8);
        assertThat(said(a)).containsExactly("relinquish 8");
        lock(c, 0, 6); // a second lock_futex without update: refused, C keeps 3
        assertThat(stats.refused()).isEqualTo(1);
        update(c, 0, 6);
        assertThat(said(a)).as("the top stays 8").isEmpty();

        released(a, 0);
        assertThat(said(d)).containsExactly("granted+relinquish 6");
        released(d, 0);
        assertThat(said(c)).containsExactly("granted+relinquish 3");
        released(c, 0);
        assertThat(said(b)).containsExactly("granted");
        assertThat(stats.refused()).isEqualTo(1);
    }

    /** An update keeps the kernel's arrival place among kernels of the same priority. */
    @Test
    void anUpdateKeepsTheArrivalPlace() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        lock(a, 0, 0);
        lock(b, 0, 4);
        lock(c, 0, 4);
        update(b, 0, 7);
        update(b, 0, 4);
        said(a);
        released(a, 0);
        assertThat(said(b)).as("B arrived before C and is back at 4").containsExactly("granted+relinquish 4");
        assertThat(said(c)).isEmpty();
        update(c, 0, 2);
        assertThat(said(b)).containsExactly("relinquish 2");
        released(b, 0);
        assertThat(said(c)).containsExactly("granted");
    }

    /**
     * An update that says requeued (the kernel's top waiter changed priority) puts the kernel behind
     * the kernels of its new priority, and the holder hears it was requeued when it heads the queue.
     */
    @Test
    void aRequeuedUpdateGoesBehindItsNewEquals() {
        long[] k = fourKernelsAHoldsBWaitsWith9CWith4();
        long a = k[0];
        long b = k[1];
        long c = k[2];
        long d = k[3];
        assertThat(said(a)).containsExactly("relinquish 9");
        requeued(b, 0, 4);
        assertThat(said(a)).as("C heads the 4s: its wait is older, not requeued").containsExactly("relinquish 4");
        lock(d, 0, 6);
        requeued(d, 0, 5);
        assertThat(said(a)).containsExactly("relinquish 6", "relinquish 5 requeued");
        released(a, 0);
        assertThat(said(d)).containsExactly("granted+relinquish 4");
        released(d, 0);
        assertThat(said(c)).as("C before B, which was requeued behind it").containsExactly("granted+relinquish 4");
        released(c, 0);
        assertThat(said(b)).containsExactly("granted");
    }

    /**
     * "Blocked first" across kernels (xp-spec 8.6): a relinquish and a grant that carries one say
     * how long the first kernel in the queue has waited, its own kernel's waited_nanos plus the
     * time since on the pager's clock; a kernel that did not say waits from its lock_futex's arrival.
     */
    @Test
    void aRelinquishSaysHowLongTheWaiterElsewhereWaited() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        lock(a, 0, 0);
        said(a);
        pager.onXp(b, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(0).setPriority(30).setWaitedNanos(4_000_000)).build());
        MemoryObjectRelinquishFutex ask = inbox.get(a).get(0).getMemoryObjectRelinquishFutex();
        inbox.get(a).clear();
        assertThat(ask.hasWaitedNanos()).isTrue();
        assertThat(ask.getWaitedNanos()).as("B's top waiter blocked 4ms before B asked").isEqualTo(4_000_000);
        clock[0] += 6_000_000;
        pager.onXp(c, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(0).setPriority(30)).build());
        released(a, 0);
        MemoryObjectFutexGranted toB = inbox.get(b).get(0).getMemoryObjectFutexGranted();
        assertThat(toB.getRelinquish()).isTrue();
        assertThat(toB.hasRelinquishWaitedNanos()).isTrue();
        assertThat(toB.getRelinquishWaitedNanos()).as("C did not say: from its lock_futex's arrival").isZero();
        clock[0] += 3_000_000;
        pager.onXp(b, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(7).setOffset(0).setFencingToken(pager.fencingToken("obj", 0)).setRequestAgain(true)
                .setRequestPriority(30).setRequestWaitedNanos(1_000_000)).build());
        MemoryObjectFutexGranted toC = inbox.get(c).get(0).getMemoryObjectFutexGranted();
        assertThat(toC.getRelinquishWaitedNanos()).as("B asked again: its top waiter has waited 1ms")
                .isEqualTo(1_000_000);
    }

    /**
     * The head of the queue says, at the same priority, that its top waiter is younger (the one
     * before it left): the holder is asked again with the new waited_nanos, so it places that
     * kernel's wait behind its own waiters of that priority that blocked before.
     */
    @Test
    void anUpdateOfTheHeadsWaitAtTheSamePriorityIsPassedOn() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        lock(a, 0, 0);
        said(a);
        pager.onXp(b, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(0).setPriority(30).setWaitedNanos(0)).build());
        inbox.get(a).clear();
        clock[0] += 20_000_000;
        pager.onXp(b, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(0).setPriority(30).setUpdate(true).setWaitedNanos(10_000_000)).build());
        assertThat(inbox.get(a)).hasSize(1);
        MemoryObjectRelinquishFutex again = inbox.get(a).get(0).getMemoryObjectRelinquishFutex();
        assertThat(again.getPriority()).isEqualTo(30);
        assertThat(again.getRequeued()).isFalse();
        assertThat(again.getWaitedNanos()).isEqualTo(10_000_000);
        inbox.get(a).clear();
        update(b, 0, 30);
        assertThat(inbox.getOrDefault(a, List.of())).as("nothing new: nothing sent").isEmpty();
    }

    /** Kernels A, B, C and D (sessions 1 to 4): A holds the futex at 0, B waits for it with 9, C with 4. */
    private long[] fourKernelsAHoldsBWaitsWith9CWith4() {
        long[] k = {kernel(1, "A"), kernel(2, "B"), kernel(3, "C"), kernel(4, "D")};
        lock(k[0], 0, 0);
        said(k[0]);
        lock(k[1], 0, 9);
        lock(k[2], 0, 4);
        return k;
    }

    /** lock_futex update with requeued: the kernel's top waiter's priority changed. */
    private void requeued(long session, long offset, int priority) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(offset).setPriority(priority).setUpdate(true).setRequeued(true)).build());
    }

    /** The top falls when a queued kernel goes down or leaves: asked again lower, only on a change. */
    @Test
    void theHolderIsAskedAgainLowerWhenTheTopFalls() {
        long[] k = fourKernelsAHoldsBWaitsWith9CWith4();
        long a = k[0];
        long b = k[1];
        long c = k[2];
        long d = k[3];
        lock(d, 0, 4);
        assertThat(said(a)).containsExactly("relinquish 9");
        update(b, 0, 2);
        assertThat(said(a)).as("C and D are the top now").containsExactly("relinquish 4");
        update(b, 0, 3);
        assertThat(said(a)).as("the top is still 4").isEmpty();
        pager.sessionClosed(c);
        assertThat(said(a)).as("D still waits with 4").isEmpty();
        pager.sessionClosed(d);
        assertThat(said(a)).containsExactly("relinquish 3");
        pager.onXp(b, KernelToPager.newBuilder().setMemoryObjectTerminate(
                MemoryObjectTerminate.newBuilder().setObjectId(7)).build());
        assertThat(said(a)).as("nobody waits: A deboosts, and gives it back anyway").containsExactly("relinquish 0");
        long e = kernel(5, "E");
        long f = kernel(6, "F");
        lock(e, 0, 3);
        assertThat(said(a)).containsExactly("relinquish 3");
        update(e, 0, 0);
        assertThat(said(a)).as("the only waiter's priority fell to 0").containsExactly("relinquish 0");
        update(e, 0, 3);
        assertThat(said(a)).containsExactly("relinquish 3");
        lock(f, 0, 5);
        assertThat(said(a)).containsExactly("relinquish 5");
        released(a, 0);
        assertThat(said(f)).containsExactly("granted+relinquish 3");
        assertThat(said(e)).isEmpty();
        assertThat(stats.refused()).isZero();
    }

    /** The holder may not ask again, a queued kernel may not try; updates that crossed the grant are dropped. */
    @Test
    void locksFromTheHolderAndTriesFromWaitersChangeNothing() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        long d = kernel(4, "D");
        lock(a, 0, 2);
        said(a);
        lock(b, 0, 5);
        lock(c, 0, 6);
        assertThat(said(a)).containsExactly("relinquish 5", "relinquish 6");
        lock(a, 0, 9);
        assertThat(stats.refused()).as("a lock_futex from the holder").isEqualTo(1);
        trylock(b, 0);
        assertThat(stats.refused()).as("a try from a queued kernel").isEqualTo(2);
        update(d, 0, 7);
        assertThat(stats.refused()).as("an update from a kernel that did not ask").isEqualTo(3);
        update(a, 0, 9);
        assertThat(stats.refused()).as("an update that crossed the grant is not a violation").isEqualTo(3);
        assertThat(said(a)).isEmpty();
        assertThat(said(b)).isEmpty();
        assertThat(said(d)).isEmpty();

        released(a, 0);
        assertThat(said(c)).containsExactly("granted+relinquish 5");
        update(c, 0, 1);
        assertThat(stats.refused()).isEqualTo(3);
        assertThat(said(c)).as("C holds now; its late update changes nothing").isEmpty();
        released(c, 0);
        assertThat(said(b)).containsExactly("granted");
        released(b, 0);
        assertThat(pager.holderOf("obj", 0)).isNull();
    }

    /** With every priority 0 (--no-pi) the queue is FIFO and relinquish is sent once per grant, with 0. */
    @Test
    void priorityZeroIsFifoWithOneRelinquishPerGrant() {
        long a = kernel(1, "A");
        long b = kernel(2, "B");
        long c = kernel(3, "C");
        long d = kernel(4, "D");
        lock(a, 0);
        lock(b, 0);
        lock(c, 0);
        lock(d, 0);
        update(c, 0, 0);
        pager.sessionClosed(b);
        assertThat(said(a)).containsExactly("granted", "relinquish 0");
        released(a, 0);
        assertThat(said(c)).containsExactly("granted+relinquish 0");
        lock(a, 0);
        assertThat(said(c)).isEmpty();
        released(c, 0);
        assertThat(said(d)).containsExactly("granted+relinquish 0");
        released(d, 0);
        assertThat(said(a)).containsExactly("granted");
        assertThat(stats.refused()).isZero();
    }
}
