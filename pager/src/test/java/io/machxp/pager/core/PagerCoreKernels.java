package io.machxp.pager.core;

import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_BUSY;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_FUTEX_GRANTED;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_READY;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.MEMORY_OBJECT_RELINQUISH_FUTEX;
import static io.machxp.proto.xp.PagerToKernel.RoutineCase.PAGER_WELCOME;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.object.ObjectCatalog;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The test playing kernels against one {@link PagerCore}, shared by the pager core's tests of
 * futex ownership and the object service (PagerCoreGrantsTest, PagerCoreSessionsTest,
 * PagerCoreTryLockTest, PagerCorePriorityTest, PagerCoreBadInputTest; one class, PagerCoreTest,
 * before): a core serving one object "obj" of four pages, what it sent each session
 * ({@link #inbox}), the sessions it ended, its stats and its clock moved by hand; a kernel's
 * session opened with "obj" initialized as object id 7, the futex routines a kernel sends, and
 * what it was sent since the last look.
 */
abstract class PagerCoreKernels {
    static final int PAGE = 4096;
    final Map<Long, List<PagerToKernel>> inbox = new HashMap<>();
    final Map<Long, Errno> ended = new HashMap<>();
    final PagerStats stats = new PagerStats();
    final PagerCore pager = new PagerCore("p", PAGE, new ObjectCatalog(Map.of("obj", 4L * PAGE), PAGE),
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
    final long[] clock = {1_000_000_000L};
    final Map<Long, String> protocolEnded = new HashMap<>();

    /** Opens a session for a kernel that has initialized "obj" as object id 7. */
    long kernel(long session, String name) {
        pager.sessionOpened(session);
        pager.onXp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1)).build());
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(7).setName("obj").setPageSize(PAGE)).build());
        assertThat(routines(session)).containsExactly(PAGER_WELCOME, MEMORY_OBJECT_READY);
        return session;
    }

    void lock(long session, long offset) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectLockFutex(
                MemoryObjectLockFutex.newBuilder().setObjectId(7).setOffset(offset)).build());
    }

    /** lock_futex with the priority of the kernel's top waiter. */
    void lock(long session, long offset, int priority) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectLockFutex(
                MemoryObjectLockFutex.newBuilder().setObjectId(7).setOffset(offset).setPriority(priority)).build());
    }

    /** lock_futex update: a new priority for the lock_futex the kernel has outstanding. */
    void update(long session, long offset, int priority) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(7).setOffset(offset).setPriority(priority).setUpdate(true)).build());
    }

    void trylock(long session, long offset) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectLockFutex(
                MemoryObjectLockFutex.newBuilder().setObjectId(7).setOffset(offset).setTry(true)).build());
    }

    /** futex_released with the token of the futex's current grant, as the holder knows it. */
    void released(long session, long offset) {
        pager.onXp(session, KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased
                .newBuilder().setObjectId(7).setOffset(offset).setFencingToken(pager.fencingToken("obj", offset))).build());
    }

    /** The routines sent to the session since the last look; a grant carrying a relinquish counts as both. */
    List<PagerToKernel.RoutineCase> routines(long session) {
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
    List<String> said(long session) {
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
}
