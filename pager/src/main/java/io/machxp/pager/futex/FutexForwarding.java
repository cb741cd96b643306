package io.machxp.pager.futex;

import io.machxp.pager.core.KernelSession;

/**
 * A direct handoff in progress (xp-spec 13): the pager ordered {@code from}, the futex's holder, to
 * forward it to {@code to} under {@code token}, and has not had {@code to}'s answer. Until then
 * the futex is {@code from}'s (its grant's token stays the record's), and the page that travels
 * with it ({@code pageOffset}, or -1) takes no request. Pager core thread only.
 */
public final class FutexForwarding {
    public final KernelSession from;
    public final KernelSession to;
    public final long token;
    public final long pageOffset;
    /** The pager cancelled the forward at {@code to} and waits for its answer. */
    public boolean cancelSent;
    /** {@code to} refused, or left: the futex goes back to the pager from {@code from}. */
    public boolean failed;
    /** {@code to} left (died, terminated) after the order: it may have taken the futex. */
    public boolean toGone;
    /** {@code from} left: once {@code to} refuses, the futex is released as after a death. */
    public boolean fromGone;

    public FutexForwarding(KernelSession from, KernelSession to, long token, long pageOffset) {
        this.from = from;
        this.to = to;
        this.token = token;
        this.pageOffset = pageOffset;
    }
}
