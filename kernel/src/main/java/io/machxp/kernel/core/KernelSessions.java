package io.machxp.kernel.core;

import io.machxp.kernel.futex.LeaseGate;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

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
 * <p>The fast path's lease gate: with one pager, that session's own; with several, open until
 * the earliest end among the sessions still in use (a pager lost is left out once its futexes
 * are forgotten: they no longer pass the fast path).
 */
final class KernelSessions {
    /** Log lines keep the core's logger: they read as the kernel's. */
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(KernelCore.class);
    private final KernelCore core;
    private final String name;
    private final KernelEnv env;
    private final KernelStats stats;
    private final KernelSession[] sessions;
    private final LeaseGate gate;
    /** Per session: where its gate stands now; {@link Long#MAX_VALUE} once it is left out. */
    private final long[] ends;
    private final boolean[] stopped;
    /** Calls and deaths that wait while a session is in its grace. */
    final GraceCalls parked;
    /**
     * The objects of secondary pagers' lost sessions, by id, with the session they were lost with:
     * the mappings tasks made of them fail as that session's objects did, whatever the pager's new
     * session does (a new session's objects are new objects, with new ids). Kept while a task maps
     * them: the last mapping's end forgets an object ({@link #unmapped}), one no task maps is
     * forgotten at once.
     */
    private final Map<Integer, KernelSession> retired = new HashMap<>();
    /** Set when the kernel shuts down: no session is opened again. */
    private boolean shuttingDown;

    KernelSessions(KernelCore core, String name, KernelEnv env, KernelStats stats, int pagers) {
        this.core = core;
        this.name = name;
        this.env = env;
        this.stats = stats;
        this.sessions = new KernelSession[pagers];
        this.ends = new long[pagers];
        this.stopped = new boolean[pagers];
        this.parked = new GraceCalls(env);
        for (int p = 0; p < pagers; p++) {
            sessions[p] = new KernelSession(core, p, name, env, stats);
        }
        if (pagers == 1) {
            gate = sessions[0].gate;
        } else {
            gate = new LeaseGate();
            Arrays.fill(ends, Long.MAX_VALUE);
            for (KernelSession s : sessions) {
                mirror(s);
            }
        }
    }

    /** The kernel's gate follows session {@code s}'s while it is its pager's session in use. */
    private void mirror(KernelSession s) {
        s.gate.mirrorTo(end -> {
            if (sessions[s.pager] == s) {
                ends[s.pager] = stopped[s.pager] ? Long.MAX_VALUE : end;
                recompute();
            }
        });
    }

    private void recompute() {
        long min = Long.MAX_VALUE;
        boolean any = false;
        for (int p = 0; p < ends.length; p++) {
            any |= !stopped[p];
            min = Math.min(min, ends[p]);
        }
        if (!any) {
            gate.close();
        } else {
            gate.openUntil(min);
        }
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
        KernelSession lost = retired.get(objectId);
        return lost != null ? lost : sessions[o.pager];
    }

    /** Whether {@code o} was retired with its pager's lost session (its mappings stay failed). */
    boolean retired(VmObject o) {
        return !retired.isEmpty() && retired.containsKey(o.objectId);
    }

