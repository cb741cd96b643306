package io.machxp.kernel.core;

import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectTerminate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A kernel's clean end at one pager (xp-spec 2.6): the last step of {@link KernelXp#shutdown}
 * for one {@link KernelSession}, once the threads ended and the futexes went back
 * ({@link KernelSessions#shutdown}). Part of the kernel core: core thread only.
 *
 * <h2>Overview</h2>
 * {@link #terminateObjects} gives the pages back and sends the end's keepalive, whose answer says
 * all that is stored ({@link EndBarrier}: the runtime ends the stream once it came). A session
 * without a lease (no resume, no reclaim) terminates its objects (memory_object_terminate) before
 * that keepalive and stops at once. A session with a lease ends in two parts: it stays open,
 * ending: it takes no new task or mapping, what waits fails now (ESRCH, as its stop would have
 * it), but it keeps the copies of its unconfirmed returns ({@link RetainedReturns}), so a stream
 * that breaks while the runtime waits for the answer takes the usual paths: resumed at a
 * replicated pager's next leader, or reclaimed at a restarted pager with those copies. A keepalive
 * follows the resume's or the reclaim's welcome, and its answer (a later sequence) answers the
 * barrier. {@link KernelXp#finishShutdown} ({@link #finish}) then returns the pages that came
 * during the wait, terminates the objects, and the session stops. If the session is lost for good
 * meanwhile (lease over, pager gone), the runtime is told at once ({@link KernelEnv#endOver}): its
 * wait ends, unanswered. With no stream (reconnecting) or a resume not taken, no keepalive goes
 * out and the session stops at once: what was not given back may be lost, and the log says so.
 * <pre>
 *  OPEN --shutdown, no lease: returns, terminates, keepalive--> STOPPED
 *  OPEN --shutdown, lease: returns, keepalive--> ENDING --finishShutdown: returns, terminates--> STOPPED
 *                                                  |  \__ stream breaks: resume / reclaim, keepalive again
 *                                                  +-- lost for good: endOver(pager) --> STOPPED
 * </pre>
 */
final class ShutdownEnd {
    /** Log lines keep the core's logger: they read as the kernel's. */
    private static final Logger log = LoggerFactory.getLogger(KernelCore.class);

    private final KernelSession session;
    private final KernelCore core;
    private final int pager;
    private final KernelEnv env;
    private final String name;
    /** Between the two parts: the first went out, the second is not due yet. */
    private boolean ending;

    ShutdownEnd(KernelSession session, KernelCore core, KernelEnv env, String name) {
        this.session = session;
        this.core = core;
        this.pager = session.pager;
        this.env = env;
        this.name = name;
    }

    /** Whether the session is between the two parts (see {@link KernelSession#ending} for the session's view). */
    boolean ending() {
        return ending;
    }

    /**
     * The first part (see the overview): the pages go back and one more keepalive goes out, whose
     * answer says all that is stored. A session with a lease then stays open, ending, with the
     * copies it keeps for a reclaim, until {@link #finish}: a stream that breaks meanwhile is
     * resumed or reclaimed as always, and a fresh keepalive follows the welcome. A session without
     * a lease terminates its objects and stops at once. Returns that barrier, or null if none
     * went out (no session open, no stream, or one being resumed).
     */
    EndBarrier terminateObjects() {
        if (!session.open()) {
            return null;
        }
        boolean twoPhase = session.lease.nanos() > 0 && !session.disconnected() && !session.resume.resuming();
        for (VmObject o : core.objects.servedBy(pager)) {
            if (twoPhase) {
                failWaiting(o); // what waits fails now, as the session's stop would have it
            }
            if (o.state == VmObject.State.READY) {
                core.pages.returnAll(o, false);
                if (!twoPhase) {
                    terminate(o);
                }
            }
        }
        EndBarrier barrier = null;
        if (session.disconnected()) {
            log.warn("kernel {}: shut down while it had no stream to {} ({}): the writes it had not given back "
                    + "are lost, and the pager learns of its end only when its lease runs out", name, session.which(),
                    session.reclaim.reason());
        } else if (session.resume.resuming()) {
            // The runtime's close waits for a resume before it shuts the core down; this one was not taken in time.
            log.warn("kernel {}: shut down while its session with {} was being resumed: the {} messages kept for "
                    + "the resume, its last returns and terminates among them, are not sent, and {} pages it gave "
                    + "back with their data that the pager did not confirm may be lost", name, session.which(),
                    session.resume.keptCount(), core.returns.unconfirmed(pager));
        } else {
            log.info("kernel {}: returned its pages{}{}", name, twoPhase ? "" : " and terminated its objects",
                    core.sessions.count() == 1 ? "" : " at pager " + pager);
            // xp-spec 2.6: the stream ends once this keepalive is answered (what went before is stored)
            barrier = new EndBarrier(pager, session.lease.sendKeepalive(), core.returns.unconfirmed(pager));
        }
        if (twoPhase) {
            ending = true;
            return barrier;
        }
        stopForShutdown();
        return barrier;
    }

    /**
     * The second part ({@link KernelXp#finishShutdown}): the pages that came during the wait go
     * back, then terminates, then the session stops. With several pagers the runtime calls it for
     * the primary last; the primary's stop leaves a secondary still ending alone. Nothing for a
     * session that was not ending, or is lost.
     */
    void finish() {
        boolean was = ending;
        ending = false;
        if (!was || session.pagerLost()) {
            return;
        }
        if (session.disconnected() || session.resume.resuming()) {
            log.warn("kernel {}: its clean end's wait at {} ran out while the stream was being {}: the terminates "
                    + "of its {} objects may not reach the pager", name, session.which(),
                    session.resume.resuming() ? "resumed" : "reclaimed", core.objects.servedBy(pager).size());
        }
        for (VmObject o : core.objects.servedBy(pager)) {
            if (o.state == VmObject.State.READY) {
                // a page supplied or granted during the wait, or dirtied by a give-back, goes back
                // first (precious with its data: xp-spec 5.3, 6.10), on the same stream, in order
                core.pages.returnAll(o, false);
                terminate(o);
            }
        }
        stopForShutdown();
    }

    /** The session stops without its second part (lost for good): the runtime's wait ends now. */
    void lost() {
        if (ending) {
            ending = false;
            env.endOver(pager);
        }
    }

    /** A call still waiting on {@code o} (a map, a sync, a page) ends with its task, ESRCH, as at the session's stop. */
    private void failWaiting(VmObject o) {
        KernelError error = shuttingDown();
        KernelObjects.failAll(o.pendingMaps, error);
        core.sync.failAll(o, error);
        o.forEachPage(page -> core.pages.failWaiting(page, error));
    }

    private KernelError shuttingDown() {
        return KernelError.of(Errno.ESRCH, "kernel %s is shutting down: its tasks end with it", name);
    }

    private void terminate(VmObject o) {
        session.send(KernelToPager.newBuilder().setMemoryObjectTerminate(
                MemoryObjectTerminate.newBuilder().setObjectId(o.objectId)).build());
        core.objects.ended(o);
    }

    private void stopForShutdown() {
        // A task's call still waiting for a page ends with its task, as its threads' calls did.
        session.stopUsingPager("the kernel is shutting down", shuttingDown());
    }
}
