package io.machxp.pager.core;

import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.object.ObjectCatalog;
import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pager as a single-threaded state machine: memory objects and the owner of every futex
 * across the kernels that use them. No I/O, clock or thread inside: inputs are a session opening,
 * an XP message on a session, a session closing, all on one thread (and the timers it set through
 * {@link PagerEnv#schedule}); outputs go through {@link PagerEnv}.
 *
 * <h2>Overview</h2>
 * This class is a facade: it routes each input to the part that owns it, and answers the tools'
 * and tests' questions. The parts, each with its own overview of states and messages:
 * <ul>
 * <li>{@link PagerSessions}: the sessions, pager_welcome and a session's end (closed, ended by
 *     the pager, or declared dead); its parts {@link PagerHello}: kernel_hello (the protocol's
 *     order and version, kernel ids, stable per kernel name), and {@link SessionLeases}:
 *     keepalives and leases, a kernel declared dead when its lease ends, and the fencing of what
 *     still arrives from a dead kernel;
 * <li>{@link AnswerDeadlines}: a deadline for each answer the pager waits for (a lock_request's
 *     lock_completed, a trylock's relinquish): a kernel that keeps its lease but does not answer
 *     has its session ended, and is declared dead when that lease ends;
 * <li>{@link PagerGrace}: the grace period after a pager restart, in which kernels reclaim what
 *     they hold and whatever could grant waits;
 * <li>{@link PagerObjects}: memory_object_init (ready or destroy) and memory_object_terminate;
 * <li>{@link PageCoherence}: the pages (data_request, data_unlock, data_return, lock_completed),
 *     kept coherent across kernels, one writer or many readers; the pager's copy of their data is
 *     in the object's page store;
 * <li>{@link PagerFutexes}: the futexes (lock_futex, futex_granted with fencing tokens,
 *     relinquish_futex, futex_released, futex_busy, owner_died, deadlock probes), with priority
 *     inheritance across kernels and entry consistency for the pages released with a futex; its
 *     parts {@link PagerGrants}, {@link RelinquishAsks}, {@link FutexProbes} and
 *     {@link FutexDepartures}.
 * </ul>
 * What they share (the pager's name, page size, catalog, env and stats; sending and refusing) is
 * {@link CoreContext}. Each XP message goes through {@link PagerDispatch}: dropped if its session
 * is gone or broken, the session's lease renewed, the protocol's order checked, held if the grace
 * period holds it, then handled by its part. What a core is configured with is
 * {@link PagerOptions}.
 *
 * <p>A message that breaks the rules (unknown object, unaligned offset, a release by a kernel that
 * does not hold the futex, a second lock from the holder, a second lock without update from a
 * kernel already queued, an update from a kernel that neither holds nor waits for the futex) is
 * refused: logged, counted, and otherwise ignored, so state never depends on a kernel behaving.
 */
public final class PagerCore {
    private final int pageSize;
    private final CoreContext core;
    private final PageCoherence pages;
    private final PagerFutexes futexes;
    private final PagerSessions sessions;
    /** A session's lease; 0: none (a half-close then releases everything, 2.6). */
    private final long leaseNanos;
    private final PagerGrace grace;
    private final PagerDispatch dispatch;
    private final FutexJournal journal;
    /** The longest lease the grant policy gives a grant, any priority (Long.MAX_VALUE: not known, or a direct handoff's). */
    private final long longestGrantLeaseNanos;

    /** @throws IllegalArgumentException unless {@code pageSize} is a power of two of at least 64 */
    public static void checkPageSize(int pageSize) {
        if (Integer.bitCount(pageSize) != 1 || pageSize < 64) {
            throw new IllegalArgumentException("page size " + pageSize + " must be a power of two of at least 64");
        }
    }

    public PagerCore(String name, int pageSize, ObjectCatalog catalog, PagerEnv env, PagerStats stats) {
        this(name, pageSize, catalog, env, stats, PagerOptions.NO_LEASE);
    }

    public PagerCore(String name, int pageSize, ObjectCatalog catalog, PagerEnv env, PagerStats stats,
            PagerOptions options) {
        checkPageSize(pageSize);
        this.pageSize = pageSize;
        this.core = new CoreContext(name, pageSize, catalog, env, stats, options.plants());
        this.pages = new PageCoherence(pageSize, core);
        FutexJournal journal = new FutexJournal(core, options.graceNanos() > 0, options.reclaims(),
                options.grantPolicy().directHandoff());
        this.futexes = new PagerFutexes(core, pages, options.tokenEpoch(), options.firstToken(), options.maxFutexesPerSession(),
                this::end, journal, new GrantLeases(core, options.grantPolicy()),
                options.leaseNanos() > 0 ? options.leaseNanos() : java.util.concurrent.TimeUnit.SECONDS.toNanos(1),
                options.futexRecords());
        this.leaseNanos = options.leaseNanos();
        this.sessions = new PagerSessions(core, pages, futexes, options.leaseNanos(), options.tokenEpoch(),
                options.graceNanos());
        core.answers = new AnswerDeadlines(core, futexes, sessions, options.answerDeadlineNanos());
        PagerObjects objects = new PagerObjects(core, pages, futexes, this::end);
        objects.sessions(sessions.views);
        this.grace = new PagerGrace(core, pages, futexes, sessions, this::handle, options, journal);
        sessions.deaths.inGrace(grace::inGrace);
        futexes.marks.inGrace(grace::inGrace);
        PagerResume resume = new PagerResume(core, sessions);
        this.dispatch = new PagerDispatch(core, pages, futexes, sessions, new PagerHello(core, sessions), objects,
                grace, resume);
        this.journal = journal;
        core.timers.handler(this::timerDue);
        this.longestGrantLeaseNanos = options.grantPolicy().directHandoff() ? Long.MAX_VALUE
                : Math.max(0, options.grantPolicy().longestRelinquishAfterNanos());
    }

    /**
     * Publishes who holds each futex into {@code map} from now on, for a replicated pager's leader
     * to read on its XP thread (its early asks, {@link FutexHolderMap}): what the core holds now,
     * then every change as the core makes it; again whole after a {@link #restore}.
     */
    public void publishHolders(FutexHolderMap map) {
        core.holders = map;
        map.longestLease(longestGrantLeaseNanos);
        map.rebuild(sessions.sessions.values(), futexes.records().futexes.values());
    }

    /** One of the core's timers is due ({@link CoreTimers}): the part that set it acts. */
    private void timerDue(CoreTimers.Timer t) {
        try {
            timerAction(t);
        } finally {
            futexes.retryParked(); // a death may free a record a parked request waits for
        }
    }

    private void timerAction(CoreTimers.Timer t) {
        if (t instanceof CoreTimers.LeaseCheck l) {
            sessions.leases.leaseDue(l.session());
        } else if (t instanceof CoreTimers.ForgetDead d) {
            sessions.leases.forgetDead(d.sessionId());
        } else if (t instanceof CoreTimers.GraceEnd) {
            grace.endGrace();
        } else if (t instanceof CoreTimers.GrantLeaseEnd g) {
            futexes.asks.grantLeaseEnded(g.futex(), g.token());
        } else if (t instanceof CoreTimers.AnswerCheck a) {
            core.answers.due(a.session());
        } else if (t instanceof CoreTimers.AskBack) {
            futexes.parking.timerDue();
        }
    }

    // ---- snapshots ----------------------------------------------------------------------------

    /**
     * The core's whole state as data, between two inputs ({@link SnapshotWriter}): sessions and
     * leases, futexes with their queues and tokens, pages and their coherence state, the pages of
     * a store in memory, resume logs, the grace period, pending timers. Needs an env whose store
     * and page effects are synchronous (the default), so that nothing is in flight.
     */
    public io.machxp.proto.snapshot.PagerSnapshot snapshot() {
        return new SnapshotWriter(core, sessions, futexes, pages, grace, journal).write();
    }

    /**
     * Makes this core, fresh (built with the same name, page size, objects and options as the one
     * written, and given no input yet), the one the snapshot was written from ({@link SnapshotReader}).
     *
     * @throws IllegalArgumentException if the snapshot does not fit this pager (another object)
     */
    public void restore(io.machxp.proto.snapshot.PagerSnapshot snapshot) {
        new SnapshotReader(core, sessions, futexes, pages, grace, journal).read(snapshot);
        core.holders.rebuild(sessions.sessions.values(), futexes.records().futexes.values());
    }

    /**
     * Whether a session of this stream id is open here (live, or broken and within its lease):
     * what arrives on a stream the core does not have is dropped. A replicated pager forgets its
     * own records of a stream once the core has none.
     */
    public boolean hasSession(long sessionId) {
        return sessions.sessions.containsKey(sessionId);
    }

    /** The bytes of the distinct pager directory views the open sessions stated ({@link StatedViews}). */
    long statedViewBytes() {
        return sessions.views.bytes();
    }

    /** How many sessions are open here (live, or broken and within their lease). */
    public int sessionCount() {
        return sessions.sessions.size();
    }

    public int pageSize() {
        return pageSize;
    }

    /**
     * Supply pages precious, with reply, to kernels whose hello named "precious" (XP spec 6.10):
     * they give each back with its data rather than drop it. machxp's store keeps every page, so
     * this is off unless a test or a pager built on the core wants Mach's precious pages.
     */
    public void supplyPrecious(boolean on) {
        pages.supplyPrecious(on);
    }

    // ---- input --------------------------------------------------------------------------------

    /**
     * A new leader of a replicated pager took over (leader_started, applied at the core's clock):
     * every live session's lease runs a full lease from now ({@link LeaderTakeover}).
     */
    public void leaderStarted() {
        int moved = LeaderTakeover.extendLeases(sessions, core.env.nanoTime());
        CoreContext.log.info("pager {}: a new leader took over: {} of {} sessions' leases run a full lease from now",
                core.name, moved, sessions.count());
    }

    /** A new stream's session, from no peer (the simulator's, a test's). */
    public void sessionOpened(long sessionId) {
        sessions.opened(sessionId);
    }

    /**
     * A new stream's session, from {@code peer} (its {@code ClientPeer}'s text; null or empty:
     * none), whose share of the pager's bounds its kernel's stated view counts in.
     */
    public void sessionOpened(long sessionId, String peer) {
        sessions.opened(sessionId, peer == null || peer.isEmpty() ? null : peer);
    }

    /**
     * The session's stream ended. A kernel holding nothing is forgotten at once; one holding
     * futexes or pages (it crashed, or its connection broke) keeps them until its lease ends,
     * since it may not know yet and still use them; it waits in no queue meanwhile.
     */
    public void sessionClosed(long sessionId) {
        sessions.closed(sessionId);
        futexes.retryParked(); // the futexes it held may free records parked requests wait for
    }

    /**
     * Call before {@link #sessionClosed} when the kernel half-closed its stream: null for a clean
     * end (it holds nothing, or has no lease: its end releases all, 2.6), else the sentence its
     * stream ends with (xp-spec 2.6: EBUSY). A kernel that half-closes holding futexes or pages,
     * with a lease, is treated as a broken stream: they stay its own until its lease ends, then go
     * on as after its death; it must not be told OK ("all is stored").
     */
    public String heldAtHalfClose(long sessionId) {
        KernelSession s = sessions.get(sessionId);
        if (s == null || s.broken || s.kernelName == null || leaseNanos == 0) {
            return null;
        }
        // No object left (a clean end terminates them all): no page held, and no page record scanned.
        if (s.held.isEmpty() && (s.objects.isEmpty() || !pages.holdsAny(s))) {
            return null;
        }
        int pageCount = s.objects.isEmpty() ? 0 : pages.heldBy(s); // counted only for the sentence
        return "kernel " + Shown.quoted(s.kernelName) + " half-closed its stream to pager " + core.name + " while "
                + "holding " + s.held.size() + " futexes and " + pageCount + " pages: they stay its own until its "
                + "lease ends in " + Math.max(1, sessions.leases.leaseLeftMillis(s)) + " ms, then its futexes go to "
                + "their next owners with OWNER_DIED and the writes it has not returned are lost; a clean end "
                + "terminates its objects (returning their pages and releasing their futexes) before it half-closes";
    }

    /**
     * Runs {@code done} (on the core thread) once what session {@code sessionId}'s stream carried
     * so far is stored: every store write submitted before now is done, and no return of the
     * session whose write failed is left (it is written again first) - what a keepalive's answer
     * waits for (xp-spec 4.2). A cleanly ended stream's end waits for it (xp-spec 2.6); call it
     * before {@link #sessionClosed}. An unknown session's runs once the writes before now are done.
     * It may never run (a write that keeps failing): the caller bounds its wait, and once that
     * bound runs out calls what this returns (core thread), which forgets {@code done}: it does
     * not run later, and nothing keeps it.
     */
    public Runnable whenStored(long sessionId, Runnable done) {
        KernelSession s = sessions.get(sessionId);
        Runnable[] forget = {null};
        boolean[] cancelled = {false};
        core.env.storeEffect(() -> { }, failure -> {
            if (cancelled[0]) {
                return;
            }
            if (s == null) {
                done.run();
            } else {
                forget[0] = core.retries.whenReturnsWritten(s, done);
            }
        });
        return () -> {
            cancelled[0] = true;
            if (forget[0] != null) {
                forget[0].run();
            }
        };
    }

    /** How many ends of cleanly ended streams wait for a failed return to be written; for tests. */
    public int endsWaitingForWrites() {
        return core.retries.endsWaitingForWrites();
    }

    public void onXp(long sessionId, KernelToPager m) {
        dispatch.onXp(sessionId, m);
        futexes.retryParked(); // a futex given back, or a kernel gone, may free a record a parked request waits for
    }

    /** A message the grace period held, at its end (the grace period is built before the dispatch). */
    private void handle(KernelSession s, KernelToPager m) {
        dispatch.handle(s, m);
    }

    /** Ends a session with an error, for the futexes (built before the sessions). */
    private void end(KernelSession s, Errno errno, String message) {
        sessions.end(s, errno, message);
    }

    // ---- inspection ---------------------------------------------------------------------------

    /** Names of the kernels connected now. */
    public List<String> kernels() {
        return sessions.kernels();
    }

    /** The fencing token of a futex's current (or last) grant, 0 if never granted; for tests and tools. */
    public long fencingToken(String object, long offset) {
        FutexRecord f = futexes.record(object, offset);
        return f == null ? 0 : f.token;
    }

    /** The kernel holding a futex, or null; for tests and tools. */
    public String holderOf(String object, long offset) {
        FutexRecord f = futexes.record(object, offset);
        return f == null || f.holder == null ? null : f.holder.kernelName;
    }

    /**
     * Whether a kernel is still to be told that an owner of a futex died: its next grant will say
     * so, or its current one did (the holder may not have seen it yet); for tests and tools.
     */
    public boolean ownerDiedPending(String object, long offset) {
        FutexRecord f = futexes.record(object, offset);
        return f != null && (f.ownerDied || f.holder != null && f.grantOwnerDied);
    }

    /** Whether the pager is in its grace period after a restart; for tests and tools. */
    public boolean inGrace() {
        return grace.inGrace();
    }

    /** The kernel holding a page writable, or null; for tests and tools. */
    public String pageWriter(String object, long offset) {
        return pages.writerOf(object, offset);
    }

    /** The kernels holding read-only copies of a page; for tests and tools. */
    public List<String> pageReaders(String object, long offset) {
        return pages.readersOf(object, offset);
    }

    /** What machxp status shows: sessions, futexes held or waited for, pages held. Core thread. */
    public io.machxp.proto.admin.PagerStatusReply status() {
        return PagerStatusSnapshot.of(core.name, grace.inGrace(), sessions, futexes, pages);
    }

    /**
     * Submits every store write that failed and is not written yet again, at once (the pager is
     * closing: its store thread drains them); returns how many. From then on the retry timers do
     * nothing. Core thread.
     */
    public int retryFailedStoreWrites() {
        return core.retries.lastTry();
    }

    /** Keepalive answers held until a failed store write is done; for tests. Core thread. */
    public int heldKeepaliveAnswers() {
        return core.retries.heldAnswers();
    }

    /** Pages whose store write failed and is not written yet (kept in memory only). Core thread. */
    public int unwrittenPages() {
        return core.retries.unwrittenPages();
    }

    /**
     * How many records the pager keeps, by kind ("sessions", "deadSessions", "kernelIds",
     * "quarantinedIds", "futexes", "futexTokenMarks", "deadKernelIdsInWords", "pages", "heldInGrace",
     * "reclaimBytesAssembling", "heldBytesInGrace"); for tests and
     * tools that check they stay bounded.
     */
    public Map<String, Integer> recordCounts() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        counts.put("sessions", sessions.count());
        counts.put("deadSessions", sessions.leases.deadCount());
        counts.put("kernelIds", sessions.ids.count());
        counts.put("quarantinedIds", sessions.ids.quarantinedCount());
        counts.put("futexes", futexes.count());
        counts.put("futexTokenMarks", futexes.records().prunedTokenCount());
        counts.put("deadKernelIdsInWords", futexes.records().diedPendingCount());
        counts.put("pages", pages.recordCount());
        counts.put("heldInGrace", grace.heldCount());
        counts.put("reclaimBytesAssembling", (int) Math.min(Integer.MAX_VALUE, grace.assemblingBytes()));
        counts.put("heldBytesInGrace", (int) Math.min(Integer.MAX_VALUE, grace.heldBytes()));
        return counts;
    }

    /** The open session with this id, or null; for tests that check the pager's invariants. */
    KernelSession session(long sessionId) {
        return sessions.get(sessionId);
    }

    /** The pager's record of a futex, or null if no kernel ever asked for it; for tests. */
    FutexRecord futex(String object, long offset) {
        return futexes.record(object, offset);
    }
}
