package io.machxp.kernel.core;

import io.machxp.kernel.vm.VmObject;
import java.util.HashMap;
import java.util.Map;

/**
 * What the loss of one of the kernel's sessions leaves behind (see docs/multi-pager.md). Part of
 * {@link KernelSessions}: core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  a session stopped (lease out, refused reclaim, pager's word, shutdown) and forgot what it
 *      held there ──▶ left out of the kernel's lease gate ({@link SessionsGate}), then:
 *    the primary (0) ──▶ every other session stops too (the primary names the kernel: its
 *        kernel id makes the TIDs), but for a clean end's second part under way
 *    a secondary, the kernel going on ({@link #mayRejoin}) ──▶ RETIRED: its objects that a task
 *        maps are kept by id with the lost session (their mappings keep failing as its objects
 *        did), the others forgotten; a new session replaces it and opens by itself
 *        ({@link SessionRejoin})
 *  the last mapping of a retired object goes ({@link #unmapped}) ──▶ the object is forgotten
 * </pre>
 * A new session's objects are new objects, with new ids: a later vm_map of a retired object's
 * name maps a new one.
 */
final class LostSessions {
    private final KernelCore core;
    private final KernelSessions sessions;
    /**
     * The objects of secondary pagers' lost sessions, by id, with the session they were lost with:
     * the mappings tasks made of them fail as that session's objects did, whatever the pager's new
     * session does (a new session's objects are new objects, with new ids). Kept while a task maps
     * them: the last mapping's end forgets an object ({@link #unmapped}), one no task maps is
     * forgotten at once.
     */
    private final Map<Integer, KernelSession> retired = new HashMap<>();

    LostSessions(KernelCore core, KernelSessions sessions) {
        this.core = core;
        this.sessions = sessions;
    }

    /** Whether {@code o} was retired with its pager's lost session (its mappings stay failed). */
    boolean retired(VmObject o) {
        return !retired.isEmpty() && retired.containsKey(o.objectId);
    }

    /** The lost session object {@code objectId} was retired with, or null. */
    KernelSession retiredWith(int objectId) {
        return retired.get(objectId);
    }

    /**
     * Session {@code s} stopped using its pager and has forgotten what it held there. The gate
     * leaves it out; if it was the primary, every other session stops as well.
     */
    void stopped(KernelSession s, String reason) {
        if (sessions.count() == 1) {
            return;
        }
        sessions.gates.leaveOut(s.pager);
        if (s.pager == 0) {
            for (int p = 1; p < sessions.count(); p++) {
                if (sessions.shuttingDown() && sessions.session(p).ending()) {
                    continue; // a clean end's second part: it finishes on its own, its pager is not lost
                }
                sessions.session(p).onPagerLost("the kernel lost its primary pager, which names it (" + reason + ")");
            }
        } else if (mayRejoin(s)) {
            rejoinLater(s, reason);
        }
    }

    /**
     * Whether session {@code s}, of a secondary pager, may be replaced by a new one after its loss
     * (or go on trying to open one): it is its pager's session in use, the kernel still has its
     * primary (which names it) and is not shutting down.
     */
    boolean mayRejoin(KernelSession s) {
        return s.pager != 0 && !sessions.shuttingDown() && !sessions.primary().pagerLost()
                && sessions.session(s.pager) == s && !s.rejoin.cannotRejoin();
    }

    /**
     * Secondary session {@code lost} is over: its objects are retired (their mappings keep failing
     * as they do now; a later vm_map of one of their names maps a new object) and a new session
     * with the same pager replaces it, which sends its kernel_hello on a new stream a moment later
     * and again until the pager takes it ({@link SessionRejoin}). Nothing the kernel held
     * there is claimed back: that pager has passed it on (OWNER_DIED) or will when its lease of
     * this kernel runs out, and until then it refuses the hello (EAGAIN).
     */
    private void rejoinLater(KernelSession lost, String reason) {
        for (VmObject o : core.objects.servedBy(lost.pager)) {
            if (o.mappings > 0) {
                retired.put(o.objectId, lost);
                core.objects.forgetName(o);
            } else {
                core.objects.forget(o); // cached, mapped by no task: nothing can name it any more
            }
        }
        KernelSession next = sessions.replace(lost.pager);
        // A session lost before its welcome (its stream ended without a hello: the hello waits for
        // the primary's welcome, which a primary in its grace period holds) never learned its lease:
        // the primary's stands in for it, else the rejoin waited the longest retry (1 s), however short
        // the leases are.
        long lease = lost.leaseNanos() > 0 ? lost.leaseNanos() : sessions.primary().leaseNanos();
        next.rejoin.start(reason, KernelSession.retryNanos(lease));
    }

    /**
     * A task's mapping of {@code o} went (its task ended): a retired object that no task maps any
     * more is forgotten, with its place in {@link #retired} (and, with its last object, the lost
     * session it kept).
     */
    void unmapped(VmObject o) {
        if (o.mappings <= 0 && retired.remove(o.objectId) != null) {
            core.objects.forget(o);
        }
    }
}
