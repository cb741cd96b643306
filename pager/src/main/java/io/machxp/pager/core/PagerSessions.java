package io.machxp.pager.core;

import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernels' sessions with the pager: the open sessions by stream and by kernel name, and a
 * session's life: opened, welcomed under its kernel's name, id and TID prefix (pager_welcome, once
 * {@link PagerHello}, {@link PagerGrace} or {@link PagerResume} took its kernel_hello), moved to a
 * new stream by a resume, and how it ends (its stream closes, the pager ends it, or its lease
 * runs out: {@link SessionLeases}). Part of the pager core, core thread only.
 * <pre>
 *  stream opened             NEW: its lease runs ({@link SessionLeases}); kernel_hello first
 *  welcome(name, id, prefix) WELCOMED: pager_welcome with the kernel id, page size, this pager's
 *                            name, session epoch, lease and reclaim in parts, and a session token
 *                            if the hello was resumable and there is a lease ({@link ReplayLog})
 *  moveTo (a resume)         the session goes on on the new stream; the old one is fenced
 * </pre>
 * A session's end (with a lease; {@code leaseNanos == 0} forgets every session when its stream
 * ends); its lease, keepalives, death and fencing are {@link SessionLeases}':
 * <pre>
 *  K's stream ends            holding nothing: forgotten at once (a clean shutdown terminated its
 *                             objects first); else BROKEN: K leaves every queue, but its futexes
 *                             and pages stay its own until its lease ends, since K may still be
 *                             using them (its side of the stream may not know yet)
 *  the pager ends K's stream  (a breach, a limit, an answer overdue: {@link AnswerDeadlines}) as
 *                             a stream that ends: BROKEN if K holds something; what still arrives
 *                             from K is dropped and does not renew its lease
 *  a lease ends unheard       K is DEAD ({@link SessionLeases}): forgotten, and whatever still
 *                             arrives from it is dropped (fenced)
 * </pre>
 * The futex side of a kernel leaving is {@link FutexDepartures}', the page side
 * {@link PageCoherence}'s.
 *
 * <p>A name keeps its kernel id while it has a session, live or broken (a broken one for a
 * lease); when its last session is forgotten the id rests in quarantine ({@link KernelIds}). How
 * ids are given at kernel_hello and reused is {@link PagerHello}'s.
 */
final class PagerSessions {
    /** Kernel ids fit 10 bits: TID = kernel id << 20 | thread number (see the kernel's Tids). */
    static final int MAX_KERNEL_ID = KernelIds.MAX_KERNEL_ID;

    private final CoreContext core;
    private final PageCoherence pages;
    private final PagerFutexes futexes;
    private final long leaseNanos;
    /** Sent in pager_welcome as the session epoch: the high half of this pager's fencing tokens. */
    private final long tokenEpoch;
    final Map<Long, KernelSession> sessions = new HashMap<>();
    /** Told of each session whose stream ends, before anything else: the grace period drops what it keeps of it. */
    java.util.function.Consumer<KernelSession> closing = s -> { };
    final Map<String, KernelSession> sessionsByName = new HashMap<>();
    /** The kernel ids the names have, and their quarantine. */
    final KernelIds ids;
    /** Dead kernels' owner_died that the pager records in futex words itself, freeing their ids. */
    final DeathRecorder deaths;
    /** The kernels' TID prefixes: no two kernels may share one. */
    final TidPrefixes prefixes;
    /** The sessions' leases, keepalives and deaths, and the fence of the sessions declared dead. */
    final SessionLeases leases;
    /** The pager directory views the open sessions stated, each distinct one kept once (xp-spec 2.8). */
    final StatedViews views;

