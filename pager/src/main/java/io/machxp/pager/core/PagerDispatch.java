package io.machxp.pager.core;

import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;

/**
 * Each kernel's XP message to the part of the pager core that owns it ({@link PagerCore}'s
 * parts): core thread only.
 *
 * <h2>Overview</h2>
 * A message is dispatched in this order:
 * <pre>
 *  its session gone or broken      -> dropped (counted as fenced if it was declared dead; broken:
 *                                     the pager ended its stream, what the transport still
 *                                     delivers from it is not taken)
 *  otherwise                       -> the session's lease renewed, the message counted
 *  out of the protocol's order     -> the stream ends (a routine it knows, kernel_hello first and
 *                                     once, in a version it speaks: {@link PagerHello#inOrder})
 *  in order                        -> counted for a resume, a keepalive's acknowledgement taken
 *                                     ({@link PagerResume#received}); held if the grace period
 *                                     holds it ({@link PagerGrace#holds}), handled at its end
 *  kernel_hello                    -> the features it knows kept; a resume ({@link PagerResume}),
 *                                     a reclaim ({@link PagerGrace}; in parts: {@link ReclaimParts}),
 *                                     else a new session ({@link PagerHello#hello})
 *  reclaim_continue                -> a further part of a reclaim ({@link PagerGrace#reclaimPart});
 *                                     out of place: the stream ends (EPROTO)
 *  any other before kernel_hello   -> refused
 *  any other                       -> its part: objects ({@link PagerObjects}), pages
 *                                     ({@link PageCoherence}), futexes ({@link PagerFutexes}),
 *                                     keepalives ({@link SessionLeases})
 * </pre>
 */
final class PagerDispatch {
    /**
     * The hello features this pager knows (spec 6.12). A session keeps only these: a hello naming
     * thousands of others (a 4 MiB message holds half a million) must not make the pager keep them
     * for the session's life.
     */
    static final java.util.Set<String> FEATURES = java.util.Set.of("precious", "lock_ranges", "change_attributes",
            FutexHolderMap.FEATURE, PagerGrants.STALE_HEIR_FEATURE);
    private final CoreContext core;
    private final PageCoherence pages;
    private final PagerFutexes futexes;
    private final PagerSessions sessions;
    private final PagerHello hellos;
    private final PagerObjects objects;
    private final PagerGrace grace;
    private final PagerResume resume;

    PagerDispatch(CoreContext core, PageCoherence pages, PagerFutexes futexes, PagerSessions sessions,
            PagerHello hellos, PagerObjects objects, PagerGrace grace, PagerResume resume) {
        this.core = core;
        this.pages = pages;
        this.futexes = futexes;
        this.sessions = sessions;
        this.hellos = hellos;
        this.objects = objects;
        this.grace = grace;
        this.resume = resume;
    }

    /** An XP message on session {@code sessionId}, in the order of the overview. */
    void onXp(long sessionId, KernelToPager m) {
        KernelSession s = sessions.receiving(sessionId, m);
        if (s == null) {
            return;
        }
        sessions.heard(s);
        core.stats.received(s, m);
        if (!hellos.inOrder(s, m)) {
            return;
        }
        resume.received(s, m);
        if (grace.holds(s, m)) {
            return;
        }
        handle(s, m);
    }

    /** A message in order and not held: to its part (also what the grace period held, at its end). */
    void handle(KernelSession s, KernelToPager m) {
        if (m.getRoutineCase() == KernelToPager.RoutineCase.KERNEL_HELLO) {
            hello(s, m.getKernelHello(), m.getSerializedSize());
            return;
        }
        if (m.getRoutineCase() == KernelToPager.RoutineCase.MEMORY_OBJECT_RECLAIM_CONTINUE) {
            grace.reclaimPart(s, m.getMemoryObjectReclaimContinue(), m.getSerializedSize());
            return;
        }
        if (!s.welcomed()) {
            core.refuse(s, m.getRoutineCase() + " before kernel_hello");
            return;
        }
        switch (m.getRoutineCase()) {
            case MEMORY_OBJECT_INIT -> objects.init(s, m.getMemoryObjectInit());
            case MEMORY_OBJECT_DATA_REQUEST -> pages.dataRequest(s, m.getMemoryObjectDataRequest());
            case MEMORY_OBJECT_DATA_UNLOCK -> pages.dataUnlock(s, m.getMemoryObjectDataUnlock());
            case MEMORY_OBJECT_DATA_RETURN -> pages.dataReturn(s, m.getMemoryObjectDataReturn());
            case MEMORY_OBJECT_LOCK_COMPLETED -> pages.lockCompleted(s, m.getMemoryObjectLockCompleted());
            case MEMORY_OBJECT_TERMINATE -> objects.terminate(s, m.getMemoryObjectTerminate().getObjectId());
            case MEMORY_OBJECT_LOCK_FUTEX -> futexes.lockFutex(s, m.getMemoryObjectLockFutex());
            case MEMORY_OBJECT_FUTEX_RELEASED -> futexes.futexReleased(s, m.getMemoryObjectFutexReleased());
            case MEMORY_OBJECT_FUTEX_PROBE -> futexes.probes.futexProbe(s, m.getMemoryObjectFutexProbe(), sessions.count());
            case MEMORY_OBJECT_FUTEX_HELD -> futexes.futexHeld(s, m.getMemoryObjectFutexHeld());
            case KERNEL_KEEPALIVE -> sessions.leases.keepalive(s, m.getKernelKeepalive());
            case MEMORY_OBJECT_SYNCHRONIZE -> objects.synchronize(s, m.getMemoryObjectSynchronize());
            case MEMORY_OBJECT_SUPPLY_COMPLETED -> pages.supplyCompleted(s, m.getMemoryObjectSupplyCompleted());
            case MEMORY_OBJECT_CHANGE_COMPLETED -> objects.changeCompleted(s, m.getMemoryObjectChangeCompleted());
            default -> core.refuse(s, "a message with no routine");
        }
    }

    /** kernel_hello: with a resume, the resume's; with a reclaim, the grace period's; else a new session's. */
    private void hello(KernelSession s, KernelHello h, int size) {
        if (!hellos.mayHello(s, h)) {
            return;
        }
        s.resumable = h.getResumable();
        s.features.clear();
        for (String feature : h.getFeaturesList()) {
            if (FEATURES.contains(feature)) { // names it does not know, it ignores (xp.proto): and keeps none of them
                s.features.add(feature);
            }
        }
        if (h.hasResume() && resume.resume(s, h)) {
            return;
        }
        if (h.hasResume() && !h.hasReclaim()) {
            return; // refused: its stream has been ended
        }
        if (h.hasReclaim()) {
            grace.reclaimFirst(s, h, size);
            return;
        }
        hellos.hello(s, h);
    }
}
