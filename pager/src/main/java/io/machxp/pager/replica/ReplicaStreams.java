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
 *
 * <p>Nothing here throws: the core's sends run on Ratis's applying thread, and an exception there
 * stops that thread and closes the replica's Raft server for good (Ratis 3.1.3
 * {@code StateMachineUpdater.run}: any {@code Throwable} sets {@code EXCEPTION} and calls
 * {@code server.close()}). It would also make the leader's core skip the rest of an entry that
 * every follower's core applies whole. A stream whose call is gone (the kernel cancelled it, the
 * connection broke) is a broken stream: it ends here, and what is sent to it is dropped.
 */
public final class ReplicaStreams implements ReplicaCore.Outlet {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ReplicaStreams.class);

    /**
     * One kernel's stream; its writes are serialized. A write that gRPC refuses ends the stream:
     * grpc-java throws {@code CANCELLED} from {@code onNext} on a call the client cancelled unless
     * the service set a cancel handler ({@link ReplicaXpService} does), and throws
     * {@code IllegalStateException} on a call already closed.
     */
    public static final class KernelStream {
        private final StreamObserver<PagerToKernel> out;
        private boolean ended;

        public KernelStream(StreamObserver<PagerToKernel> out) {
            this.out = out;
        }

        synchronized void send(PagerToKernel m) {
            if (!ended) {
                try {
                    out.onNext(m);
                } catch (RuntimeException e) {
                    gone(e);
                }
            }
        }

        synchronized void fail(Throwable status) {
            if (!ended) {
                ended = true;
                try {
                    out.onError(status);
                } catch (RuntimeException e) {
                    gone(e);
                }
            }
        }

        synchronized void complete() {
            if (!ended) {
                ended = true;
                try {
                    out.onCompleted();
                } catch (RuntimeException e) {
                    gone(e);
                }
            }
        }

        /** Whether this stream has ended (closed here, or its call found gone). */
        synchronized boolean ended() {
            return ended;
        }

        private void gone(RuntimeException e) {
            ended = true;
            log.debug("a kernel's stream is gone ({}): what the pager sends it is dropped", e.toString());
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