    PagerSessions(CoreContext core, PageCoherence pages, PagerFutexes futexes, long leaseNanos, long tokenEpoch,
            long graceNanos) {
        this.core = core;
        this.pages = pages;
        this.futexes = futexes;
        this.leaseNanos = leaseNanos;
        this.tokenEpoch = tokenEpoch;
        this.views = new StatedViews(core.catalog.names(), core.stats.directoryExamined);
        // An id rests a lease plus the grace period; a pager that started without one counts a
        // grace period's length all the same (xp-spec 2.5): its grace would have been its lease.
        this.deaths = new DeathRecorder(core, futexes.records(), pages);
        deaths.marks(futexes.marks);
        futexes.onRecordsFull(deaths::recordAll);
        deaths.onAskBack(futexes.parking::askForDeath);
        futexes.parking.sessions(this::all);
        this.ids = new KernelIds(core, futexes, deaths, leaseNanos + Math.max(graceNanos, leaseNanos));
        this.prefixes = futexes.prefixes;
        this.leases = new SessionLeases(core, pages, futexes, this, leaseNanos);
    }

    // ---- streams ------------------------------------------------------------------------------

    void opened(long sessionId) {
        opened(sessionId, null);
    }

    /** A new stream's session, from {@code peer} (null: none; {@link KernelSession#peer}). */
    void opened(long sessionId, String peer) {
        if (sessions.containsKey(sessionId)) {
            // Never over a live session: its stream, futexes and pages would belong to none the core knows.
            throw new IllegalStateException("session " + sessionId + " is open already");
        }
        KernelSession s = new KernelSession(sessionId);
        s.peer = peer;
        s.lastHeard = core.env.nanoTime();
        sessions.put(sessionId, s);
        core.stats.sessions.increment();
        if (leaseNanos > 0) {
            leases.watchLease(s);
        }
    }

    /**
     * The session's stream ended. A kernel holding nothing is forgotten at once; one holding
     * futexes or pages (it crashed, or its connection broke) keeps them until its lease ends,
     * since it may not know yet and still use them; it waits in no queue meanwhile.
     */
    void closed(long sessionId) {
        KernelSession s = sessions.get(sessionId);
        if (s == null || s.broken) {
            return;
        }
        closing.accept(s); // a reclaim being assembled goes with its stream: nothing of it was taken
        if (leaseNanos == 0 || (s.held.isEmpty() && (s.objects.isEmpty() || !pages.holdsAny(s)))) {
            forget(s);
            CoreContext.log.info("pager {}: {} disconnected", core.name, s);
            return;
        }
        s.broken = true;
        futexes.departures.leaveQueues(s, null);
        futexes.departures.holderBroke(s);
        pages.cancelRequests(s);
        CoreContext.log.warn("pager {}: the stream of {} broke while it held {} futexes; they and its pages stay its "
                + "own until its lease ends in {} ms", core.name, s, s.held.size(),
                leases.leaseLeftMillis(s));
    }

    /**
     * Ends the session's stream with an error. A kernel that holds futexes or pages keeps them
     * until its lease ends, as after any broken stream: until it hears of the end, it may use them.
     */
    void end(KernelSession s, Errno errno, String message) {
        CoreContext.log.warn("pager {}: ending {}: {}", core.name, s, message);
        core.env.endSession(s.id, errno, message);
        closed(s.id);
    }

    /**
     * Ends a reclaim's stream with a refusal no wait in the grace period changes, marked final on
     * the wire ({@link PagerEnv#endSessionFinal}; xp-spec 9.7), as {@link #end} otherwise.
     */
    void endFinal(KernelSession s, Errno errno, String message) {
        CoreContext.log.warn("pager {}: ending {} (final for this grace period): {}", core.name, s, message);
        core.env.endSessionFinal(s.id, errno, message);
        closed(s.id);
    }

    /** Ends the session's stream for a breach of the XP protocol itself, as {@link #end} otherwise. */
    void end(KernelSession s, XpProtocolError error, String message) {
        CoreContext.log.warn("pager {}: ending {}: {}", core.name, s, message);
        core.env.endSession(s.id, error, message);
        closed(s.id);
    }

