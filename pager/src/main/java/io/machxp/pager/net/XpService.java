package io.machxp.pager.net;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.core.PagerCore;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import java.util.HashMap;
import java.util.Map;

/**
 * XP over gRPC, pager side: each Connect stream is one kernel session. The server's executor is
 * the pager's core event loop, so every callback here already runs on the core thread, and the
 * core's sends go out on the same thread.
 */
public final class XpService extends MemoryObjectPagerGrpc.MemoryObjectPagerImplBase {
    /**
     * Messages the pager may queue for a kernel that does not read its stream (gRPC's window is
     * full) before it ends the session: a kernel that asks and never reads cannot make the pager
     * buffer without end.
     */
    static final int MAX_UNREAD = 10_000;

    private final Map<Long, StreamObserver<PagerToKernel>> streams = new HashMap<>();
    private final Map<Long, int[]> unread = new HashMap<>();
    private PagerCore core;
    /** The core's thread, for what must not run inside a call of the core (see send). */
    private java.util.concurrent.Executor coreLoop;
    private long nextSessionId = 1;

    public void attach(PagerCore core, java.util.concurrent.Executor coreLoop) {
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
            int[] queued = unread.computeIfAbsent(sessionId, id -> new int[1]);
            if (++queued[0] > MAX_UNREAD) {
                unread.remove(sessionId);
                endSession(sessionId, Errno.EAGAIN, "the kernel has not read the last " + MAX_UNREAD
                        + " messages the pager sent it; the pager does not buffer more for one kernel");
                coreLoop.execute(() -> core.sessionClosed(sessionId)); // not inside the core's own call
                return;
            }
        }
        out.onNext(message);
    }

    /** Core thread. */
    public void endSession(long sessionId, Errno errno, String message) {
        StreamObserver<PagerToKernel> out = streams.remove(sessionId);
        if (out != null) {
            out.onError(StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                    .setCode(code(errno).value())
                    .setMessage(errno.name() + ": " + message)
                    .addDetails(Any.pack(ErrorInfo.newBuilder().setDomain("machxp").setReason(errno.name()).build()))
                    .build()));
        }
    }

    private static Status.Code code(Errno errno) {
        return switch (errno) {
            case EEXIST -> Status.Code.ALREADY_EXISTS;
            case EAGAIN -> Status.Code.RESOURCE_EXHAUSTED;
            case EINVAL -> Status.Code.INVALID_ARGUMENT;
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
            @Override
            public void onNext(KernelToPager message) {
                core.onXp(sessionId, message);
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
