package io.machxp.kernel.core;

import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;

/**
 * The kernel's XP sessions, one per pager it uses (see docs/multi-pager.md). Part of the kernel
 * core: core thread only.
 *
 * <h2>Overview</h2>
 * Each memory object is served by one pager ({@link PagerDirectory}); every message about an
 * object goes on its pager's session, and a message from a pager about an object another pager
 * serves is a violation. Each session has its own hello, welcome, lease, keepalives, reclaim and
 * end ({@link KernelSession}): losing one pager fails what waits on its objects only, and the
 * futexes and pages of other objects go on.
 *
 * <p>The primary pager (0) names the kernel: its kernel id makes the TIDs, which every pager's
 * futex words carry, so they are unique across the pagers of a cluster as long as every kernel
 * uses the same primary. A kernel that loses its primary loses its name: it stops using every
 * pager (as a kernel whose one pager is lost), since the primary may give its id to another
 * kernel once its quarantine is over.
 * <pre>
 *  start      -> kernel_hello to the primary; once it is welcomed, kernel_hello to every other
 *                pager, with the TID prefix its kernel id makes (a pager refuses a prefix another
 *                of its kernels has: kernels with different primaries)
 *  pager p lost (lease out, refused reclaim, shut down) -> p's objects fail with EIO;
 *                if p is the primary, every other session stops too; a secondary's objects
 *                are retired and the kernel opens a new session with p by itself (rejoin)
 *  rejoin     -> kernel_hello on a new stream, again until p takes it; then vm_map of an
 *                object of p maps a new one; the retired objects' mappings stay failed
 *  shutdown   -> threads end, futexes go back (each to its pager), then each pager's pages and
 *                objects, the primary last, each followed by a keepalive the end awaits
 * </pre>
 *
 * <p>Its parts: {@link SessionsGate}, the kernel's lease gate over its sessions' (what the futex
 * fast path reads); {@link LostSessions}, what a session's loss leaves (the primary's stops all,
 * a secondary's objects retired and a new session opened); {@link GraceCalls}, the calls parked
 * while the session of the object they name is in its grace ({@link #parkedInGrace});
 * {@link XpObjects}, the object each message is about, which routes it ({@link #send},
 * {@link #serves}).
 */
final class KernelSessions {
    /** Log lines keep the core's logger: they read as the kernel's. */
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(KernelCore.class);
    private final KernelCore core;
    private final String name;
    private final KernelEnv env;
    private final KernelStats stats;
    /** The session in use with each pager; {@link SessionsGate} reads the same table. */
    private final KernelSession[] sessions;
    /** The kernel's lease gate over the sessions'. */
    final SessionsGate gates;
    /** What a session's loss leaves: the primary's stops all, a secondary's objects retired. */
    final LostSessions lost;
    /** Calls and deaths that wait while a session is in its grace. */
    final GraceCalls parked;
    /** Set when the kernel shuts down: no session is opened again. */
    private boolean shuttingDown;

    KernelSessions(KernelCore core, String name, KernelEnv env, KernelStats stats, int pagers) {
        this.core = core;
        this.name = name;
        this.env = env;
        this.stats = stats;
        this.sessions = new KernelSession[pagers];
        this.parked = new GraceCalls(env);
        for (int p = 0; p < pagers; p++) {
            sessions[p] = new KernelSession(core, p, name, env, stats);
        }
        this.gates = new SessionsGate(sessions);
        this.lost = new LostSessions(core, this);
    }

    int count() {
        return sessions.length;
    }

    /** The session with the primary pager, whose kernel id makes the TIDs. */
    KernelSession primary() {
        return sessions[0];
    }

    KernelSession session(int pager) {
        return sessions[pager];
    }

    /**
     * The session of the pager that serves object {@code objectId} (the primary's if unknown); for
     * an object retired with a lost session, that session.
     */
    KernelSession forObject(int objectId) {
        if (sessions.length == 1) {
            return sessions[0];
        }
        VmObject o = core.objects.object(objectId);
        if (o == null) {
            return sessions[0];
        }
        KernelSession retiredWith = lost.retiredWith(objectId);
        return retiredWith != null ? retiredWith : sessions[o.pager];
    }

    /**
     * Opens the sessions: the primary's first; the others once it has welcomed the kernel, since
     * their hellos carry the TID prefix its kernel id makes ({@link #primaryWelcomed}).
     */
    void start() {
        sessions[0].start();
    }

    /**
     * The primary welcomed the kernel (once per kernel: its session is never replaced): each other
     * pager gets its hello now, with the TID prefix (xp-spec 2.9).
     */
    void primaryWelcomed() {
        for (int p = 1; p < sessions.length; p++) {
            if (!sessions[p].pagerLost() && !sessions[p].rejoin.replacesLost()) {
                sessions[p].start();
            }
        }
    }

    /** Whether every pager has welcomed the kernel. */
    boolean welcomed() {
        for (KernelSession s : sessions) {
            if (s.kernelId() == 0) {
                return false;
            }
        }
        return true;
    }

    /** The longest lease a pager welcomed the kernel with, in ms (0: none, or not welcomed yet). */
    long longestLeaseMillis() {
        long longest = 0;
        for (KernelSession s : sessions) {
            longest = Math.max(longest, s.leaseNanos() / 1_000_000);
        }
        return longest;
    }

    /** Whether the kernel lost its stream to a pager and is reconnecting. */
    boolean disconnected() {
        for (KernelSession s : sessions) {
            if (s.disconnected()) {
                return true;
            }
        }
        return false;
    }