    /** Lease without a lease: the kernel's stream ended, everything it held is released as is. */
    void forget(KernelSession s) {
        s.gone = true;
        sessions.remove(s.id);
        views.left(s);
        core.holders.gone(s);
        core.stats.sessions.decrement();
        if (s.kernelName != null && sessionsByName.get(s.kernelName) == s) {
            sessionsByName.remove(s.kernelName);
            ids.rest(s.kernelName);
        }
        futexes.departures.holderLeaving(s, null); // a forward's page waits for releaseHeld below
        pages.forget(s, null);
        futexes.departures.leaveQueues(s, null);
        futexes.departures.releaseHeld(s, null);
    }

    /**
     * The open session with this id, or null: then a message on it is dropped, and counted as
     * fenced if the session was declared dead (whatever it says is stale) or is broken (the pager
     * ended its stream, and the transport still delivers what was in flight).
     */
    KernelSession receiving(long sessionId, KernelToPager m) {
        KernelSession s = sessions.get(sessionId);
        if (s != null && s.broken) {
            // The pager ended its stream (a breach, a limit) while it held something: messages the
            // transport still delivers from it are not taken (spec 4.4: a broken session waits in no
            // queue and asks for nothing), nor do they renew its lease.
            core.stats.fenced.increment();
            CoreContext.log.debug("pager {}: dropped {} from {}, whose stream the pager ended", core.name,
                    m.getRoutineCase(), s);
            return null;
        }
        if (s == null && leases.deadSessions.contains(sessionId)) {
            core.stats.fenced.increment(); // from a kernel declared dead: whatever it says is stale
            CoreContext.log.debug("pager {}: dropped {} from session {}, which it declared dead", core.name,
                    m.getRoutineCase(), sessionId);
        }
        return s;
    }

    /** The kernel was heard from (or waited for the pager): its lease runs a full lease from now. */
    void heard(KernelSession s) {
        s.lastHeard = core.env.nanoTime();
        s.extendedSinceHeard = false; // a next takeover may extend it again
    }

    // ---- pager_welcome ------------------------------------------------------------------------

    /** The TID prefix a hello gives its kernel: the one it states, else the kernel id given here. */
    static int prefixOf(KernelHello h, int kernelId) {
        return h.hasTidPrefix() ? h.getTidPrefix() : kernelId;
    }

    /**
     * Whether kernel {@code kernelName} may have TID prefix {@code prefix} here (no other kernel
     * has it, or left it in futex words); else its session is ended, and false. For a reclaim in
     * the grace period ({@code reclaim}) the EAGAIN of a dead kernel's prefix is final, and marked
     * so ({@link #endFinal}): only a grantee recording the death clears it, and nothing is granted
     * in grace (DeathRecorder records nothing then either).
     */
    boolean mayUsePrefix(KernelSession s, String kernelName, int prefix, boolean stated, boolean reclaim) {
        TidPrefixes.Refusal refusal = prefixes.refusal(sessions.values(), kernelName, prefix, stated, reclaim);
        if (refusal != null && reclaim && refusal.errno() == Errno.EAGAIN) {
            endFinal(s, refusal.errno(), refusal.message());
            return false;
        }
        if (refusal != null) {
            end(s, refusal.errno(), refusal.message());
            if (stated && refusal.errno() == Errno.EAGAIN) {
                // A dead kernel's prefix the kernel cannot change (its primary gave it): the
                // futexes whose words may carry that prefix are looked at (a bounded number a
                // call, pages taken back from their writers, futexes cached by a grantee asked
                // back), so that its hellos get through once their holders answer rather than
                // when a next owner happens to lock each futex (deaths review MED-1).
                deaths.recordFor(prefix);
            }
            return false;
        }
        return true;
    }

    /** The TID prefixes kernel {@code kernelName} could not use here ({@link TidPrefixes#unusable}). */
    java.util.Set<Integer> unusablePrefixes(String kernelName) {
        return prefixes.unusable(sessions.values(), kernelName);
    }

