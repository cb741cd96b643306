package io.machxp.kernel.core;

import io.machxp.kernel.futex.LeaseGate;
import io.machxp.kernel.task.Tids;
import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerWelcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel's XP session with one pager and the lease that bounds it (a kernel with several
 * pagers has one of these per pager, see {@link KernelSessions}; each acts on the objects its
 * pager serves only). Part of the kernel core:
 * core thread only, no I/O of its own (it sends through {@link KernelEnv}).
 *
 * <h2>Overview</h2>
 * Session: {@code start} sends kernel_hello; pager_welcome gives the kernel id (TIDs) and page
 * size. A welcome with a kernel id TIDs cannot carry or a page size that is not a power of two
 * from 64 bytes to 1 MiB is a violation: the kernel stays without a session rather than broken.
 * <pre>
 *  HELLO OUT ──pager_welcome──▶ SESSION ──stream broken, lease runs──▶ RESUMING (replicated pager)
 *                                  │                                  or DISCONNECTED (reclaim)
 *                                  ├──lease out, pager lost, reclaim or resume refused──▶ STOPPED
 *                                  └──shutdown──▶ ENDING (with a lease) ──▶ STOPPED
 * </pre>
 *
 * <p>Lease ({@link SessionLease}): the welcome gives the session's lease L (0: none), which
 * keepalives every L/8 extend; when the kernel's lease runs out it stops using the pager as if
 * the stream had broken (every cached futex stops being handed out, every thread's call fails
 * with EIO saying why, and every later request too). At a replicated pager, a lease that runs
 * out while the session resumes at the next leader first holds a grace ({@link LeaseGrace}):
 * nothing handed out, calls parked, the session kept until a resume is taken or refused.
 *
 * <p>Reconnecting and reclaiming ({@link SessionReclaim}): when the stream breaks while the
 * lease still runs, the kernel keeps what it holds (a replicated pager's session is resumed at
 * its next leader instead, {@link SessionResume}), tries a new stream every twentieth of the lease
 * and sends kernel_hello with a reclaim of all it holds (SESSION ──stream broken──▶ DISCONNECTED
 * ──new stream──▶ RECLAIMING ──pager_welcome──▶ SESSION); a lease that runs out, or a refused
 * reclaim, stops it as if the pager were lost.
 *
 * <p>Rejoining (a secondary pager only, {@link SessionRejoin}): a session that replaces one lost
 * for good sends kernel_hello on a new stream after a moment, and again after each stream that
 * fails or hello the pager refuses, until a welcome opens it (REJOINING ──pager_welcome──▶
 * SESSION); meanwhile a vm_map of that pager's objects fails with EIO saying so.
 *
 * <p>Shutdown ({@link ShutdownEnd}): the kernel's threads end, dirty pages go back and every
 * object is terminated (memory_object_terminate), which releases every futex it held; a last
 * keepalive goes out, whose answer the runtime awaits before it ends the stream
 * ({@link EndBarrier}); then it stops using the pager. With a lease the terminates wait for that
 * answer, the session open and ending.
 */
final class KernelSession {
    /** Log lines keep the core's logger: they read as the kernel's. */
    private static final Logger log = LoggerFactory.getLogger(KernelCore.class);
    private static final int PROTOCOL_VERSION = 1;
    /** Page sizes a pager may give: powers of two from the pager's least to 1 MiB. */
    private static final int MIN_PAGE_SIZE = 64;
    private static final int MAX_PAGE_SIZE = 1 << 20;

