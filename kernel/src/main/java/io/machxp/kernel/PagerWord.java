package io.machxp.kernel;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.protobuf.StatusProto;

/**
 * What the status an XP stream ended with says: the pager's own word (it refused the hello or
 * ended the session, giving a machxp errno as the ErrorInfo reason in the status's details), or a
 * stream that broke without it (the pager process died, the connection dropped, the pager is not
 * up yet, or the pager's end marked {@code stream = broken}: a replica's redirect or loss of
 * leadership, to a kernel whose hello named "end_info"). The first ends the kernel's use of the
 * pager; the second is a broken stream the core may mend (a resume or a reclaim). A session that could not open fails its link's opening with
 * {@link NotWelcomed}, which carries the errno, if any, to the kernel's start.
 */
final class PagerWord {
    private PagerWord() {}

    /**
     * Whether the call ended with the pager's refusal: a machxp errno in its details, not marked
     * {@code stream = broken} (xp-spec 3.1: to a kernel whose hello named "end_info", as machxp's
     * does, a replica's redirect and loss of leadership carry ErrorInfo so marked, and the kernel
     * mends them as a broken stream).
     */
    static boolean fromPager(Throwable t) {
        ErrorInfo info = errorInfo(t);
        return info != null && !BROKEN.equals(info.getMetadataOrDefault(STREAM_KEY, ""));
    }

    /** The ErrorInfo metadata key by which a pager says how the kernel takes the end of its stream (xp-spec 3.1). */
    static final String STREAM_KEY = "stream";
    /** Its value: a broken stream (resume, follow the redirect, reclaim), though the pager ended it. */
    static final String BROKEN = "broken";

    /**
     * The machxp errno (ErrorInfo reason) of the pager's refusal the call ended with, or null if
     * the pager gave none (or marked the end a broken stream, {@link #fromPager}).
     */
    static String errno(Throwable t) {
        return fromPager(t) ? errorInfo(t).getReason() : null;
    }

    /** The status's ErrorInfo, an empty one if it does not parse, or null if the status has none. */
    private static ErrorInfo errorInfo(Throwable t) {
        com.google.rpc.Status status = StatusProto.fromThrowable(t);
        if (status == null) {
            return null;
        }
        for (Any detail : status.getDetailsList()) {
            if (detail.is(ErrorInfo.class)) {
                try {
                    return detail.unpack(ErrorInfo.class);
                } catch (InvalidProtocolBufferException e) {
                    return ErrorInfo.getDefaultInstance();
                }
            }
        }
        return null;
    }

    /** The ErrorInfo metadata key by which a pager marks a refusal final (xp-spec 9.7). */
    static final String FINAL_KEY = "final";
    /** Its value: final for the rest of the pager's grace period (no wait in it changes the refusal). */
    static final String FINAL_IN_GRACE = "grace_period";

    /**
     * Whether the pager marked its refusal final for its grace period (xp-spec 9.7: its ErrorInfo's
     * metadata {@code final} is {@code grace_period}): a reclaim told EAGAIN so stops at once. An
     * unmarked EAGAIN (an older or another pager's) is one a wait may change.
     */
    static boolean finalInGrace(Throwable t) {
        ErrorInfo info = errorInfo(t);
        return info != null && FINAL_IN_GRACE.equals(info.getMetadataOrDefault(FINAL_KEY, ""));
    }

    /**
     * Why the session could not open: the pager's refusal ({@code errno} its reason, e.g. EAGAIN
     * while an earlier session of the name waits for its lease) or a stream that broke before the
     * welcome ({@code errno} null: the pager is not up or not reachable).
     */
    static final class NotWelcomed extends IllegalStateException {
        final String errno;

        NotWelcomed(String reason, String errno) {
            this(reason, errno, null);
        }

        /** With the stream's failure as the cause (a caller tells an unreachable pager from a refusal by it). */
        NotWelcomed(String reason, String errno, Throwable cause) {
            super(reason, cause);
            this.errno = errno;
        }
    }
}
