package io.machxp.pager.net;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.core.PagerCore;
import io.machxp.pager.core.XpProtocolError;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * XP over gRPC, pager side: each Connect stream is one kernel session. The server's executor is
 * the pager's core event loop, so every callback here already runs on the core thread, and the
 * core's sends go out on the same thread.
 */
public final class XpService extends MemoryObjectPagerGrpc.MemoryObjectPagerImplBase {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(XpService.class);
    /**
     * How long a kernel may leave the pager's answers unread (its stream not ready: gRPC's window
     * is full) before the pager ends its session. A kernel that reads catches up within moments,
     * even after a burst; one that asks and never reads cannot make the pager buffer for long.
     */
    public static final long PATIENCE_NANOS = 10_000_000_000L;
    /** And however short the wait, no more than this many bytes queued for one kernel. */
    public static final long MAX_UNREAD_BYTES = 256L << 20;

    /** A stream the kernel is not reading now: since when, and how much waits for it. */
    private static final class Unread {
        final long since;
        long bytes;

        Unread(long since) {
            this.since = since;
        }
    }

    private final Map<Long, StreamObserver<PagerToKernel>> streams = new HashMap<>();
    private final Map<Long, Unread> unread = new HashMap<>();
    private PagerCore core;
    /** The core's thread, for timers and for what must not run inside a call of the core. */
    private ScheduledExecutorService coreLoop;
    private long nextSessionId = 1;

    /** Times the core's handling of each XP message (a no-op timer unless set). */
    private io.micrometer.core.instrument.Timer handling = io.micrometer.core.instrument.Timer.builder("unused")
            .register(new io.micrometer.core.instrument.composite.CompositeMeterRegistry());

    public void timeHandling(io.micrometer.core.instrument.Timer timer) {
        this.handling = timer;
    }

    public void attach(PagerCore core, ScheduledExecutorService coreLoop) {
        this.core = core;
        this.coreLoop = coreLoop;
    }

    /** Core thread. */
    public void send(long sessionId, PagerToKernel message) {
        StreamObserver<PagerToKernel> out = streams.get(sessionId);
        if (out == null) {
            return;
        }
        if (out instanceof ServerCallStreamObserver<PagerToKernel> call && !call.isReady()) {
            Unread u = unread.get(sessionId);
            if (u == null) {
                Unread started = new Unread(System.nanoTime());
                unread.put(sessionId, started);
                coreLoop.schedule(() -> checkUnread(sessionId, started), PATIENCE_NANOS, TimeUnit.NANOSECONDS);
                u = started;
            }
            u.bytes += message.getSerializedSize();
            if (u.bytes > MAX_UNREAD_BYTES) {
                tooMuchUnread(sessionId, "more than " + (MAX_UNREAD_BYTES >> 20) + " MiB of messages wait for it");
                return;
            }
        }
        out.onNext(message);
    }

    /** The patience runs out: the kernel has not read at all since {@code started}. */
    private void checkUnread(long sessionId, Unread started) {
        if (unread.get(sessionId) == started) {
            tooMuchUnread(sessionId, "it has read nothing the pager sent for " + PATIENCE_NANOS / 1_000_000_000 + " s");
        }
    }

    private void tooMuchUnread(long sessionId, String why) {
        endSession(sessionId, Errno.EAGAIN, "the kernel does not read its stream: " + why
                + "; the pager does not buffer more for one kernel");
        coreLoop.execute(() -> core.sessionClosed(sessionId)); // not inside the core's own call
    }

    /** Core thread. */
    public void endSession(long sessionId, Errno errno, String message) {
        unread.remove(sessionId);
        StreamObserver<PagerToKernel> out = streams.remove(sessionId);
        if (out != null) {
            out.onError(error(errno, message));
        }
    }

    /** Core thread: the session's stream ends for a breach of the XP protocol itself. */
    public void endSession(long sessionId, XpProtocolError error, String message) {
        unread.remove(sessionId);
        StreamObserver<PagerToKernel> out = streams.remove(sessionId);
        if (out != null) {
            out.onError(error(error, message));
        }
    }