    private final KernelCore core;
    /** Which of the kernel's pagers (0: the primary, whose kernel id makes the TIDs). */
    final int pager;
    private final String name;
    private final KernelEnv env;
    private final KernelStats stats;
    private int kernelId;
    private int pageSize;
    private String pagerLost;
    /** The lease, its keepalives and its end. */
    final SessionLease lease;
    /** What the fast path reads of the lease (see {@link LeaseGate}). */
    final LeaseGate gate;
    /** Numbers what crosses the stream, and resumes the session on a new one. */
    final SessionResume resume;
    /** The grace after a lease that ran out while resuming at a replicated pager. */
    final LeaseGrace grace;
    /**
     * The pager's last welcome said it takes a reclaim in parts (xp-spec 9.4): the kernel's next
     * reclaim to it may exceed one message. False until then (one message, under 4 MiB).
     */
    boolean pagerTakesReclaimParts;
    /**
     * The pager's last welcome said carries_stale_heir_tid: a release may name a stale heir's TID
     * (futex_released.stale_heir_tid, xp-spec 8.4) instead of saying owner_died.
     */
    boolean pagerCarriesStaleHeirTid;
    /** Reconnecting and reclaiming after the stream broke while the lease runs. */
    final SessionReclaim reclaim;
    /** How a session that replaces a lost one opens itself (a secondary pager's only). */
    final SessionRejoin rejoin;
    /** The clean end: its first part at shutdown, the second when the runtime has its answer. */
    final ShutdownEnd end;

    KernelSession(KernelCore core, int pager, String name, KernelEnv env, KernelStats stats) {
        this.core = core;
        this.pager = pager;
        this.name = name;
        this.env = env;
        this.stats = stats;
        this.resume = new SessionResume(this, core, name, env, stats);
        this.gate = new LeaseGate();
        this.grace = new LeaseGrace(this, core, env, name);
        this.lease = new SessionLease(this, core, env, name);
        this.end = new ShutdownEnd(this, core, env, name);
        this.rejoin = new SessionRejoin(this, core, env, name);
        this.reclaim = new SessionReclaim(this, core, env, stats, name);
    }

    /** The session's lease from the welcome (0: none). */
    long leaseNanos() {
        return lease.nanos();
    }

    int kernelId() {
        return kernelId;
    }

    int pageSize() {
        return pageSize;
    }

    boolean pagerLost() {
        return pagerLost != null;
    }

    /** Whether the kernel lost its stream and is reconnecting ({@link SessionReclaim}). */
    boolean disconnected() {
        return reclaim.disconnected();
    }

    // ---- session ------------------------------------------------------------------------------

    /**
     * The hello feature by which the kernel asks for ErrorInfo on every status a pager ends its
     * stream with (xp-spec 3.1): a replica's redirect and loss of leadership then carry ErrorInfo
     * marked {@code stream = broken}, which PagerLink (PagerWord) mends as a broken stream.
     */
    static final String END_INFO = "end_info";
    /** The hello feature of futex_granted's and ReclaimedFutex's stale_heir_tid (xp-spec 6.12, 8.4). */
    static final String STALE_HEIR_TID = "stale_heir_tid";

    /**
     * A kernel_hello of this session, as every one starts: its name, version, features and, to a
     * pager that is not its primary, the TID prefix its primary's kernel id makes (xp-spec 2.9), so
     * that the pager can refuse a kernel whose TIDs another kernel of its has.
     */
    KernelHello.Builder hello() {
        KernelHello.Builder h = KernelHello.newBuilder().setKernelName(name).setProtocolVersion(PROTOCOL_VERSION)
                .setResumable(true).addAllFeatures(PageCache.FEATURES)
                .addFeatures(RelinquishHints.FEATURE) // a replicated pager's early asks (xp-spec 13.6)
                .addFeatures(END_INFO) // ErrorInfo on every end, broken-stream ends marked (xp-spec 3.1; PagerWord)
                .addFeatures(DirectoryDisputes.FEATURE) // objects in dispute listed in the welcome (xp-spec 2.8)
                .addFeatures(STALE_HEIR_TID) // a grant's stale_heir_tid is rewritten here (xp-spec 8.4)
                .setDirectory(core.directory.viewFor(pager)); // the pager refuses a kernel configured unlike the others
        if (pager != 0) {
            h.setTidPrefix(core.sessions.primary().kernelId()); // a secondary starts once the primary welcomed it
        }
        return h;
    }

    /** Opens the XP session: kernel_hello. */
    void start() {
        KernelToPager hello = KernelToPager.newBuilder().setKernelHello(hello()).build();
        stats.sent(hello);
        env.send(pager, hello); // not numbered: message 1 is the next one
    }

