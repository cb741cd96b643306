package io.machxp.pager.replica;

import io.machxp.pager.core.PagerCore;
import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.core.PagerEnv;
import io.machxp.pager.core.PagerStats;
import io.machxp.pager.core.XpProtocolError;
import io.machxp.pager.object.ObjectCatalog;
import io.machxp.pager.policy.GrantPolicy;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.KernelMessage;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.ReplicaSnapshot;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.PagerToKernel;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * One replica's pager core, fed the group's Raft log: a deterministic function of the entries
 * applied, so that every replica that applied the same entries holds the same state. No Raft, I/O
 * or thread inside (the Ratis state machine feeds it, {@link PagerStateMachine}); one thread at a
 * time.
 *
 * <h2>Overview</h2>
 * <pre>
 *  entry                  effect on this replica's {@link PagerCore}
 *  genesis                the core is built (token epoch, grace, token seed, lease, answer deadline, page size and
 *                         objects of the group: a replica configured otherwise takes the group's lease and
 *                         deadline; another page size or other objects fail, {@link GroupGenesis}); a
 *                         later genesis (each new leader appends one) is ignored
 *  session_opened(id, p)  sessionOpened(id, p); an id the core has already is refused, never replaced: the
 *                         stream's run is broken (nothing more of that id is applied) and the leader ends
 *                         the stream of that id with EIO (a kernel with a live session resumes it anew)
 *  kernel_message(id, m)  onXp(id, m), if m is the next of its stream (its index one more than the
 *                         last applied; one out of sequence ends the stream's run: it and the rest
 *                         are dropped); the index is kept only while the core has the stream's
 *                         session, so streams that come and go leave nothing behind
 *  session_closed(id)     sessionClosed(id)
 *  tick                   nothing more than any entry: every entry first advances the clock
 *  leader_started(term)   leaderStarted(): every live session's lease runs a full lease from the
 *                         entry's clock (core/LeaderTakeover), before the timers it makes due run;
 *                         the term is kept: its leader takes kernels once its own is applied, and the
 *                         {@link GroupClock}'s base is set: the leader's readings count from here
 *  every entry            clock := max(clock, entry's clock reading); then the core's timers due
 *                         by the clock run, in the order due (ties: the order set)
 * </pre>
 * What the core reads from the world comes from the log too: its clock is the entries' (never this
 * machine's), its timers are kept here and run by entries, its session tokens are drawn from the
 * genesis seed. What it does to the world goes to an {@link Outlet}: the replica holding the
 * kernel's stream (the leader) delivers it, the others have no such stream and drop it. Pages are
 * kept in memory by every replica: they reach every replica through the log (data_return carries
 * them), so a replica's store is rebuilt by applying the log.
 *
 * <h2>When the core fails on an entry</h2>
 * Every replica applies the same entry, so an exception the core throws on one (a bug, a message
 * no test foresaw, a grant policy that throws) is thrown on every replica at the same entry; let
 * through onto Ratis's applying thread it would close each replica's Raft server in turn, the
 * whole group dead of one message. It is caught here instead, and handled by the entry alone
 * (no clock of this machine, no randomness), so that the replicas stay equal:
 * <pre>
 *  the core threw on             what follows, on every replica alike
 *  kernel_message(id, m)         one ERROR; the session ends: its stream's run is broken (nothing
 *    or session_opened(id)         more of the stream is applied), the core closes the session (what
 *                                  it holds stays its own until its lease ends, as after any broken
 *                                  stream), and the leader ends the kernel's stream with INTERNAL / EIO
 *  session_closed(id)            one ERROR; nothing more (the stream is gone already)
 *  leader_started(term)          one ERROR; the term counts as announced all the same
 *  a timer                       one ERROR; that timer is dropped, the others run
 *  genesis                       one ERROR; no core ({@link #genesisFailed}): the replica's Raft server
 *                                  appends no other genesis, and the replica never takes kernels
 *  anything else, on an entry    one ERROR; that entry counts as applied and the batch's other
 *    of a batch                    entries are applied (a lone entry's throw: PagerStateMachine's ERROR)
 * </pre>
 * The core's state is then whatever the failed call left, the same on every replica.
 */
public final class ReplicaCore {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ReplicaCore.class);
    /**
     * Where the core's sends go: the streams this replica holds. Only the leader delivers, so what
     * happens to a send must not change what the core does next: an outlet that throws is logged
     * and the core goes on, as every other replica's does (see {@link Env}).
     */
    public interface Outlet {
        void send(long sessionId, PagerToKernel message);

        void endSession(long sessionId, Errno errno, String message);

        void endSession(long sessionId, XpProtocolError error, String message);

        /**
         * Ends the session's stream because the pager itself failed on one of its messages:
         * errno EIO, which XP sends as gRPC's INTERNAL (xp-spec 3.3: nothing the kernel did wrong).
         */
        default void endSessionFailed(long sessionId, String message) {
            endSession(sessionId, Errno.EIO, message);
        }
    }

    private record Timer(long due, long seq, Runnable action) {}

    private final String name;
    /** This replica's id, for the log lines of a failed entry. */
    private final String replicaId;
    private final int pageSize;
    private final Map<String, Long> objects;
    private final long leaseNanos;
    private final Outlet outlet;
    private final PagerStats stats;
    private final GrantPolicy grantPolicy;
    /** The core's bound on futex records for all kernels (0: the default). */
    private int futexRecords;
    /**
     * The core's answer deadline ({@code PagerOptions#answerDeadlineNanos}): like the lease,
     * every replica of a group must be given the same (the pager's config), so that each ends the
     * same sessions at the same entry. Derived from the lease unless set.
     */
    private long answerDeadlineNanos;
    private final PriorityQueue<Timer> timers = new PriorityQueue<>((a, b) -> a.due != b.due
            ? Long.compare(a.due, b.due) : Long.compare(a.seq, b.seq));
    private long timerSeq;
    private PagerCore core;
    /** The group clock as applied; written by the applying thread, read by the leader's (GroupClock's fallback). */
    private volatile long clock;
    /** Told of each leader_started applied (the leader stamps its entries from it); null: none. */
    private volatile GroupClock groupClock;
    private Genesis genesis;
    private byte[] tokenSeed;
    private long tokensDrawn;
    /** How many records of streams the core no longer has may wait to be pruned ({@link StreamSequence#STALE_RECORDS}). */
    static final int STALE_STREAM_RECORDS = StreamSequence.STALE_RECORDS;
    /** Each stream's next kernel message, on every replica alike ({@link StreamSequence}). */
    private final StreamSequence streams = new StreamSequence();
    /** When the first timer is due (Long.MAX_VALUE: none); read by the leader's ticker thread. */
    private volatile long nextDue = Long.MAX_VALUE;
    /** The term of the last leader_started applied; read by the XP side's and the ticker's threads. */
    private volatile long leaderStartedTerm;
    /** Whether the genesis has been applied; read by the XP side's threads. */
    private volatile boolean ready;
    /** Why the last genesis applied failed to build a core (null: none failed); read by the ticker's thread. */
    private volatile String genesisFailed;
    /** Whether the log applied here holds a genesis (one that built the core, or failed to): no other is appended. */
    private volatile boolean genesisSeen;
    /** The log index of the entry being applied (-1: not known), for the log lines of a failure. */
    private long applying = -1;
    /** Who holds each futex, as applied here: the leader's early asks read it ({@link EarlyAsks}). */
    private final io.machxp.pager.core.FutexHolderMap holders = new io.machxp.pager.core.FutexHolderMap();

    public ReplicaCore(String name, int pageSize, Map<String, Long> objects, long leaseNanos, Outlet outlet, PagerStats stats) {
        this(name, "", pageSize, objects, leaseNanos, outlet, stats);
    }

    /** @param replicaId this replica's id in its group, for log lines */
    public ReplicaCore(String name, String replicaId, int pageSize, Map<String, Long> objects, long leaseNanos,
            Outlet outlet, PagerStats stats) {
        this(name, replicaId, pageSize, objects, leaseNanos, outlet, stats, GrantPolicy.IMMEDIATE);
    }

    /** With a grant policy of the caller's (tests: one that throws); the pager's is {@link GrantPolicy#IMMEDIATE}. */
    ReplicaCore(String name, String replicaId, int pageSize, Map<String, Long> objects, long leaseNanos,
            Outlet outlet, PagerStats stats, GrantPolicy grantPolicy) {
        this.name = name;
        this.replicaId = replicaId;
        this.pageSize = pageSize;
        this.objects = Collections.unmodifiableMap(new LinkedHashMap<>(objects)); // in the order given: Map.copyOf's varies by JVM
        this.leaseNanos = leaseNanos;
        this.outlet = outlet;
        this.stats = stats;
        this.grantPolicy = grantPolicy;
        this.answerDeadlineNanos = PagerOptions.defaultAnswerDeadlineNanos(leaseNanos);
    }

    /**
     * The bound on futex records for all kernels of the core this replica builds at its genesis
     * (0: the default; PagerOptions#withFutexRecords); before the genesis. Every replica of a group
     * must be given the same (simulations only: it is not in the genesis).
     */
    public ReplicaCore futexRecords(int value) {
        if (core != null) {
            throw new IllegalStateException("the futex records' bound is set before the core is built");
        }
        futexRecords = value;
        return this;
    }

    /** The answer deadline of the core this replica builds at its genesis (0: none); before the genesis. */
    public ReplicaCore answerDeadline(long nanos) {
        if (core != null) {
            throw new IllegalStateException("the answer deadline is set before the core is built");
        }
        String refused = PagerOptions.answerDeadlineRefusal(nanos, leaseNanos);
        if (refused != null) {
            throw new IllegalArgumentException(refused);
        }
        answerDeadlineNanos = nanos;
        return this;
    }

    /**
     * What this replica's configuration gives a group's genesis: the lease, the answer deadline
     * and the page size every replica's core then takes from the log, whatever its own says.
     */
    public Genesis.Builder configuredIn(Genesis.Builder g) {
        return g.setLeaseNanos(leaseNanos).setAnswerDeadlineNanos(answerDeadlineNanos).setPageSize(pageSize)
                .setObjects(GroupGenesis.objects(objects));
    }

    /** The group clock this replica's leader stamps its entries with: told of each leader_started applied. */
    public ReplicaCore groupClock(GroupClock c) {
        groupClock = c;
        return this;
    }

    /** Applies one entry of the log, its index not known (see the overview). */
    public void apply(PagerLogEntry e) {
        apply(-1, e);
    }

    /**
     * Applies the entry at {@code index} of the log (see the overview). Throws nothing the core
     * throws: see "When the core fails on an entry".
     */
    public void apply(long index, PagerLogEntry e) {
        if (e.hasBatch()) { // several entries in one Raft entry (AppendBatches): each as if on its own
            java.util.List<PagerLogEntry> inner = e.getBatch().getEntriesList();
            for (int i = 0; i < inner.size(); i++) {
                if (inner.get(i).hasBatch()) {
                    continue; // never nested: a nested one is skipped on every replica alike
                }
                try {
                    apply(index, inner.get(i));
                } catch (RuntimeException x) {
                    // As PagerStateMachine does for a Raft entry: this entry counts as applied, the
                    // batch's others are applied, on every replica alike (rv58 LOW-2: before, one
                    // throw dropped the rest of the batch, each of them acknowledged as applied).
                    log.error("pager {} replica {}: applying entry {} of {} of the batch at log index {} failed; the "
                            + "replica goes on with the batch's other entries, as every other does at this entry", name,
                            replicaId, i + 1, inner.size(), index, x);
                }
            }
            return;
        }
        applying = index;
        if (e.hasGenesis() && genesisSeen) {
            return; // a later genesis (a leader that had not yet applied the first): ignored, its clock too
        }
        if (e.getTerm() == 0 || e.getTerm() >= leaderStartedTerm) {
            clock = Math.max(clock, e.getClockNanos());
        } // else stamped on a deposed leader's clock base (a stalled appender): applied, its clock ignored
        switch (e.getInputCase()) {
            case GENESIS -> {
                genesisSeen = true;
                if (core == null) {
                    try {
                        genesis(e.getGenesis());
                        genesisFailed = null;
                    } catch (RuntimeException x) {
                        noGenesis(x);
                    }
                }
            }
            case SESSION_OPENED -> {
                long id = e.getSessionOpened().getSessionId();
                String peer = e.getSessionOpened().getPeer();
                if (core != null && core.hasSession(id)) {
                    duplicateSession(id);
                } else if (core != null) {
                    guarded(id, "session_opened", () -> core.sessionOpened(id, peer));
                }
            }
            case KERNEL_MESSAGE -> {
                KernelMessage m = e.getKernelMessage();
                if (core != null && streams.inSequence(core, m)) {
                    guarded(m.getSessionId(), routine(m), () -> core.onXp(m.getSessionId(), m.getMessage()));
                }
            }
            case SESSION_CLOSED -> {
                long id = e.getSessionClosed().getSessionId();
                if (core != null) {
                    streams.forget(id);
                    try {
                        core.sessionClosed(id);
                    } catch (RuntimeException x) {
                        log.error("pager {} replica {}: the core failed on session_closed of session {} at log index {}; "
                                + "the replica goes on, as every other does at this entry", name, replicaId, id, index, x);
                    }
                }
            }
            case LEADER_STARTED -> {
                GroupClock c = groupClock;
                if (c != null) {
                    c.leaderStarted(e.getLeaderStarted().getTerm(), clock); // before the term counts as announced
                }
                leaderStartedTerm = Math.max(leaderStartedTerm, e.getLeaderStarted().getTerm());
                if (core != null) {
                    try {
                        core.leaderStarted();
                    } catch (RuntimeException x) {
                        log.error("pager {} replica {}: the core failed on leader_started of term {} at log index {}; the "
                                + "replica goes on, as every other does at this entry", name, replicaId,
                                e.getLeaderStarted().getTerm(), index, x);
                    }
                }
            }
            case TICK, BATCH, INPUT_NOT_SET -> { // BATCH: taken above
            }
        }
        runDueTimers();
        streams.prune(core);
    }

    private static String routine(KernelMessage m) {
        return m.getMessage().getRoutineCase().name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * Runs one of the core's inputs for a session; if the core throws, the session ends (see the
     * overview): decided by the entry alone, so every replica ends it alike.
     */
    private void guarded(long sessionId, String routine, Runnable input) {
        try {
            input.run();
        } catch (RuntimeException x) {
            log.error("pager {} replica {}: the core failed on {} of session {} at log index {}; the session ends on "
                    + "every replica alike", name, replicaId, routine, sessionId, applying, x);
            endFailed(sessionId, routine, x);
        }
    }

    /**
     * Ends a session the core failed on: nothing more of its stream is applied, the core closes
     * it, the kernel's stream ends with INTERNAL / EIO. The errno makes it the pager's word: the
     * kernel ends its use of this pager, as after any session the pager ended, and drops what it
     * kept to send again; the message the core failed on is never sent again.
     */
    private void endFailed(long sessionId, String routine, RuntimeException x) {
        streams.broken(sessionId);
        try {
            core.sessionClosed(sessionId);
        } catch (RuntimeException again) {
            log.error("pager {} replica {}: the core failed again closing session {} at log index {}: {}", name,
                    replicaId, sessionId, applying, again.toString());
        }
        try {
            outlet.endSessionFailed(sessionId, "pager " + name + " failed on " + routine + " of this session ("
                    + x.getClass().getSimpleName() + "): the pager closed the session");
        } catch (RuntimeException e) {
            log.warn("pager {}: the end of session {}'s stream was not delivered ({})", name, sessionId, e.toString());
        }
    }

    /**
     * A session_opened of an id the core has already (ids are unique per term, SessionIds; this is
     * a defence): the live session is kept as it is, never replaced. Nothing more of the id's
     * stream is applied (which of the two streams a later message came on cannot be told), and
     * the leader ends the stream it holds under the id with EIO; the kernel of the live session
     * resumes it on a new stream, the other one starts again. Decided by the entry alone.
     */
    private void duplicateSession(long id) {
        log.error("pager {} replica {}: session_opened at log index {} names session {}, which is open already; the "
                + "open session is kept, nothing more of the id's stream is applied, and its stream ends", name,
                replicaId, applying, id);
        streams.broken(id);
        try {
            outlet.endSessionFailed(id, "pager " + name + " was given a session id already in use (" + id + "); the "
                    + "stream ends, the open session of that id is kept for a resume");
        } catch (RuntimeException e) {
            log.warn("pager {}: the end of session {}'s stream was not delivered ({})", name, id, e.toString());
        }
    }

    /** A genesis that builds no core: said once; the ticker appends no other ({@link #genesisFailed}). */
    private void noGenesis(RuntimeException x) {
        core = null;
        genesis = null;
        timers.clear();
        genesisFailed = x.toString();
        log.error("pager {} replica {}: the genesis at log index {} builds no pager core: this replica's configuration is "
                + "not the group's (both are named below); it stops taking part in the group (its Raft server is closed: "
                + "it no longer votes, follows, leads or snapshots): restart it with the group's configuration", name,
                replicaId, applying, x);
    }

    /**
     * Why the last genesis applied here built no core (every replica's fails alike), or null: a
     * leader appends no other genesis then, since each would fail the same. Any thread.
     */
    public String genesisFailed() {
        return genesisFailed;
    }

    /** Whether the log applied here holds a genesis, whether or not it built a core: a leader appends no other. */
    public boolean genesisSeen() {
        return genesisSeen;
    }

    private void genesis(Genesis g) {
        if (core != null) {
            return;
        }
        if (g.getPageSize() != 0 && g.getPageSize() != pageSize) {
            throw new IllegalStateException("the group's pages are " + g.getPageSize() + " bytes (its genesis) and "
                    + "this replica is configured with " + pageSize + ": give every replica the group's page size");
        }
        GroupGenesis.checkObjects(g, objects, name, replicaId);
        long lease = g.hasLeaseNanos() ? g.getLeaseNanos() : leaseNanos;
        long deadline = g.hasAnswerDeadlineNanos() ? g.getAnswerDeadlineNanos() : answerDeadlineNanos;
        if (lease != leaseNanos || deadline != answerDeadlineNanos) {
            log.warn("pager {} replica {}: configured with a lease of {} ms and an answer deadline of {} ms, but the "
                    + "group's (its genesis, the first leader's configuration) are {} ms and {} ms: the group's are "
                    + "used, so that every replica ends the same sessions; give every replica the same to silence this",
                    name, replicaId, leaseNanos / 1_000_000, answerDeadlineNanos / 1_000_000, lease / 1_000_000,
                    deadline / 1_000_000);
        }
        genesis = g;
        tokenSeed = g.getTokenSeed().toByteArray();
        PagerOptions options = new PagerOptions(lease, g.getTokenEpoch())
                .withFirstToken(g.getFirstToken() == 0 ? 1 : Integer.toUnsignedLong(g.getFirstToken()));
        if (g.getGraceNanos() > 0) {
            options = options.withGrace(Math.max(g.getGraceNanos(), lease), false);
        }
        options = options.withGrantPolicy(grantPolicy).withAnswerDeadline(deadline).withFutexRecords(futexRecords);
        core = new PagerCore(name, pageSize, new ObjectCatalog(objects, pageSize, new MemoryPageStore()), new Env(),
                stats, options);
        core.publishHolders(holders); // again whole when a snapshot is restored into it
        ready = true;
    }

    /**
     * This replica's state between two entries: its core's ({@link PagerCore#snapshot}) and what
     * it keeps around it (the genesis, the group clock, the session tokens drawn, each stream's next
     * message index).
     */
    ReplicaSnapshot snapshot() {
        if (genesisFailed != null) {
            throw new IllegalStateException("pager " + name + " replica " + replicaId + ": no snapshot: its genesis built "
                    + "no pager core (" + genesisFailed + ")");
        }
        ReplicaSnapshot.Builder b = ReplicaSnapshot.newBuilder().setClockNanos(clock).setTokensDrawn(tokensDrawn)
                .putAllStreamNext(streams.snapshot()).setLeaderStartedTerm(leaderStartedTerm);
        if (core != null) {
            b.setGenesis(genesis).setCore(core.snapshot());
        }
        return b.build();
    }

    /**
     * Makes this replica the one the snapshot was taken of, whatever it held before (a replica
     * that lags installs the leader's): a fresh core from the snapshot's genesis, restored.
     */
    void restore(ReplicaSnapshot s) {
        timers.clear();
        core = null;
        genesis = null;
        clock = s.getClockNanos();
        if (!s.hasGenesis() && !s.equals(ReplicaSnapshot.getDefaultInstance())) {
            throw new IllegalStateException("pager " + name + " replica " + replicaId + ": the snapshot holds no pager "
                    + "state though the log it was taken of has entries (taken by a replica whose genesis failed, "
                    + "a version before this one): it is not restored; move this replica's store aside and restart it "
                    + "with the group's configuration while the other replicas run: it takes the leader's state");
        }
        genesisFailed = null;
        genesisSeen = s.hasGenesis();
        if (s.hasGenesis()) {
            genesis(s.getGenesis());
            timers.clear(); // the fresh core's own (a grace period's): the snapshot's replace them
            core.restore(s.getCore());
        }
        tokensDrawn = s.getTokensDrawn();
        leaderStartedTerm = s.getLeaderStartedTerm();
        streams.restore(s.getStreamNextMap());
        ready = core != null;
        nextDue = timers.isEmpty() ? Long.MAX_VALUE : timers.peek().due;
    }

    private void runDueTimers() {
        while (!timers.isEmpty() && timers.peek().due <= clock) {
            Timer t = timers.poll();
            try {
                t.action.run();
            } catch (RuntimeException x) {
                log.error("pager {} replica {}: the core failed on a timer due at {} (run at log index {}); that timer is "
                        + "dropped, on every replica alike", name, replicaId, t.due, applying, x);
            }
        }
        nextDue = timers.isEmpty() ? Long.MAX_VALUE : timers.peek().due;
    }

    /** Whether the genesis has been applied: the core exists and takes kernels. */
    public boolean ready() {
        return ready;
    }

    /**
     * The term of the last leader_started applied here: a leader of term T has announced itself
     * (and extended every session's lease) once this is T. Any thread.
     */
    public long leaderStartedTerm() {
        return leaderStartedTerm;
    }

    /** When the core's first timer is due, in group clock nanoseconds; any thread. */
    public long nextDue() {
        return nextDue;
    }

    /** The group clock as applied here. */
    public long clock() {
        return clock;
    }

    /** Who holds each futex as applied here, for the leader's XP thread ({@link EarlyAsks}); any thread. */
    public io.machxp.pager.core.FutexHolderMap holders() {
        return holders;
    }

    /** The core, or null before the genesis; the applying thread only. */
    public PagerCore core() {
        return core;
    }

    /**
     * The core's world: the log's clock and timers, the genesis seed's tokens, the outlet's streams.
     * A send or an end the outlet fails (a kernel's stream gone on the leader) is dropped here, never
     * thrown into the core: the core would skip the rest of the entry on this replica alone and part
     * from the others, and on Ratis's applying thread the exception closes the replica's Raft server.
     */
    private final class Env implements PagerEnv {
        @Override
        public void send(long sessionId, PagerToKernel message) {
            try {
                outlet.send(sessionId, message);
            } catch (RuntimeException e) {
                undelivered(sessionId, "a message", e);
            }
        }

        @Override
        public void endSession(long sessionId, Errno errno, String message) {
            try {
                outlet.endSession(sessionId, errno, message);
            } catch (RuntimeException e) {
                undelivered(sessionId, "the end of its stream", e);
            }
        }

        @Override
        public void endSession(long sessionId, XpProtocolError error, String message) {
            try {
                outlet.endSession(sessionId, error, message);
            } catch (RuntimeException e) {
                undelivered(sessionId, "the end of its stream", e);
            }
        }

        private void undelivered(long sessionId, String what, RuntimeException e) {
            log.warn("pager {}: {} for session {} was not delivered ({}); the replica goes on as the others do",
                    name, what, sessionId, e.toString());
        }

        @Override
        public long nanoTime() {
            return clock;
        }

        @Override
        public void schedule(long delayNanos, Runnable action) {
            timers.add(new Timer(clock + Math.max(0, delayNanos), timerSeq++, action));
        }

        /** SHA-256 of the group's secret seed and a count: the same on every replica, unguessable outside. */
        @Override
        public long sessionToken() {
            long t;
            do {
                t = GroupGenesis.sessionToken(tokenSeed, tokensDrawn++);
            } while (t == 0);
            return t;
        }
    }
}
