package io.machxp.pager.replica;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.core.XpProtocolError;
import io.machxp.pager.net.XpService;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.PagerToKernel;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The kernels' XP streams this replica holds, by session id: where its core's sends go. Only the
 * leader takes kernels, so only the leader holds streams; a follower's core sends to no stream
 * (the same sends, dropped). Each stream is written by the applying thread and by gRPC's threads:
 * one writer at a time per stream.
 */
public final class ReplicaStreams implements ReplicaCore.Outlet {
    /** One kernel's stream; its writes are serialized. */
    public static final class KernelStream {
        private final StreamObserver<PagerToKernel> out;
        private boolean ended;

        public KernelStream(StreamObserver<PagerToKernel> out) {
            this.out = out;
        }

        synchronized void send(PagerToKernel m) {
            if (!ended) {
                out.onNext(m);
            }
        }

        synchronized void fail(Throwable status) {
            if (!ended) {
                ended = true;
                out.onError(status);
            }
        }

        synchronized void complete() {
            if (!ended) {
                ended = true;
                out.onCompleted();
            }
        }
    }

    private final ConcurrentHashMap<Long, KernelStream> streams = new ConcurrentHashMap<>();

    void put(long sessionId, KernelStream s) {
        streams.put(sessionId, s);
    }

    KernelStream remove(long sessionId) {
        return streams.remove(sessionId);
    }

    @Override
    public void send(long sessionId, PagerToKernel message) {
        KernelStream s = streams.get(sessionId);
        if (s != null) {
            s.send(message);
        }
    }

    @Override
    public void endSession(long sessionId, Errno errno, String message) {
        KernelStream s = streams.remove(sessionId);
        if (s != null) {
            s.fail(XpService.error(errno, message));
        }
    }

    @Override
    public void endSession(long sessionId, XpProtocolError error, String message) {
        KernelStream s = streams.remove(sessionId);
        if (s != null) {
            s.fail(XpService.error(error, message));
        }
    }

    /**
     * This replica no longer leads: every stream ends UNAVAILABLE with no machxp errno (a broken
     * stream, not the pager's word), so that each kernel resumes its session at the new leader.
     */
    public void endAll(String why) {
        for (Long id : streams.keySet()) {
            KernelStream s = streams.remove(id);
            if (s != null) {
                s.fail(Status.UNAVAILABLE.withDescription(why).asRuntimeException());
            }
        }
    }

    public int count() {
        return streams.size();
    }
}
