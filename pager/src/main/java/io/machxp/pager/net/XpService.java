package io.machxp.pager.net;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
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
    private final Map<Long, StreamObserver<PagerToKernel>> streams = new HashMap<>();
    private PagerCore core;
    private long nextSessionId = 1;

    public void attach(PagerCore core) {
        this.core = core;
    }

    /** Core thread. */
    public void send(long sessionId, PagerToKernel message) {
        StreamObserver<PagerToKernel> out = streams.get(sessionId);
        if (out != null) {
            out.onNext(message);
        }
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
        core.sessionOpened(sessionId);
        return new StreamObserver<>() {
            @Override
            public void onNext(KernelToPager message) {
                core.onXp(sessionId, message);
            }

            @Override
            public void onError(Throwable t) {
                streams.remove(sessionId);
                core.sessionClosed(sessionId);
            }

            @Override
            public void onCompleted() {
                StreamObserver<PagerToKernel> out = streams.remove(sessionId);
                core.sessionClosed(sessionId);
                if (out != null) {
                    out.onCompleted(); // the kernel ended its session cleanly: so does the pager
                }
            }
        };
    }
}
