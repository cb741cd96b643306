package io.machxp.pager.net;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;

/**
 * The pager's ends of a stream that are no refusal, and whether they carry ErrorInfo (xp-spec 3.1,
 * hello feature {@value #FEATURE}, 6.12):
 * <pre>
 *  end                                   kernel named "end_info"       any other kernel
 *  a replica's redirect (13.2), a        UNAVAILABLE, ErrorInfo EAGAIN  UNAVAILABLE, no ErrorInfo
 *    replica that stops leading (13.3)     marked stream = broken          (a broken stream, 13.2)
 *  a clean end not stored in time (2.6)  UNAVAILABLE, ErrorInfo EAGAIN  UNAVAILABLE, no ErrorInfo
 * </pre>
 * Kernels written to the spec before the feature took a status without ErrorInfo as a broken
 * stream and any with ErrorInfo as the pager's refusal (9.7): they would stop at a redirect or a
 * failover if these ends carried ErrorInfo (review of branch xpfix, finding 3). So only a kernel
 * that announces it gets the ErrorInfo, and it understands the {@code stream = broken} mark. Which
 * a stream gets is decided by the hello it opened with (every hello, fresh, resume or reclaim,
 * names the kernel's features).
 */
public final class StreamEnds {
    private StreamEnds() {}

    /** The kernel_hello feature: every status the pager ends this stream with carries ErrorInfo. */
    public static final String FEATURE = "end_info";
    /** The ErrorInfo metadata key by which a pager says how a kernel takes the end of its stream. */
    public static final String STREAM_KEY = "stream";
    /** Its value: the kernel treats the end as a broken stream (resume, follow the redirect, reclaim). */
    public static final String STREAM_BROKEN = "broken";

    /** Whether the first message of a stream is a hello that names {@link #FEATURE}. */
    public static boolean announced(KernelToPager first) {
        return first.hasKernelHello() && first.getKernelHello().getFeaturesList().contains(FEATURE);
    }

    /**
     * An end the kernel treats as a broken stream (a replica's redirect or loss of its leadership):
     * UNAVAILABLE, with ErrorInfo EAGAIN marked {@code stream = broken} if {@code info}, else with
     * none.
     */
    public static StatusRuntimeException broken(boolean info, String message) {
        return info ? XpService.error(Status.Code.UNAVAILABLE, Errno.EAGAIN.name(), message,
                java.util.Map.of(STREAM_KEY, STREAM_BROKEN))
                : Status.UNAVAILABLE.withDescription(message).asRuntimeException();
    }

    /**
     * The end of a cleanly ended stream whose writes are not stored within the pager's bound (2.6):
     * UNAVAILABLE, with ErrorInfo EAGAIN (unmarked: not all is stored yet) if {@code info}.
     */
    public static StatusRuntimeException notAllStored(boolean info, String message) {
        return info ? XpService.error(Status.Code.UNAVAILABLE, Errno.EAGAIN.name(), message, java.util.Map.of())
                : Status.UNAVAILABLE.withDescription(message).asRuntimeException();
    }
}