    /** What the fast path reads of the leases; any thread. */
    LeaseGate gate() {
        return gate;
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

    /** Session {@code s}'s grace ended with its lease running again: what it parked runs again. */
    void graceEnded(KernelSession s) {
        parked.release(s);
    }

    /**
     * Session {@code s} ended in its grace: what it parked runs again and fails through the
     * session (the calls of other sessions stay as they are); at shutdown everything parked has
     * failed already ({@link #shutdown}).
     */
    void graceOver(KernelSession s) {
        parked.sessionOver(s);
    }

    /** Sends {@code m} on the session of the object it is about. */
    void send(KernelToPager m) {
        forObject(objectOf(m)).send(m);
    }

    /**
     * Session {@code s} stopped using its pager and has forgotten what it held there. The gate
     * leaves it out; if it was the primary, every other session stops as well.
     */
    void stopped(KernelSession s, String reason) {
        if (sessions.length == 1) {
            return;
        }
        stopped[s.pager] = true;
        ends[s.pager] = Long.MAX_VALUE;
        recompute();
        if (s.pager == 0) {
            for (int p = 1; p < sessions.length; p++) {
                if (shuttingDown && sessions[p].ending()) {
                    continue; // a clean end's second part: it finishes on its own, its pager is not lost
                }
                sessions[p].onPagerLost("the kernel lost its primary pager, which names it (" + reason + ")");
            }
        } else if (mayRejoin(s)) {
            rejoinLater(s, reason);
        }
    }

    /**
     * Whether session {@code s}, of a secondary pager, may be replaced by a new one after its loss
     * (or go on trying to open one): it is its pager's session in use, the kernel still has its
     * primary (which names it) and is not shutting down.
     */
    boolean mayRejoin(KernelSession s) {
        return s.pager != 0 && !shuttingDown && !primary().pagerLost() && sessions[s.pager] == s && !s.rejoin.cannotRejoin();
    }

    /**
     * Secondary session {@code lost} is over: its objects are retired (their mappings keep failing
     * as they do now; a later vm_map of one of their names maps a new object) and a new session
     * with the same pager replaces it, which sends its kernel_hello on a new stream a moment later
     * and again until the pager takes it ({@link SessionRejoin}). Nothing the kernel held
     * there is claimed back: that pager has passed it on (OWNER_DIED) or will when its lease of
     * this kernel runs out, and until then it refuses the hello (EAGAIN).
     */
    private void rejoinLater(KernelSession lost, String reason) {
        for (VmObject o : core.objects.servedBy(lost.pager)) {
            if (o.mappings > 0) {
                retired.put(o.objectId, lost);
                core.objects.forgetName(o);
            } else {
                core.objects.forget(o); // cached, mapped by no task: nothing can name it any more
            }
        }
        KernelSession next = new KernelSession(core, lost.pager, name, env, stats);
        sessions[lost.pager] = next;
        env.resumeOver(lost.pager); // the pager's session is not being resumed any more: a close waiting goes on
        mirror(next);
        next.rejoin.start(reason, KernelSession.retryNanos(lost.leaseNanos()));
    }

    /**
     * A task's mapping of {@code o} went (its task ended): a retired object that no task maps any
     * more is forgotten, with its place in {@link #retired} (and, with its last object, the lost
     * session it kept).
     */
    void unmapped(VmObject o) {
        if (o.mappings <= 0 && retired.remove(o.objectId) != null) {
            core.objects.forget(o);
        }
    }

    /** A new session of {@code s.pager} was welcomed: the gate counts it again. */
    void rejoined(KernelSession s) {
        if (sessions[s.pager] == s) {
            stopped[s.pager] = false;
        }
    }

    /**
     * See {@link KernelCore#shutdown}: threads end once, futexes go back, then each pager's objects;
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
        VmObject o = core.objects.object(objectOf(m));
        if (o != null && retired(o)) {
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

    /** The object a kernel message is about; 0 for the session's own (hello, keepalive). */
    static int objectOf(KernelToPager m) {
        return switch (m.getRoutineCase()) {
            case MEMORY_OBJECT_INIT -> m.getMemoryObjectInit().getObjectId();
            case MEMORY_OBJECT_DATA_REQUEST -> m.getMemoryObjectDataRequest().getObjectId();
            case MEMORY_OBJECT_TERMINATE -> m.getMemoryObjectTerminate().getObjectId();
            case MEMORY_OBJECT_LOCK_FUTEX -> m.getMemoryObjectLockFutex().getObjectId();
            case MEMORY_OBJECT_FUTEX_RELEASED -> m.getMemoryObjectFutexReleased().getObjectId();
            case MEMORY_OBJECT_DATA_UNLOCK -> m.getMemoryObjectDataUnlock().getObjectId();
            case MEMORY_OBJECT_DATA_RETURN -> m.getMemoryObjectDataReturn().getObjectId();
            case MEMORY_OBJECT_LOCK_COMPLETED -> m.getMemoryObjectLockCompleted().getObjectId();
            case MEMORY_OBJECT_FUTEX_PROBE -> m.getMemoryObjectFutexProbe().getObjectId();
            case MEMORY_OBJECT_FUTEX_HELD -> m.getMemoryObjectFutexHeld().getObjectId();
            case MEMORY_OBJECT_SYNCHRONIZE -> m.getMemoryObjectSynchronize().getObjectId();
            case MEMORY_OBJECT_SUPPLY_COMPLETED -> m.getMemoryObjectSupplyCompleted().getObjectId();
            case MEMORY_OBJECT_CHANGE_COMPLETED -> m.getMemoryObjectChangeCompleted().getObjectId();
            default -> 0;
        };
    }

    /** The object a pager message is about; 0 for the session's own (welcome, keepalive). */
    static int objectOf(PagerToKernel m) {
        return switch (m.getRoutineCase()) {
            case MEMORY_OBJECT_READY -> m.getMemoryObjectReady().getObjectId();
            case MEMORY_OBJECT_DESTROY -> m.getMemoryObjectDestroy().getObjectId();
            case MEMORY_OBJECT_DATA_SUPPLY -> m.getMemoryObjectDataSupply().getObjectId();
            case MEMORY_OBJECT_DATA_UNAVAILABLE -> m.getMemoryObjectDataUnavailable().getObjectId();
            case MEMORY_OBJECT_DATA_ERROR -> m.getMemoryObjectDataError().getObjectId();
            case MEMORY_OBJECT_FUTEX_GRANTED -> m.getMemoryObjectFutexGranted().getObjectId();
            case MEMORY_OBJECT_FUTEX_BUSY -> m.getMemoryObjectFutexBusy().getObjectId();
            case MEMORY_OBJECT_RELINQUISH_FUTEX -> m.getMemoryObjectRelinquishFutex().getObjectId();
            case MEMORY_OBJECT_LOCK_REQUEST -> m.getMemoryObjectLockRequest().getObjectId();
            case MEMORY_OBJECT_FUTEX_PROBE -> m.getMemoryObjectFutexProbe().getObjectId();
            case MEMORY_OBJECT_SYNCHRONIZE_COMPLETED -> m.getMemoryObjectSynchronizeCompleted().getObjectId();
            case MEMORY_OBJECT_CHANGE_ATTRIBUTES -> m.getMemoryObjectChangeAttributes().getObjectId();
            default -> 0;
        };
    }
}
