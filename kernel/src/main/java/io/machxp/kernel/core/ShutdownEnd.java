package io.machxp.kernel.core;

/**
 * The two parts of a kernel's clean end at one pager whose session has a lease (xp-spec 2.6).
 * Part of the kernel core: core thread only.
 *
 * <h2>Overview</h2>
 * {@link KernelCore#shutdown} gives the pages back and sends the end's keepalive
 * ({@link EndBarrier}); the session then stays open, ending: it takes no new task or mapping, but
 * keeps the copies of its unconfirmed returns ({@link RetainedReturns}), so a stream that breaks
 * while the runtime waits for the answer takes the usual paths: resumed at a replicated pager's
 * next leader, or reclaimed at a restarted pager with those copies. A keepalive follows the
 * resume's or the reclaim's welcome, and its answer (a later sequence) answers the barrier.
 * {@link KernelCore#finishShutdown} then terminates the objects and the session stops. If the
 * session is lost for good meanwhile (lease over, pager gone), the runtime is told at once
 * ({@link KernelEnv#endOver}): its wait ends, unanswered.
 * <pre>
 *  OPEN --shutdown: returns, keepalive--> ENDING --finishShutdown: terminates--> STOPPED
 *                                           |  \__ stream breaks: resume / reclaim, keepalive again
 *                                           +-- lost for good: endOver(pager) --> STOPPED
 * </pre>
 */
final class ShutdownEnd {
    private final int pager;
    private final KernelEnv env;
    private boolean ending;

    ShutdownEnd(int pager, KernelEnv env) {
        this.pager = pager;
        this.env = env;
    }

    /** The first part went out: the session waits for the answer, open. */
    void begin() {
        ending = true;
    }

    /** Whether the session is between the two parts. */
    boolean ending() {
        return ending;
    }

    /** The second part is due; true if the session was ending (it then terminates and stops). */
    boolean finish() {
        boolean was = ending;
        ending = false;
        return was;
    }

    /** The session stops without its second part (lost for good): the runtime's wait ends now. */
    void lost() {
        if (ending) {
            ending = false;
            env.endOver(pager);
        }
    }
}
