package io.machxp.pager.replica;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.machxp.pager.net.XpService;
import io.machxp.proto.replica.KernelMessage;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.SessionClosed;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerRedirect;
import io.machxp.proto.xp.PagerToKernel;
import java.util.concurrent.CompletableFuture;

/**
 * XP over gRPC on one replica of a replicated pager (xp-spec 13).
 *
 * <h2>Overview</h2>
 * <pre>
 *  stream opens, first message        leader, genesis and its term's leader_started applied -> a
 *                                       session id of the appending leader's term, drawn with the
 *                                       append of session_opened ({@link Group#openSession}); then
 *                                       the message appended to the log
 *                                     otherwise -> pager_redirect(leader's XP address, or empty
 *                                       while none is known), the stream ends UNAVAILABLE (with
 *                                       ErrorInfo marked broken if the hello named "end_info",
 *                                       {@link io.machxp.pager.net.StreamEnds}); nothing is appended
 *  later message                      kernel_message appended (in arrival order: one ordered client),
 *                                       numbered on its stream: replicas apply a stream's messages
 *                                       only in an unbroken run (one whose append failed ends it)
 *  the kernel ends the stream         session_closed appended; the pager's side ends once it is
 *                                       committed and applied (bounded: 5 s), so every message the
 *                                       stream carried is in the group's log by then
 *  the stream breaks                  nothing appended: the session stays open for a resume (here
 *                                       or at the next leader) until its lease runs out; but a
 *                                       kernel whose hello did not offer to resume cannot, so
 *                                       session_closed is appended for it (xp-spec 4.4)
 *  an append fails (not the leader)   the stream ends UNAVAILABLE: the kernel resumes at the leader,
 *                                       which has every message the log took and counts them
 *  an append refused for load         the same, saying so (EAGAIN; {@link AppendRefused}): this
 *    (Ratis's pending-write limits)     replica still leads and keeps its appender
 *  a lock_futex appended              the leader's early ask: its holder is hinted now, before the
 *                                       commit ({@link EarlyAsks}; nothing without one)
 *  a stream's messages                taken while fewer than {@link AppendWindow#DEFAULT_IN_FLIGHT} of
 *                                       it, and under {@link AppendWindow#MAX_BYTES}, are appended and
 *                                       not applied ({@link AppendWindow}): one kernel's burst is not
 *                                       all in the log ahead of others' keepalives; and appended only
 *                                       while its peer (host) and the group have room under Ratis's
 *                                       pending-write limits, else held ({@link AppendBudget})
 * </pre>
 * Nothing is handled here: the core answers when the entry is applied, on the leader's stream.
 * The callbacks run on the replica's XP event loop, inline ({@link ReplicatedPager}: gRPC's direct
 * executor), so a message is appended on the thread that read it. What an append may wait for
 * there is bounded: the leader's appender has at most {@link AppendBatches#DEFAULT_IN_FLIGHT} Raft
 * entries appended and not applied before further sends queue and return ({@link AppendBatches}),
 * so an append never waits for room in Ratis's log queue; it may wait for the division's lock,
 * which Ratis holds for its bookkeeping (and, at a term change or a vote, for a sync of its
 * metadata), as the pooled thread that appended before did. Measured (rv59 INFO-4): under bursts
 * of 20,000-40,000 messages, 0.1-0.7% of the loop's time, the longest wait 94 ms at a load of 46
 * on 2 cores (docs/replicated-pager.md, "How long the inline append holds the XP loop").
 */