    /** pager_welcome to the first kernel_hello: the session opens. */
    void onWelcome(PagerWelcome w) {
        if (kernelId != 0) {
            core.violation("a second pager_welcome", 0, 0);
            return;
        }
        int id = w.getKernelId();
        int size = w.getPageSize();
        if (id < 1 || id > Tids.MAX_KERNEL_ID || Integer.bitCount(size) != 1 || size < MIN_PAGE_SIZE
                || size > MAX_PAGE_SIZE) {
            // TIDs carry the id; pages are indexed by shifts: without a session rather than broken
            core.violation("a pager_welcome with kernel id " + Integer.toUnsignedString(id) + " and page size "
                    + Integer.toUnsignedString(size), 0, 0);
            return;
        }
        kernelId = id;
        pageSize = size;
        rejoin.welcomed(id);
        resume.welcomed(w.getLeaseMillis() != 0 ? w.getSessionToken() : 0); // a uint64: 2^63 and more too
        lease.start(SessionLease.nanosOf(w.getLeaseMillis()));
        log.info("kernel {}: session open{}, kernel id {}, page size {}", name,
                core.sessions.count() == 1 ? "" : " with pager " + pager, kernelId, pageSize);
        if (pager == 0) {
            core.sessions.primaryWelcomed(); // its id makes the TIDs: the other pagers are told it
        }
    }

    /** See {@link KernelXp#onPagerLost}. */
    void onPagerLost(String reason) {
        core.checkThread();
        if (pagerLost != null) {
            return;
        }
        if (rejoin.attemptLost(reason)) {
            return; // the next attempt is due
        }
        log.warn("kernel {}: lost {}: {}", name, which(), reason);
        env.trace("pager-lost", 0, reason);
        stopUsingPager(reason);
    }

    /** See {@link KernelXp#onStreamBroken}. */
    void onStreamBroken(String reason) {
        if (pagerLost != null) {
            return;
        }
        if (kernelId == 0 || (lease.overNow() && !(grace.held() && resume.resuming()))) {
            onPagerLost(reason); // in grace, a refused resume (no longer resuming) ends the session too
            return;
        }
        if (env.replicated(pager) && resume.mayResume()) {
            // A replicated pager's next leader has the session, and every message its log took:
            // the kernel resumes it there, keeping what it holds (xp-spec 13).
            resume.resume("its stream broke: " + reason);
            return;
        }
        reclaim.streamBroken(reason); // the kernel keeps what it holds, reconnects and reclaims it
    }

    /** See {@link KernelXp#onStreamStalled}. */
    boolean onStreamStalled(String why) {
        if (pagerLost != null || kernelId == 0 || reclaim.disconnected() || lease.overNow() || !resume.mayResume()) {
            return false;
        }
        resume.resume(why);
        return resume.resuming();
    }

    /** At most this long between tries to reach a pager again, whatever the lease. */
    static final long MAX_RETRY_NANOS = 1_000_000_000L;

    /**
     * How long a kernel waits before it tries its pager again (a reconnect after a broken stream, a
     * check for a stalled one): a twentieth of the lease, at most {@link #MAX_RETRY_NANOS}. A
     * pager may give a lease of hours (up to a year, xp-spec 4.3): a twentieth of it would leave a
     * restarted pager's kernels away for minutes while their lease still allowed a reclaim.
     */
    static long retryNanos(long leaseNanos) {
        return Math.min(leaseNanos / 20, MAX_RETRY_NANOS);
    }

    private void stopUsingPager(String reason) {
        stopUsingPager(reason, null);
    }

    /** Stops using the pager; what waits for it fails with {@code error} (null: the pager's loss, EIO). */
    void stopUsingPager(String reason, KernelError why) {
        pagerLost = reason;
        resume.sessionStopped(); // a resume under way will not be taken: a close waiting for it goes on
        end.lost(); // a clean end under way: its barrier will not be answered
        gate.close();
        reclaim.stopped();
        KernelError error = why != null ? why : pagerError();
        for (VmObject o : core.objects.servedBy(pager)) {
            KernelObjects.failAll(o.pendingMaps, error);
            core.sync.failAll(o, error);
            o.forEachPage(page -> {
                core.pages.unmap(page); // tasks reach pages through the core again, which says EIO
                core.pages.failWaiting(page, error);
                page.forEachFutex(e -> core.futexes.forgetFutex(e, error));
                if (core.plants.dropsLostPagersPages(true)) {
                    core.pages.forget(page); // no copy read, no write taken, from now on
                }
            });
        }
        core.returns.sessionOver(pager);
        core.sessions.lost.stopped(this, reason);
        grace.over(error); // the calls parked in its grace fail as the session's other calls did
    }

