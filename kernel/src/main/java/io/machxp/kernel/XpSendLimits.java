package io.machxp.kernel;

import java.time.Duration;

/**
 * How much the kernel lets wait on its XP stream for a pager that does not read it (gRPC's flow
 * control says the stream takes no more: the pager's window is full). The same bounds as the
 * pager's for a kernel that does not read (xp-spec 3.3): once the stream has not been ready for
 * {@code patience}, or more than {@code maxBytes} of messages wait, the kernel counts the stream
 * stalled (xp-spec 4.7): it resumes the session on a new connection when it can, and otherwise
 * breaks the stream, as after any broken stream. See {@link StreamStall}.
 *
 * @param patience how long the stream may stay not ready
 * @param maxBytes how many bytes of messages may wait on it meanwhile, however short the wait
 */
public record XpSendLimits(Duration patience, long maxBytes) {
    /** 10 s, 256 MiB: what the pager allows a kernel by default (the pager module's UnreadLimits.DEFAULT). */
    public static final XpSendLimits DEFAULT = new XpSendLimits(Duration.ofSeconds(10), 256L << 20);

    public XpSendLimits {
        if (patience == null || patience.isNegative() || patience.isZero()) {
            throw new IllegalArgumentException("the XP send patience must be a positive duration, not " + patience);
        }
        if (maxBytes < 1) {
            throw new IllegalArgumentException("the XP send bound must be at least 1 byte, not " + maxBytes);
        }
    }
}