    /**
     * The core threw on a kernel's message (a bug of the pager, or of a grant policy plugged into
     * it): that session ends, INTERNAL with errno EIO (xp-spec 3.3), and the pager goes on with the
     * others. Without this grpc-java ended the call UNKNOWN with no errno; the kernel took it for a
     * broken stream, resumed, and sent the same message again. What the session holds stays its own
     * until its lease ends, as after any broken stream.
     */
    private void coreFailed(long sessionId, KernelToPager message, RuntimeException e) {
        String routine = message.getRoutineCase().name().toLowerCase(java.util.Locale.ROOT);
        log.error("pager: its core failed on {} of session {}; that session ends (EIO), the others go on", routine,
                sessionId, e);
        endSession(sessionId, Errno.EIO, "the pager failed on this session's " + routine + " (a fault of the pager; "
                + "its log says which); the session is over");
        core.sessionClosed(sessionId);
    }

    /** The status an XP call ends with: a gRPC code for the errno, the errno in the details, a sentence. */
    public static StatusRuntimeException error(Errno errno, String message) {
        return error(code(errno), errno.name(), message);
    }

    /** The status an XP call ends with for a breach of the protocol itself. */
    public static StatusRuntimeException error(XpProtocolError error, String message) {
        return error(code(error), error.name(), message);
    }

    private static StatusRuntimeException error(Status.Code code, String reason, String message) {
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(code.value())
                .setMessage(reason + ": " + message)
                .addDetails(Any.pack(ErrorInfo.newBuilder().setDomain("machxp").setReason(reason).build()))
                .build());
    }

    /** gRPC's documented meanings: out of order, a version not supported here, a malformed message. */
    private static Status.Code code(XpProtocolError error) {
        return switch (error) {
            case EPROTO -> Status.Code.FAILED_PRECONDITION;
            case EPROTONOSUPPORT -> Status.Code.UNIMPLEMENTED;
            case EBADMSG -> Status.Code.INVALID_ARGUMENT;
        };
    }

    private static Status.Code code(Errno errno) {
        return switch (errno) {
            case EEXIST -> Status.Code.ALREADY_EXISTS;
            case EAGAIN -> Status.Code.RESOURCE_EXHAUSTED;
            case EINVAL -> Status.Code.INVALID_ARGUMENT;
            case EPERM -> Status.Code.PERMISSION_DENIED;
            case EIO -> Status.Code.INTERNAL; // the pager failed on the kernel's message (xp-spec 3.3)
            default -> Status.Code.FAILED_PRECONDITION;
        };
    }

    @Override
    public StreamObserver<KernelToPager> connect(StreamObserver<PagerToKernel> toKernel) {
        long sessionId = nextSessionId++;
        streams.put(sessionId, toKernel);
        if (toKernel instanceof ServerCallStreamObserver<PagerToKernel> call) {
            call.setOnReadyHandler(() -> unread.remove(sessionId)); // the kernel reads again
        }
        core.sessionOpened(sessionId);
        return new StreamObserver<>() {
            /** The core failed on a message of this session: nothing more of the stream is taken. */
            private boolean failed;

            @Override
            public void onNext(KernelToPager message) {
                if (failed) {
                    return;
                }
                long started = System.nanoTime();
                try {
                    core.onXp(sessionId, message);
                } catch (RuntimeException e) {
                    failed = true;
                    coreFailed(sessionId, message, e);
                    return;
                }
                handling.record(System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
            }

            @Override
            public void onError(Throwable t) {
                streams.remove(sessionId);
                unread.remove(sessionId);
                core.sessionClosed(sessionId);
            }

            @Override
            public void onCompleted() {
                StreamObserver<PagerToKernel> out = streams.remove(sessionId);
                unread.remove(sessionId);
                core.sessionClosed(sessionId);
                if (out != null) {
                    out.onCompleted(); // the kernel ended its session cleanly: so does the pager
                }
            }
        };
    }
}
