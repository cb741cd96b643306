package io.machxp.pager.net;

import java.time.Duration;

/**
 * How much the pager lets wait for a kernel that does not read its XP stream (gRPC's flow control
 * says the stream takes no more: the kernel's window is full). Once what waits has gone unread for
 * {@code patience}, or more than {@code maxBytes} would wait, the pager ends the kernel's session
 * with EAGAIN and drops what waited ({@link XpService}, a replicated pager's {@code ReplicaStreams};
 * docs/limits.md). The kernel's bounds for a pager that does not read are the same
 * ({@code XpSendLimits} in the kernel module).
 *
 * @param patience how long what waits may go unread
 * @param maxBytes how many bytes of messages may wait meanwhile, however short the wait
 */
public record UnreadLimits(Duration patience, long maxBytes) {
    /** 10 s, 256 MiB: a kernel that reads catches up within moments, even after a burst. */
    public static final UnreadLimits DEFAULT = new UnreadLimits(Duration.ofSeconds(10), 256L << 20);

    public UnreadLimits {
        if (patience == null || patience.isNegative() || patience.isZero()) {
            throw new IllegalArgumentException("the pager's patience for a kernel that does not read must be a "
                    + "positive duration, not " + patience);
        }
        if (maxBytes < 1) {
            throw new IllegalArgumentException("the pager's bound of bytes waiting for a kernel that does not read "
                    + "must be at least 1 byte, not " + maxBytes);
        }
    }

    public long patienceNanos() {
        return patience.toNanos();
    }

    /** The patience as a log or status message says it: "10 s", "500 ms". */
    public String patienceText() {
        long millis = patience.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
    }

    /** The byte bound as a message says it: "256 MiB", "64 KiB", "100 bytes". */
    public String maxBytesText() {
        if (maxBytes % (1L << 20) == 0) {
            return (maxBytes >> 20) + " MiB";
        }
        return maxBytes % 1024 == 0 ? (maxBytes >> 10) + " KiB" : maxBytes + " bytes";
    }
}