    // ---- lease (SessionLease) ----------------------------------------------------------------

    /** See {@link SessionLease#unansweredSince}. */
    long unansweredSince() {
        return lease.unansweredSince();
    }

    /** See {@link SessionLease#resumeTaken}. */
    void resumeTaken(long sentAt) {
        lease.resumeTaken(sentAt);
    }

    /** Whether the session is in its grace ({@link LeaseGrace}): it holds still. */
    boolean inGrace() {
        return grace.held();
    }

    /**
     * A resume was taken and what the pager lacked was sent again: a session still in grace (the
     * resume's answer came too late to count as a lease) asks for a keepalive's answer at once.
     */
    void afterResume() {
        if (grace.held() || ending()) {
            lease.sendKeepalive(); // while ending: its answer, a later sequence, answers the end's barrier
        }
    }

    /** See {@link SessionLease#keepaliveAnswered}. */
    void keepaliveAnswered(long sequence) {
        lease.keepaliveAnswered(sequence);
    }

    /** See {@link SessionLease#checkNow}. */
    void checkLeaseNow() {
        lease.checkNow();
    }

    /** The lease ran out: the kernel stops using the pager. */
    void leaseLost(String why) {
        stopUsingPager(why);
    }

    // ---- shutdown ----------------------------------------------------------------------------

    /** Whether {@link ShutdownEnd#terminateObjects} has anything to do: the session is open. */
    boolean open() {
        return pagerLost == null && kernelId != 0;
    }

    /** Whether the session is between the two parts of a clean end ({@link ShutdownEnd}). */
    boolean ending() {
        return end.ending() && pagerLost == null;
    }

    // ---- for the other parts -----------------------------------------------------------------

    /**
     * Sends on the stream; nothing while there is none (what matters is asked again after a
     * reclaim); while a resume is on its way, kept to be sent once it is taken. The message's
     * number in the session (0: not sent).
     */
    long send(KernelToPager m) {
        if (pagerLost != null || reclaim.disconnected()) {
            return 0;
        }
        long number = resume.sent(m);
        if (!resume.resuming()) {
            stats.sent(m);
            env.send(pager, m);
        }
        return number;
    }

    /** "its pager", or with several "its pager N", for log lines and errors. */
    String which() {
        return core.sessions.count() == 1 ? "its pager" : "its pager " + pager;
    }

    /** Whether the kernel has its pager and a session; else fails the reply. */
    boolean connected(Reply<?> reply) {
        if (pagerLost != null) {
            reply.fail(pagerError());
            return false;
        }
        if (end.ending()) {
            reply.fail(KernelError.of(Errno.ESRCH, "kernel %s is shutting down: it waits for %s to store what it "
                    + "gave back, and takes no new task or mapping", name, which()));
            return false;
        }
        if (kernelId == 0 && rejoin.rejoining()) {
            reply.fail(rejoin.notOpenYet());
            return false;
        }
        if (kernelId == 0) {
            reply.fail(KernelError.of(Errno.EIO, "kernel %s has no session with %s yet; retry once it is up", name,
                    which()));
            return false;
        }
        return true;
    }

    KernelError pagerError() {
        if (pager != 0) {
            // A secondary pager: the kernel goes on with its other pagers, in the same session.
            return KernelError.of(Errno.EIO, "kernel %s lost its session with %s (%s): the objects that pager "
                    + "served fail here in the mappings made before (what its tasks held of them went on with "
                    + "OWNER_DIED), the other pagers' objects go on; the kernel opens a new session with that pager "
                    + "by itself once the pager takes one: then vm_map the object again", name, which(), pagerLost);
        }
        return KernelError.of(Errno.EIO, "kernel %s lost its session with %s (%s): what its tasks held went "
                + "on with OWNER_DIED; a kernel process opens a new session by itself as soon as the pager takes it, "
                + "then create a new task", name, which(), pagerLost);
    }
}
