package io.machxp.pager.replica;

import io.grpc.stub.StreamObserver;
import io.machxp.pager.core.XpProtocolError;
import io.machxp.pager.net.KernelOutbox;
import io.machxp.pager.net.StreamEnds;
import io.machxp.pager.net.UnreadLimits;
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
 * stops that thread and closes the replica's Raft server for good (Ratis 3.1.3 and 3.3.0
 * {@code StateMachineUpdater.run}: any {@code Throwable} sets {@code EXCEPTION} and calls
 * {@code server.close()}). It would also make the leader's core skip the rest of an entry that
 * every follower's core applies whole. A stream whose call is gone (the kernel cancelled it, the
 * connection broke) is a broken stream: it ends here, and what is sent to it is dropped.
 *
 * <h2>A kernel that does not read</h2>
 * As at the unreplicated pager ({@link XpService}), a kernel may leave the pager's answers unread
 * for the patience of its {@link UnreadLimits} at most, and no more than their bytes may wait for
 * it (docs/limits.md): past either its stream ends with EAGAIN, and the leader
 * appends a session_closed for it ({@link #onUnreadEnded}), so that every replica's core closes
 * the session as the unreplicated pager's does. Without this the leader's gRPC buffers grew
 * without bound for a kernel that asks (a data_request of a few bytes brings pages) and never
 * reads, until the leader ran out of heap; the next leader's too, once the kernel resumed there.
 * What the kernel's call does not take waits in the stream's {@link KernelOutbox}, not in gRPC's
 * buffers, so that ending the stream frees it (gRPC keeps what it was given, status behind it,
 * until the kernel reads or its connection closes). The bytes are counted on the applying thread
 * as they are sent; the patience is checked by the leader's ticker ({@link #checkUnread}).
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
        /** What the kernel's call does not take now waits here, not in gRPC's buffers ({@link KernelOutbox}). */
        private final KernelOutbox out;
        private boolean ended;
        /**
         * The stream opened with a hello naming {@link StreamEnds#FEATURE}: its ends that are no
         * refusal carry ErrorInfo (xp-spec 3.1). Set by the first message, before anything ends it.
         */
        private volatile boolean endInfo;

        public KernelStream(StreamObserver<PagerToKernel> out) {
            this.out = new KernelOutbox(out);
        }

        /** The stream's first message came: it decides whether its ends carry ErrorInfo ({@link StreamEnds}). */
        void opened(io.machxp.proto.xp.KernelToPager first) {
            endInfo = StreamEnds.announced(first);
        }

        /** A replica's redirect or loss of leadership, as this stream's kernel takes it ({@link StreamEnds#broken}). */
        void failBroken(String why) {
            fail(StreamEnds.broken(endInfo, why));
        }

        /** A clean end not committed in time ({@link StreamEnds#notAllStored}). */
        void failNotAllStored(String why) {
            fail(StreamEnds.notAllStored(endInfo, why));
        }

        synchronized void send(PagerToKernel m) {
            send(m, Long.MAX_VALUE, 0);
        }

        /**
         * Sends {@code m}, or keeps it until the kernel reads (gRPC's window is full); false, and
         * nothing kept, once more than {@code maxUnread} bytes would wait.
         */
        synchronized boolean send(PagerToKernel m, long maxUnread, long now) {
            if (ended) {
                return true;
            }
            try {
                return out.send(m, maxUnread, now);
            } catch (RuntimeException e) {
                gone(e);
                return true;
            }
        }

        /** The kernel read: its call takes more (gRPC's on-ready); what waits goes. */
        public synchronized void readAgain() {
            if (ended) {
                return;
            }
            try {
                out.ready();
            } catch (RuntimeException e) {
                gone(e);
            }
        }

        /** Whether the kernel has left what waits unread for longer than {@code patience} at {@code now}. */
        synchronized boolean unreadLongerThan(long patience, long now) {
            return !ended && out.unreadLongerThan(patience, now);
        }

        /** Ends the stream with {@code status}; what waits for the kernel to read is dropped. */
        synchronized void fail(Throwable status) {
            if (!ended) {
                ended = true;
                try {
                    out.fail(status);
                } catch (RuntimeException e) {
                    gone(e);
                }
            }
        }

        synchronized void complete() {
            if (!ended) {
                ended = true;
                try {
                    out.complete();
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
            out.abandon();
            log.debug("a kernel's stream is gone ({}): what the pager sends it is dropped", e.toString());
        }
    }

    private final ConcurrentHashMap<Long, KernelStream> streams = new ConcurrentHashMap<>();
    private final long maxUnreadBytes;
    private final long patienceNanos;
    private final UnreadLimits limits;
    private final java.util.function.LongSupplier clock;
    /** Told the session of each stream ended for not reading (the leader appends its session_closed). */
    private volatile UnreadEnded unreadEnded = (id, end) -> end.run();

    /**
     * Told of a stream ended for not reading: appends its session's session_closed, then runs
     * {@code end}, which sends the kernel its status (EAGAIN), once that entry is in the log's
     * order (or cannot be: this replica no longer leads, or closes). A kernel that connects again
     * once told its stream ended has its hello appended after the close, so it is told of a
     * broken session (EAGAIN), never of a live one (EEXIST) that the close had not yet reached.
     */
    @FunctionalInterface
    interface UnreadEnded {
        void ended(long sessionId, Runnable end);
    }

    /** With the default bounds for a kernel that does not read ({@link UnreadLimits#DEFAULT}). */
    public ReplicaStreams() {
        this(UnreadLimits.DEFAULT);
    }

    /** With the pager's bounds for a kernel that does not read ({@code PagerConfig#unreadLimits}). */
    public ReplicaStreams(UnreadLimits limits) {
        this(limits, System::nanoTime);
    }

    /** With other bounds and clock (tests). */
    ReplicaStreams(long maxUnreadBytes, long patienceNanos, java.util.function.LongSupplier clock) {
        this(new UnreadLimits(java.time.Duration.ofNanos(patienceNanos), maxUnreadBytes), clock);
    }

    private ReplicaStreams(UnreadLimits limits, java.util.function.LongSupplier clock) {
        this.limits = limits;
        this.maxUnreadBytes = limits.maxBytes();
        this.patienceNanos = limits.patienceNanos();
        this.clock = clock;
    }

    /**
     * Who is told of a stream ended for not reading: called at most once per stream, never on the
     * caller's lock, with the stream already out of this map (nothing more is sent to it) and its
     * status not yet sent: {@code c} must run the end it is given, once, whatever becomes of its append.
     */
    void onUnreadEnded(UnreadEnded c) {
        this.unreadEnded = c;
    }

    /** Ends the streams whose kernels have read nothing for longer than the patience (the leader's ticker). */
    void checkUnread() {
        long now = clock.getAsLong();
        for (var e : streams.entrySet()) {
            if (e.getValue().unreadLongerThan(patienceNanos, now)) {
                endUnread(e.getKey(), e.getValue(), "it has read nothing the pager sent for "
                        + limits.patienceText());
            }
        }
    }

    private void endUnread(long sessionId, KernelStream s, String why) {
        if (streams.remove(sessionId, s)) {
            log.warn("session {}: the kernel does not read its stream ({}); its stream ends, EAGAIN", sessionId, why);
            Throwable status = XpService.error(Errno.EAGAIN, "the kernel does not read its stream: " + why
                    + "; the pager does not buffer more for one kernel");
            // The status goes once the session's close is in the log's order, not before: a kernel
            // told of its end that connects again at once found its session still open (EEXIST).
            unreadEnded.ended(sessionId, () -> s.fail(status));
        }
    }

    void put(long sessionId, KernelStream s) {
        streams.put(sessionId, s);
    }

    /** Whether {@code s} is the stream held for {@code sessionId}. */
    boolean holds(long sessionId, KernelStream s) {
        return streams.get(sessionId) == s;
    }

    KernelStream remove(long sessionId) {
        return streams.remove(sessionId);
    }

    @Override
    public void send(long sessionId, PagerToKernel message) {
        KernelStream s = streams.get(sessionId);
        if (s != null && !s.send(message, maxUnreadBytes, clock.getAsLong())) {
            endUnread(sessionId, s, "more than " + limits.maxBytesText() + " of messages wait for it");
        }
    }

    /**
     * Sends advice {@code m} (a relinquish hint: {@link EarlyAsks}) if it fits within the kernel's
     * unread bound; true if sent. Advice the kernel can do without never ends its stream: past
     * the bound it is dropped, and only what the kernel must have counts against it (review late2
     * a hint to a slow kernel ended its stream with EAGAIN).
     */
    boolean advise(long sessionId, PagerToKernel m) {
        KernelStream s = streams.get(sessionId);
        return s != null && s.send(m, maxUnreadBytes, clock.getAsLong());
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
                s.failBroken(why);
            }
        }
    }

    public int count() {
        return streams.size();
    }
}