    /** pager_welcome: the session is now the kernel's of that name and id, its TIDs have that prefix. */
    void welcome(KernelSession s, String kernelName, int id, int tidPrefix) {
        welcome(s, kernelName, id, tidPrefix, java.util.List.of());
    }

    /** pager_welcome listing the objects in dispute for this kernel (xp-spec 2.8; {@link DirectoryViews#disputes}). */
    void welcome(KernelSession s, String kernelName, int id, int tidPrefix,
            java.util.List<io.machxp.proto.xp.ObjectDispute> disputes) {
        s.kernelName = kernelName;
        s.kernelId = id;
        s.tidPrefix = tidPrefix;
        ids.welcomed(id, tidPrefix);
        sessionsByName.put(kernelName, s);
        long token = s.resumable && leaseNanos > 0 ? core.env.sessionToken() : 0;
        core.send(s, PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder()
                .setKernelId(id).setPageSize(core.pageSize).setPagerName(core.name).setSessionEpoch(tokenEpoch)
                .setLeaseMillis(leaseNanos / 1_000_000).setSessionToken(token).setReclaimInParts(true)
                .setCarriesStaleHeirTid(true) // futex_released.stale_heir_tid goes on to the next grant
                .addAllDisputes(disputes)).build());
        if (token != 0) {
            s.replay = new ReplayLog(token); // the welcome is not counted: message 1 is the next one
        }
    }

    /** The welcomed session of this kernel name (live or broken), or null. */
    KernelSession byName(String kernelName) {
        return sessionsByName.get(kernelName);
    }

    /**
     * The session goes on on {@code fresh}'s stream (a resume): {@code fresh}, which only carried
     * the resume's hello, is dropped, and what still arrives on the old stream is fenced.
     */
    void moveTo(KernelSession s, KernelSession fresh) {
        sessions.remove(fresh.id);
        views.left(fresh); // the session keeps the view it stated before
        views.moved(s, fresh.peer); // and its stream's peer is the new stream's
        core.stats.sessions.decrement();
        sessions.remove(s.id);
        long old = s.id;
        leases.deadSessions.add(old);
        core.timers.set(leaseNanos, new CoreTimers.ForgetDead(old)); // its stream is long gone by then
        s.id = fresh.id;
        sessions.put(s.id, s);
        core.holders.moved(s, old);
        heard(s);
    }

    /**
     * The session goes without a death and without a word (a reclaim again replaces it,
     * {@link ReclaimRetry}): no longer open, its name free for the new session, its id its name's.
     * It holds nothing by now; its stream has ended.
     */
    void retire(KernelSession s) {
        sessions.remove(s.id);
        views.left(s);
        core.holders.gone(s);
        core.stats.sessions.decrement();
        s.gone = true;
        if (s.kernelName != null && sessionsByName.get(s.kernelName) == s) {
            sessionsByName.remove(s.kernelName);
        }
        leases.deadSessions.add(s.id); // what its transport may still deliver is fenced
        if (leaseNanos > 0) {
            core.timers.set(leaseNanos, new CoreTimers.ForgetDead(s.id));
        }
    }

    long tokenEpoch() {
        return tokenEpoch;
    }

    /** Whether a session of a kernel of this name has been welcomed and not forgotten. */
    boolean connected(String kernelName) {
        return sessionsByName.containsKey(kernelName);
    }

    // ---- inspection ---------------------------------------------------------------------------

    /** The open session with this id, or null. */
    KernelSession get(long sessionId) {
        return sessions.get(sessionId);
    }

    /** The open sessions (broken ones too), for status. */
    java.util.Collection<KernelSession> all() {
        return sessions.values();
    }

    long leaseNanos() {
        return leaseNanos;
    }

    /** How many sessions are open (broken ones too: they wait for their leases). */
    int count() {
        return sessions.size();
    }

    /** Names of the kernels connected now. */
    List<String> kernels() {
        return new ArrayList<>(sessionsByName.keySet());
    }
}
