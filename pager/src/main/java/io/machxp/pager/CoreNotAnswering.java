package io.machxp.pager;

import java.time.Duration;

/**
 * A query asked of the pager's core thread (a status snapshot for machxp status or a live view's
 * tick) got no answer within its bound: the core is overloaded or stuck. The query stays queued and
 * runs when the core gets to it; the asker has stopped waiting for it.
 */
public final class CoreNotAnswering extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public CoreNotAnswering(String pager, Duration within) {
        super("the core thread of pager " + pager + " did not answer within " + within.toMillis()
                + " ms: it is overloaded or stuck (its log may say why)");
    }
}