    /** A call checks every lease when it runs (see {@link KernelSession#checkLeaseNow}). */
    void checkLeaseNow() {
        for (KernelSession s : sessions) {
            s.checkLeaseNow();
        }
    }

    private boolean anyInGrace() {
        for (KernelSession s : sessions) {
            if (s.inGrace()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The session of the object that {@code address} of task {@code taskId} falls in; null if the
     * address is not mapped (or the task unknown): the call then fails on its own checks.
     */
    private KernelSession sessionAt(long taskId, long address) {
        MachTask task = core.tasks.task(taskId);
        VmMapping m = task == null ? null : task.mappingAt(address);
        return m == null ? null : forObject(m.object().objectId);
    }

    /**
     * A call checks every lease when it runs; while the session of the object it names (at
     * {@code address} of task {@code taskId}) is in its grace the call is parked to run again
     * when that grace ends ({@link GraceCalls}): true if it was. Another pager's grace holds
     * nothing of it.
     */
    boolean parkedInGrace(long taskId, long address, Reply<?> reply, Runnable again) {
        return parkedInGrace(taskId, address, reply, again, -1, null);
    }

    /**
     * As {@link #parkedInGrace(long, long, Reply, Runnable)}, for a call with a timeout
     * ({@code timeoutNanos} from now; negative: none): parked, it is answered by {@code timedOut}
     * at its deadline.
     */
    boolean parkedInGrace(long taskId, long address, Reply<?> reply, Runnable again, long timeoutNanos,
            Runnable timedOut) {
        checkLeaseNow();
        if (!anyInGrace()) {
            return false; // the usual case: no mapping looked up twice (the call resolves its own)
        }
        KernelSession s = sessionAt(taskId, address);
        if (s == null || !s.inGrace()) {
            return false;
        }
        parked.park(s, reply, again, timeoutNanos, timedOut);
        return true;
    }

    /** Sends {@code m} on the session of the object it is about. */
    void send(KernelToPager m) {
        forObject(XpObjects.objectOf(m)).send(m);
    }

    /** Whether the pager of object {@code objectId} is lost to this kernel. */
    boolean pagerLost(int objectId) {
        return forObject(objectId).pagerLost();
    }

    /** Why a call on object {@code objectId} fails now that its pager is lost. */
    KernelError pagerError(int objectId) {
        return forObject(objectId).pagerError();
    }

    /**
     * A new session with {@code pager} replaces its lost one ({@link LostSessions}): in use from
     * now on, its gate mirrored; it opens by itself ({@link SessionRejoin}).
     */
    KernelSession replace(int pager) {
        KernelSession next = new KernelSession(core, pager, name, env, stats);
        sessions[pager] = next;
        env.resumeOver(pager); // the pager's session is not being resumed any more: a close waiting goes on
        gates.mirror(next);
        return next;
    }

    /** Whether the kernel is shutting down: no session is opened again. */
    boolean shuttingDown() {
        return shuttingDown;
    }

    /**
     * See {@link KernelXp#shutdown}: threads end once, futexes go back, then each pager's objects;
     * returns the keepalives whose answers the end awaits, one per session that sent one.
     */
    java.util.List<EndBarrier> shutdown() {
        shuttingDown = true;
        java.util.List<EndBarrier> barriers = new java.util.ArrayList<>();
        if (!primary().open()) {
            return barriers;
        }
        // Its threads end with it: a call they are blocked in is answered (ESRCH, saying why), and a
        // futex one owns passes on with OWNER_DIED (robust futexes), the word in the page says so.
        // A call parked in a grace, or due to run again after one, is answered now: a kernel
        // shutting down runs no later timer.
        parked.failAll(KernelError.of(Errno.ESRCH, "kernel %s is shutting down; the call, which waited out "
                + "a lease grace, ended with it", core.name()));
        core.tasks.endAll("kernel " + core.name() + " is shutting down");
        // Every futex it holds goes back by itself, with its word and page, and with owner_died if
        // a grant said so and the word never got it, or if a thread of this kernel ended owning it
        // and its page is elsewhere (with the page here OWNER_DIED goes into the word):
        // terminate releases only grants still on their way here, which the pager then passes on
        // as it got them.
        core.forEachFutex(core.futexes::giveBackAtShutdown);
        for (int p = sessions.length - 1; p >= 0; p--) {
            try {
                EndBarrier b = sessions[p].end.terminateObjects();
                if (b != null) {
                    barriers.add(b);
                }
            } catch (RuntimeException e) {
                // One session's failure must not cost the others their end: their barriers still go back.
                log.error("kernel {}: its shutdown failed at pager {}; its other pagers still end cleanly",
                        core.name(), p, e);
            }
        }
        return barriers;
    }

    /**
     * Whether {@code pager} may speak of the object its message names: the object is its own (or
     * unknown here, which the dispatch judges). A message about another pager's object is a
     * violation.
     */
    boolean serves(int pager, PagerToKernel m) {
        if (sessions.length == 1) {
            return true;
        }
        VmObject o = core.objects.object(XpObjects.objectOf(m));
        if (o != null && lost.retired(o)) {
            if (sessions[pager].rejoin.beforeHello()) {
                return false; // the lost session's stream still delivering: that session is over
            }
            core.violation("pager " + pager + " sent " + m.getRoutineCase() + " about an object of a session it "
                    + "ended", o.objectId, 0);
            return false;
        }
        if (o == null || o.pager == pager) {
            return true;
        }
        core.violation("pager " + pager + " sent " + m.getRoutineCase() + " about an object pager " + o.pager
                + " serves", o.objectId, 0);
        return false;
    }
}
