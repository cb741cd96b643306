package io.machxp.conform.kernel;

import static io.machxp.conform.kernel.KernelCases.should;
import static io.machxp.conform.kernel.KernelCases.that;

import com.google.common.util.concurrent.ListenableFuture;
import io.machxp.conform.ConformCase;
import io.machxp.conform.Skipped;
import io.machxp.proto.task.KernelThreadsRequest;
import io.machxp.proto.task.ThreadComputeReply;
import io.machxp.proto.task.ThreadComputeRequest;
import io.machxp.proto.task.ThreadStatus;
import io.machxp.proto.task.ThreadTerminateRequest;
import io.machxp.proto.task.VmLockFutexReply;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The kernel case of the trylock above a woken heir (spec 8.3, 8.4): a futex whose owner died
 * while its top waiter (the heir) cannot run is given up to a relinquish with try above the heir,
 * as Linux's FUTEX_TRYLOCK_PI steals the rt_mutex from a woken waiter that has not run; a try at
 * or below the heir is answered futex_held. The steal is optional (MAY): a kernel that answers
 * the higher try futex_held too is skipped, not failed; one that steals must ask again for its
 * heir inside the release (request_again at the heir's priority), with no separate lock_futex.
 */
final class KernelTryHeirCases {
    private KernelTryHeirCases() {}

    /** Threads that keep the kernel's CPUs busy above the heir (a kernel with more CPUs is skipped). */
    private static final int BUSY_THREADS = 4;

    static List<ConformCase<KernelProbe>> all() {
        return List.of(
                should("8.3-relinquish-try-above-heir", "a relinquish with try below a woken heir that has not run "
                        + "is answered futex_held; one above it may take the futex, released asking again for the "
                        + "heir inside the release", p -> {
                    KernelProbe.Mapping m = p.map(p.serve(4));
                    int owner = p.thread(10);
                    int heir = p.thread(20);
                    long off = 56;
                    KernelFutexCases.lockGranted(p, m, owner, off, false);
                    ListenableFuture<VmLockFutexReply> waiting = KernelFutexCases.secondWaiter(p, m, heir, off);
                    List<ListenableFuture<ThreadComputeReply>> busy = new ArrayList<>();
                    try {
                        Set<Integer> computing = new java.util.HashSet<>();
                        for (int i = 0; i < BUSY_THREADS; i++) {
                            int t = p.thread(30);
                            computing.add(t);
                            busy.add(p.async().threadCompute(ThreadComputeRequest.newBuilder().setTask(p.task())
                                    .setThread(t).setNanos(600_000_000_000L).build()));
                        }
                        m.link().awaitCondition("threads " + computing + " computing (thread_compute)",
                                () -> blockedIn(p, "thread_compute").containsAll(computing), p.deadline());
                        // the owner dies: the heir is woken for the futex, and cannot run
                        p.tasks().threadTerminate(ThreadTerminateRequest.newBuilder().setTask(p.task()).setThread(owner)
                                .build());
                        p.sync(m);
                        if (waiting.isDone()) {
                            throw new Skipped("the heir ran at once (the kernel has more CPUs than the " + BUSY_THREADS
                                    + " threads the kit keeps busy): no woken heir to pass over");
                        }
                        m.link().send(KernelMessages.relinquishTry(m.objectId(), off, 15));
                        p.await(m, "futex_held at 0x" + Long.toHexString(off) + ": a trylock elsewhere at 15, below "
                                + "the woken heir's 20 (spec 8.3)", x -> x.hasMemoryObjectFutexHeld()
                                        && x.getMemoryObjectFutexHeld().getObjectId() == m.objectId()
                                        && x.getMemoryObjectFutexHeld().getOffset() == off);
                        that(noRelease(m, off), "futex_released for a try below the woken heir (15 < 20): only a try "
                                + "above the heir may take its futex (spec 8.3)");
                        m.link().send(KernelMessages.relinquishTry(m.objectId(), off, 30));
                        KernelToPager answer = p.await(m, "futex_held or futex_released at 0x" + Long.toHexString(off)
                                + ": a trylock elsewhere at 30, above the woken heir's 20 (spec 8.3)",
                                x -> (x.hasMemoryObjectFutexHeld() && x.getMemoryObjectFutexHeld().getOffset() == off
                                        || x.hasMemoryObjectFutexReleased()
                                                && x.getMemoryObjectFutexReleased().getOffset() == off)
                                        && (x.hasMemoryObjectFutexHeld() ? x.getMemoryObjectFutexHeld().getObjectId()
                                                : x.getMemoryObjectFutexReleased().getObjectId()) == m.objectId());
                        if (answer.hasMemoryObjectFutexHeld()) {
                            if (waiting.isDone()) {
                                throw new Skipped("the heir ran before the try came: no woken heir to pass over");
                            }
                            throw new Skipped("the kernel keeps a woken heir's futex from a try above it (the steal "
                                    + "is optional, spec 8.3)");
                        }
                        MemoryObjectFutexReleased r = answer.getMemoryObjectFutexReleased();
                        that(r.getRequestAgain() && r.getRequestPriority() == 20, "the heir still waits: the "
                                + "release to the try must ask again inside it, with request_priority 20 (spec 8.3, "
                                + "8.4); it has request_again " + r.getRequestAgain() + ", request_priority "
                                + r.getRequestPriority());
                        p.sync(m);
                        that(m.link().pending().stream().noneMatch(x -> x.hasMemoryObjectLockFutex()
                                && x.getMemoryObjectLockFutex().getObjectId() == m.objectId()
                                && x.getMemoryObjectLockFutex().getOffset() == off), "a separate lock_futex after a "
                                + "release that asks again (spec 8.4: MUST NOT)");
                        that(!waiting.isDone(), "the heir's lock returned though the futex went to the try");
                    } finally {
                        busy.forEach(f -> f.cancel(true)); // the heir waits on for a grant; the task ends with the case
                    }
                }));
    }

    /** The TIDs of the kernel's threads blocked in {@code call}. */
    private static Set<Integer> blockedIn(KernelProbe p, String call) {
        return p.tasks().kernelThreads(KernelThreadsRequest.getDefaultInstance()).getThreadsList().stream()
                .filter(t -> t.getBlockedIn().equals(call)).map(ThreadStatus::getTid).collect(Collectors.toSet());
    }

    /** No futex_released of the futex at {@code off} is pending. */
    private static boolean noRelease(KernelProbe.Mapping m, long off) {
        return m.link().pending().stream().noneMatch(x -> x.hasMemoryObjectFutexReleased()
                && x.getMemoryObjectFutexReleased().getObjectId() == m.objectId()
                && x.getMemoryObjectFutexReleased().getOffset() == off);
    }
}
