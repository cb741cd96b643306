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
import io.machxp.proto.transport.ClientPeer;
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
 * core's sends go out on the same thread; each stream's messages are taken in turns ({@link StreamTurns}).
 * A stream the kernel ends cleanly is ended here once what
 * it carried is stored (bounded; see {@link #endOnceStored}).
 */
public final class XpService extends MemoryObjectPagerGrpc.MemoryObjectPagerImplBase {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(XpService.class);
    /**
     * How long a kernel may leave the pager's answers unread (its stream not ready: gRPC's window
     * is full) before the pager ends its session, and how many bytes may wait for it however short
     * the wait: one that asks and never reads cannot make the pager buffer for long or much.
     */
    private final UnreadLimits limits;

    /** Each session's stream, with what waits for the kernel to read ({@link KernelOutbox}). */
    private final Map<Long, KernelOutbox> streams = new HashMap<>();
    /** The outboxes whose patience a timer watches (one timer each). */
    private final java.util.Set<KernelOutbox> watched = new java.util.HashSet<>();
    private PagerCore core;
    /** The core's thread, for timers and for what must not run inside a call of the core. */
    private ScheduledExecutorService coreLoop;
    /** The streams' turns on the loop ({@link StreamTurns}): set at attach unless given. */
    private StreamTurns turns;
    private long nextSessionId = 1;

    /** With the default bounds for a kernel that does not read ({@link UnreadLimits#DEFAULT}). */
    public XpService() {
        this(UnreadLimits.DEFAULT);
    }

    public XpService(UnreadLimits limits) {
        this.limits = java.util.Objects.requireNonNull(limits, "limits");
    }

    /** Times the core's handling of each XP message (a no-op timer unless set). */
    private io.micrometer.core.instrument.Timer handling = io.micrometer.core.instrument.Timer.builder("unused")
            .register(new io.micrometer.core.instrument.composite.CompositeMeterRegistry());

    public void timeHandling(io.micrometer.core.instrument.Timer timer) {
        this.handling = timer;
    }

    public void attach(PagerCore core, ScheduledExecutorService coreLoop) {
        attach(core, coreLoop, new StreamTurns(StreamTurns.DEFAULT_MESSAGES_PER_TURN,
                task -> coreLoop.schedule(task, 0, TimeUnit.NANOSECONDS))); // after the loop's next I/O
    }

    /** With the streams' turns given (a test's, which decides when the loop's next pass is). */
    public void attach(PagerCore core, ScheduledExecutorService coreLoop, StreamTurns turns) {
        this.core = core;
        this.coreLoop = coreLoop;
        this.turns = turns;
    }

    /**
     * Core thread. What the kernel's stream does not take now waits in its {@link KernelOutbox}
     * (not in gRPC's buffers, which ending the stream would not free): more than
     * the bound's bytes waiting, or waiting unread for its patience ({@link UnreadLimits}), ends the session.
     */
    public void send(long sessionId, PagerToKernel message) {
        KernelOutbox out = streams.get(sessionId);
        if (out == null) {
            return;
        }
        if (!out.send(message, limits.maxBytes(), System.nanoTime())) {
            tooMuchUnread(sessionId, "more than " + limits.maxBytesText() + " of messages wait for it");
            return;
        }
        if (out.waitingBytes() > 0 && watched.add(out)) {
            watchUnread(sessionId, out, limits.patienceNanos());
        }
    }

    /** Checks, once {@code delayNanos} have passed, whether the kernel has read what waits for it. */
    private void watchUnread(long sessionId, KernelOutbox out, long delayNanos) {
        coreLoop.schedule(() -> checkUnread(sessionId, out), delayNanos + 1, TimeUnit.NANOSECONDS);
    }

    /** The patience may have run out: the kernel has read nothing of what waits for it for that long. */
    private void checkUnread(long sessionId, KernelOutbox out) {
        long now = System.nanoTime();
        if (streams.get(sessionId) != out) {
            watched.remove(out);
            return; // ended meanwhile, which dropped what waited
        }
        if (out.unreadLongerThan(limits.patienceNanos(), now)) {
            watched.remove(out);
            tooMuchUnread(sessionId, "it has read nothing the pager sent for " + limits.patienceText());
            return;
        }
        long ends = out.patienceEnds(limits.patienceNanos());
        if (ends >= 0) {
            watchUnread(sessionId, out, ends - now); // it read meanwhile, and more waits again
        } else {
            watched.remove(out); // nothing waits: the next message that waits is watched anew
        }
    }

    private void tooMuchUnread(long sessionId, String why) {
        endSession(sessionId, Errno.EAGAIN, "the kernel does not read its stream: " + why
                + "; the pager does not buffer more for one kernel");
        coreLoop.execute(() -> core.sessionClosed(sessionId)); // not inside the core's own call
    }

    /** Core thread. What waits for the kernel to read is dropped: its session is over. */
    public void endSession(long sessionId, Errno errno, String message) {
        KernelOutbox out = streams.remove(sessionId);
        if (out != null) {
            out.fail(error(errno, message));
        }
    }

    /**
     * Core thread: a reclaim's stream ends with a refusal no wait in the grace period changes, its
     * ErrorInfo marked final (xp-spec 9.7).
     */
    public void endSessionFinal(long sessionId, Errno errno, String message) {
        KernelOutbox out = streams.remove(sessionId);
        if (out != null) {
            out.fail(error(code(errno), errno.name(), message, true));
        }
    }

    /** Core thread: the session's stream ends for a breach of the XP protocol itself. */
    public void endSession(long sessionId, XpProtocolError error, String message) {
        KernelOutbox out = streams.remove(sessionId);
        if (out != null) {
            out.fail(error(error, message));
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

    /**
     * How long the pager's end of a cleanly ended stream (xp-spec 2.6) waits at most for what the
     * stream carried to be durable before it ends the stream OK: written by the store here,
     * committed to the group's log at a replicated pager ({@code ReplicaXpService}), which uses
     * this same bound. As long as a kernel waits for that end by default (its close wait). Past
     * it the stream ends UNAVAILABLE, saying that not all of it is durable yet.
     */
    public static final long CLEAN_END_DURABLE_WAIT_SECONDS = 5;

    /**
     * Core thread: the kernel ended its session cleanly; so does the pager, once what the stream
     * carried is stored (the writes of its returns, as a keepalive's answer waits for them,
     * xp-spec 2.6 and 4.2): a kernel that drops its copies when the pager's side ends drops none
     * the store does not have. At most {@link #CLEAN_END_DURABLE_WAIT_SECONDS} later it ends the
     * stream UNAVAILABLE, saying that not all is stored (an OK end would tell the kernel it is), with
     * ErrorInfo EAGAIN if {@code endInfo} (the stream's hello named the feature, {@link StreamEnds}),
     * and forgets the wait. Nothing blocks: the store answers on the core thread, the bound is a timer
     * there. Answers to a session that is over are dropped, not buffered.
     */
    private void endOnceStored(long sessionId, KernelOutbox out, boolean endInfo) {
        java.util.concurrent.ScheduledFuture<?>[] bound = {null};
        Runnable forget = core.whenStored(sessionId, () -> {
            if (!out.ended()) {
                out.complete();
            }
            if (bound[0] != null) {
                bound[0].cancel(false);
            }
        });
        if (out.ended()) {
            return; // stored already (a store in memory answers at once)
        }
        bound[0] = coreLoop.schedule(() -> {
            forget.run();
            if (!out.ended()) {
                log.warn("pager: the store has not written within {} s what the cleanly ended stream of session {} "
                        + "carried; its end goes to the kernel as UNAVAILABLE (a crash of the pager before the store "
                        + "writes them loses those writes)", CLEAN_END_DURABLE_WAIT_SECONDS, sessionId);
                out.fail(StreamEnds.notAllStored(endInfo, "the pager's store has not written within "
                        + CLEAN_END_DURABLE_WAIT_SECONDS + " s what this stream carried: not all of it is stored yet"));
            }
        }, CLEAN_END_DURABLE_WAIT_SECONDS, TimeUnit.SECONDS);
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
        return error(code, reason, message, false);
    }

    /** {@code finalInGrace}: the ErrorInfo's metadata says the refusal is final for this grace period. */
    private static StatusRuntimeException error(Status.Code code, String reason, String message, boolean finalInGrace) {
        return error(code, reason, message, finalInGrace ? Map.of(io.machxp.pager.core.PagerEnv.FINAL_KEY,
                io.machxp.pager.core.PagerEnv.FINAL_IN_GRACE) : Map.of());
    }

    /** A status with ErrorInfo of domain machxp, this reason and {@code metadata}, and a sentence. */
    static StatusRuntimeException error(Status.Code code, String reason, String message, Map<String, String> metadata) {
        ErrorInfo.Builder info = ErrorInfo.newBuilder().setDomain("machxp").setReason(reason).putAllMetadata(metadata);
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(code.value())
                .setMessage(reason + ": " + message)
                .addDetails(Any.pack(info.build()))
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
        KernelOutbox outbox = new KernelOutbox(toKernel);
        streams.put(sessionId, outbox);
        // The stream's messages are taken in its peer's turns, so that no kernel's burst, nor one
        // host's many sessions, holds the loop (StreamTurns); a plain observer (a test's) has
        // gRPC's automatic flow control.
        StreamTurns.Turn turn = null;
        if (toKernel instanceof ServerCallStreamObserver<PagerToKernel> call) {
            // Without a cancel handler grpc-java throws CANCELLED from onNext once the kernel has
            // cancelled the call; the stream's end may wait for its held message (StreamTurns), and
            // the core's sends meanwhile must not throw into another session's handling (review tb
            // LOW-7). The cancellation reaches onError below all the same.
            call.setOnCancelHandler(() -> { });
            call.setOnReadyHandler(outbox::ready); // the kernel reads again: what waits goes
            turn = turns.open(call, CallerPeer.current());
        }
        ClientPeer peer = CallerPeer.current();
        core.sessionOpened(sessionId, peer == null ? null : peer.toString());
        StreamTurns.Turn taking = turn;
        if (taking != null) {
            taking.start(); // within this method, as gRPC's automatic flow control requests the first
        }
        return new StreamObserver<>() {
            /** The core failed on a message of this session: nothing more of the stream is taken. */
            private boolean failed;
            /** Whether a message came yet: the first decides {@link #endInfo}. */
            private boolean first = true;
            /** The stream opened with a hello naming {@link StreamEnds#FEATURE}. */
            private boolean endInfo;

            /** The handling of a message (one object for the stream: nothing allocated per message). */
            private final java.util.function.Consumer<KernelToPager> handler = this::handle;

            @Override
            public void onNext(KernelToPager message) {
                if (taking != null) {
                    taking.arrived(message, handler); // now, or in its peer's next turn
                } else {
                    handle(message);
                }
            }

            private void handle(KernelToPager message) {
                if (failed) {
                    return;
                }
                if (first) {
                    first = false;
                    endInfo = StreamEnds.announced(message);
                }
                long started = System.nanoTime();
                try {
                    core.onXp(sessionId, message);
                } catch (RuntimeException e) {
                    failed = true;
                    if (taking != null) {
                        taking.end(); // nothing more of it is taken
                    }
                    coreFailed(sessionId, message, e);
                    return;
                }
                handling.record(System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
            }

            @Override
            public void onError(Throwable t) {
                if (taking != null) {
                    taking.close(this::broken); // after the message it holds, if any: in the order they came
                } else {
                    broken();
                }
            }

            private void broken() {
                KernelOutbox out = streams.remove(sessionId);
                if (out != null) {
                    out.abandon(); // the call is gone: what waited for it goes
                }
                core.sessionClosed(sessionId);
            }

            @Override
            public void onCompleted() {
                if (taking != null) {
                    taking.close(this::halfClosed); // after the message it holds, if any
                } else {
                    halfClosed();
                }
            }

            private void halfClosed() {
                KernelOutbox out = streams.remove(sessionId);
                String holding = out == null ? null : core.heldAtHalfClose(sessionId);
                if (holding != null) {
                    log.warn("pager: ending session {}: {}", sessionId, holding);
                    out.fail(error(Errno.EBUSY, holding)); // not OK: nothing of what it holds is given back
                } else if (out != null) {
                    endOnceStored(sessionId, out, endInfo);
                }
                core.sessionClosed(sessionId);
            }
        };
    }
}