public final class ReplicaXpService extends MemoryObjectPagerGrpc.MemoryObjectPagerImplBase {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ReplicaXpService.class);

    /** What the XP side needs of the Raft group. */
    public interface Group {
        /** Whether this replica leads and its core has applied the genesis and its term's leader_started. */
        boolean takesKernels();

        /**
         * Opens a session for a new stream, or refuses (null) if this replica does not take kernels
         * now: draws an id no replica of the group ever gave (its leader's term's, SessionIds) for
         * the term of the appender it then appends session_opened through, has {@code hold} keep
         * the stream under it before that append, and appends, atomically with other opens (an id
         * of a term is never appended through another term's appender). Refused too when the
         * term moved since this replica's leader_started was applied. {@code peer}: the stream's
         * ({@code ClientPeer}'s text, "" for none), which session_opened carries to every core.
         */
        Opened openSession(java.util.function.LongConsumer hold, String peer);

        /** The leader's XP address and replica id, or null if none is known (or it is this one, not ready). */
        String[] leader();

        /** Appends an entry through this replica, as leader; completes false if it was not appended. */
        CompletableFuture<Boolean> append(PagerLogEntry.Builder entry);

        /** This replica's id, for logs. */
        String id();

        /** A session opened: its id and its session_opened's append. */
        record Opened(long sessionId, CompletableFuture<Boolean> appended) {}
    }

    private final Group group;
    private final ReplicaStreams streams;
    /** The leader's early asks, or null: none. */
    private final EarlyAsks earlyAsks;
    /** What the streams' windows share: the group's and each peer's pending appends ({@link AppendBudget}). */
    private final AppendBudget budget;

    public ReplicaXpService(Group group, ReplicaStreams streams) {
        this(group, streams, null);
    }

    /** With the leader's early asks ({@code null}: none, a lock_futex waits for its commit before the holder is asked). */
    public ReplicaXpService(Group group, ReplicaStreams streams, EarlyAsks earlyAsks) {
        this(group, streams, earlyAsks, 0, System::nanoTime);
    }

    /**
     * For kernels with a lease of {@code leaseNanos} (0: none), the group's apply rate measured on
     * {@code clock} ({@link AppendBudget#LEASE_PARTS}).
     */
    public ReplicaXpService(Group group, ReplicaStreams streams, EarlyAsks earlyAsks, long leaseNanos,
            java.util.function.LongSupplier clock) {
        // A held message is appended on a thread of the budget's own (one, started when a message is
        // held and ended a second after the last), not on Ratis's thread that completed an append.
        this(group, streams, earlyAsks, new AppendBudget(leaseNanos, clock, AppendBudget.heldAppendsThread()));
    }

    /** With the windows' budget given (a test's). */
    ReplicaXpService(Group group, ReplicaStreams streams, EarlyAsks earlyAsks, AppendBudget budget) {
        this.group = group;
        this.streams = streams;
        this.earlyAsks = earlyAsks;
        this.budget = budget;
    }

    @Override
    public StreamObserver<KernelToPager> connect(StreamObserver<PagerToKernel> toKernel) {
        ReplicaStreams.KernelStream out = new ReplicaStreams.KernelStream(toKernel);
        if (toKernel instanceof ServerCallStreamObserver<PagerToKernel> call) {
            // Without a cancel handler grpc-java throws CANCELLED from onNext once the kernel has
            // cancelled the call, and the core's sends run on Ratis's applying thread, where an
            // exception closes this replica's Raft server (ReplicaStreams). The cancellation reaches
            // onError below all the same, which drops the stream.
            call.setOnCancelHandler(() -> { });
            call.setOnReadyHandler(out::readAgain); // the kernel reads again (ReplicaStreams: not reading)
        }
        // At most a window of the stream's messages in the log, not applied yet, within its
        // peer's and the group's budget (AppendWindow, AppendBudget).
        io.machxp.proto.transport.ClientPeer caller = io.machxp.pager.net.CallerPeer.current();
        AppendWindow window = AppendWindow.of(toKernel, budget, caller);
        String peer = caller == null ? "" : caller.toString(); // session_opened carries it (StatedViews' shares)
        if (window != null) {
            window.open();
        }
        return new StreamObserver<>() {
            /** 0 until the first message opened a session. */
            private long sessionId;
            /** Messages that arrived on this stream: each is numbered, appended or not (see KernelMessage.index). */
            private long arrived;
            /** Whether the stream opened with a hello that offers to resume (resumable, or a resume itself). */
            private boolean resumable;

            /** The append of a message (one object for the stream: nothing allocated per message). */
            private final java.util.function.Function<KernelToPager, CompletableFuture<Boolean>> appender =
                    this::appendMessage;

            @Override
            public void onNext(KernelToPager m) {
                if (window != null) {
                    window.taken(m, m.getSerializedSize(), appender); // now, or once there is room
                } else {
                    appendMessage(m);
                }
            }

            /** Appends the stream's message {@code m}: its append, or null if none (a redirect). */
            private CompletableFuture<Boolean> appendMessage(KernelToPager m) {
                if (sessionId == 0) {
                    out.opened(m); // whether its ends carry ErrorInfo (xp-spec 3.1, StreamEnds)
                    if (!group.takesKernels()) {
                        redirect(out);
                        return null;
                    }
                    Group.Opened opened = group.openSession(id -> streams.put(id, out), peer);
                    if (opened == null) {
                        redirect(out);
                        return null;
                    }
                    resumable = m.hasKernelHello() && (m.getKernelHello().getResumable() || m.getKernelHello().hasResume());
                    sessionId = opened.sessionId();
                    failIfNotAppended(sessionId, opened.appended());
                }
                PagerLogEntry.Builder entry = PagerLogEntry.newBuilder().setKernelMessage(
                        KernelMessage.newBuilder().setSessionId(sessionId).setMessage(m).setIndex(++arrived));
                CompletableFuture<Boolean> appended = append(sessionId, entry);
                if (earlyAsks != null) {
                    earlyAsks.appended(sessionId, m, entry); // after the append: the release follows it in the log
                }
                return appended;
            }

            /**
             * The stream broke: the session stays open, as if stalled, so that the kernel resumes
             * it here or at the next leader within its lease (its lease decides otherwise). A
             * kernel that did not offer to resume never will (it has no session token): its session
             * is closed, as the unreplicated pager closes a broken stream's (xp-spec 4.4: forgotten
             * if it holds nothing, else kept its own until its lease ends), appended before the
             * stream leaves this replica so that what the kernel sends next comes after it in the log.
             */
            @Override
            public void onError(Throwable t) {
                if (window != null) {
                    window.close(this::broken); // once its held message, if any, is appended
                } else {
                    broken();
                }
            }

            private void broken() {
                if (sessionId != 0) {
                    if (!resumable && streams.holds(sessionId, out)) {
                        append(sessionId, PagerLogEntry.newBuilder().setSessionClosed(
                                SessionClosed.newBuilder().setSessionId(sessionId)));
                    }
                    streams.remove(sessionId);
                }
            }

            /**
             * The kernel ended its session cleanly: so does the pager, once session_closed is
             * committed and applied, and with it every message of the stream before it (xp-spec
             * 2.6: what the stream carried is in the group's log, as a keepalive's answer says).
             */
            @Override
            public void onCompleted() {
                if (window != null) {
                    window.close(this::halfClosed); // once its held message, if any, is appended
                } else {
                    halfClosed();
                }
            }

            private void halfClosed() {
                if (sessionId != 0 && streams.remove(sessionId) != null) {
                    endOnceCommitted(sessionId, out, append(sessionId, PagerLogEntry.newBuilder().setSessionClosed(
                            SessionClosed.newBuilder().setSessionId(sessionId))));
                    return;
                }
                out.complete();
            }
        };
    }

    /**
     * The end of a cleanly ended stream goes to the kernel once {@code closed}, its session_closed's
     * append, completes: committed and applied, the stream ends OK; not appended (this replica no
     * longer leads), it ends UNAVAILABLE, as a failed append does (the kernel's resume or reclaim
     * decides); not done within {@link XpService#CLEAN_END_DURABLE_WAIT_SECONDS} (the unreplicated
     * pager's bound for its store's writes), it ends UNAVAILABLE, logged, saying that not all of it
     * is committed yet (an OK end would tell the kernel it is). Nothing waits on a thread: the
     * append's future and the JDK's delayer complete it.
     */
    private void endOnceCommitted(long sessionId, ReplicaStreams.KernelStream out, CompletableFuture<Boolean> closed) {
        long bound = XpService.CLEAN_END_DURABLE_WAIT_SECONDS;
        closed.copy().completeOnTimeout(null, bound, java.util.concurrent.TimeUnit.SECONDS)
                .whenComplete((appended, error) -> {
                    if (Boolean.TRUE.equals(appended)) {
                        out.complete();
                    } else if (appended == null && error == null) {
                        log.warn("replica {}: the end of session {} was not committed within {} s; its stream ends "
                                + "UNAVAILABLE (what it carried may not be in the group's log yet)", group.id(),
                                sessionId, bound);
                        out.failNotAllStored("replica " + group.id() + " has not committed within " + bound
                                + " s the end of the session: what the stream carried may not be in its group's log yet");
                    } else {
                        out.failBroken("the end of the session was not committed: " + notAppended(error));
                    }
                });
    }

    private CompletableFuture<Boolean> append(long sessionId, PagerLogEntry.Builder entry) {
        return failIfNotAppended(sessionId, group.append(entry));
    }

    /**
     * An entry of the session's stream not appended ends the stream UNAVAILABLE (with ErrorInfo
     * EAGAIN for a kernel that named "end_info"), saying why: this replica no longer leads, or its
     * Raft log refused the entry for load ({@link AppendRefused}; it still leads).
     */
    private CompletableFuture<Boolean> failIfNotAppended(long sessionId, CompletableFuture<Boolean> appending) {
        appending.whenComplete((appended, error) -> {
            if (!Boolean.TRUE.equals(appended)) {
                ReplicaStreams.KernelStream s = streams.remove(sessionId);
                if (s != null) {
                    s.failBroken(notAppended(error));
                }
            }
        });
        return appending;
    }

    /** Why an entry was not appended, as the kernel is told ({@code error}: the append's, if it failed). */
    private String notAppended(Throwable error) {
        AppendRefused refused = AppendRefused.of(error);
        if (refused != null) {
            log.warn("replica {}: a kernel's stream ends EAGAIN: {}", group.id(), refused.getMessage());
            return "replica " + group.id() + " is overloaded: " + refused.getMessage() + "; it still leads its pager "
                    + "group: the kernel resumes its session here and sends again what the log did not take";
        }
        return "replica " + group.id() + " is no longer the leader of its pager group: the kernel resumes its "
                + "session at the new leader";
    }

    /** A follower (or a leader not ready yet) names the leader and ends the stream, having taken nothing. */
    private void redirect(ReplicaStreams.KernelStream out) {
        String[] leader = group.leader();
        PagerRedirect.Builder r = PagerRedirect.newBuilder();
        if (leader != null) {
            r.setLeader(leader[0]).setLeaderId(leader[1]);
        }
        out.send(PagerToKernel.newBuilder().setPagerRedirect(r).build());
        String where = leader == null ? "no leader is known yet (an election is under way): try another replica soon"
                : "the leader is replica " + leader[1] + " at " + leader[0];
        log.debug("replica {}: redirected a kernel: {}", group.id(), where);
        out.failBroken("replica " + group.id() + " of a replicated pager does not lead its group; " + where);
    }
}
