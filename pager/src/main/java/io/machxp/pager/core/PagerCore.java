package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.object.ObjectCatalog;
import io.machxp.pager.page.PageCoherence;
import io.machxp.pager.page.PageOutput;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDestroy;
import io.machxp.proto.xp.MemoryObjectFutexBusy;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectReady;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerKeepalive;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pager as a single-threaded state machine: memory objects and the owner of every futex
 * across the kernels that use them. No I/O, clock or thread inside: inputs are a session opening,
 * an XP message on a session, a session closing, all on one thread; outputs go through
 * {@link PagerEnv}.
 *
 * <h2>Overview</h2>
 * Sessions: kernel_hello -> pager_welcome with a kernel id, stable per kernel name (TIDs carry
 * it). A second live session with the same name is ended with EEXIST.
 * Objects: memory_object_init -> memory_object_ready, or memory_object_destroy if the pager does
 * not serve the name. Pages (data_request, data_unlock, data_return, lock_completed) are kept
 * coherent across kernels, one writer or many readers, by {@link PageCoherence}; the pager's copy
 * of their data is in the object's page store.
 *
 * <p>Futexes (the extension; states in {@link FutexRecord}):
 * <pre>
 *  lock_futex(K, p)  free                 -> held by K, futex_granted to K
 *                    held by H != K       -> K queued with priority p; relinquish_futex to H
 *                    K queued, update     -> K now waits with priority p (up or down)
 *                    update, K holds      -> ignored: it crossed the grant
 *                    held/queued, try     -> futex_busy to K
 *  futex_released(H) held by H            -> granted to the head of the queue, which is sent
 *                                            relinquish at once if more kernels wait; or free
 *  session closed    everything the kernel held is released as above; it leaves every queue
 * </pre>
 * The queue is priority-ordered ({@link io.machxp.pager.futex.FutexQueue}): highest priority
 * first, arrival order among equals, so plain FIFO when every kernel sends 0 (--no-pi); an update
 * keeps the kernel's arrival place. Priority inheritance across kernels: relinquish_futex carries
 * the top queued priority, so the holder boosts the thread that owns the futex. It is sent when
 * the first kernel queues behind a holder, and sent again whenever that top priority changes
 * while the same holder keeps the futex (a higher kernel queues, a queued kernel is updated or
 * leaves); never when it did not change. When the queue empties after an ask with a priority
 * above 0, the holder is asked again with 0, so its owner is deboosted (it still gives the futex
 * back when it unlocks).
 * Entry consistency: pages that come back with futex_released (the releaser's dirty pages) are
 * remembered on the futex; its next futex_granted carries those that no kernel holds or asks for,
 * and makes the grantee their writer.
 * <p>Leases and fencing (with a lease; {@code leaseNanos == 0} turns both sides of it off):
 * <pre>
 *  any message from K         K's lease runs a full lease from now; kernel_keepalive is answered
 *                             with pager_keepalive
 *  K's stream ends            holding nothing: forgotten at once (a clean shutdown terminated its
 *                             objects first); else BROKEN: K leaves every queue, but its futexes
 *                             and pages stay its own until its lease ends, since K may still be
 *                             using them (its side of the stream may not know yet)
 *  a lease ends unheard       K is DEAD: its pages revert to the pager's copy, each futex it held
 *                             goes to the next waiter with owner_died (or keeps the flag for the
 *                             next grant), its stream is ended, and whatever still arrives from
 *                             it is dropped (fenced)
 *  futex_granted              carries the futex's next fencing token: epoch << 32 | grant number
 *  futex_released(token)      refused unless token is the current grant's
 * </pre>
 * A kernel stops using what it holds a margin before the pager can declare it dead (it counts
 * from when it sent the keepalive the pager answered), so no futex has two owning kernels.
 *
 * <p>Restart and reclaim (with a grace period, {@code graceNanos > 0}: a pager started on the
 * store of one that ran before, or without a store and not known to start fresh; without
 * {@code reclaims} every reclaim gets ESTALE and grace only waits out the old leases). The pager
 * keeps no lock state on disk; its kernels keep what they hold while their leases run and reconnect:
 * <pre>
 *  GRACE   kernel_hello with reclaim  -> the kernel gets the id it had and holds what it says: each
 *                                        futex under its token, each page with its access (data
 *                                        newer than the store's is taken); a conflicting page is
 *                                        refused and dropped, a conflicting futex ends the session
 *          keepalive, init, data_return,
 *          futex_released, lock_completed,
 *          terminate (reclaimed kernels)  -> handled as always (they grant nothing)
 *          anything else, new kernels -> held, in arrival order
 *  grace ends (graceNanos after start)-> the held messages of sessions still open are handled in
 *                                        order; a reclaim now gets ESTALE (its lease has run out)
 * </pre>
 * No grant is made in grace, and a kernel that has not reclaimed by its end has stopped (its
 * lease, counted from a keepalive the old pager answered, ran out before), so no futex held
 * across the restart goes to a second kernel. Tokens go on from the reclaimed ones: a new
 * epoch's are higher.
 *
 * <p>A message that breaks these rules (unknown object, unaligned offset, a release by a kernel that
 * does not hold the futex, a second lock from the holder, a second lock without update from a
 * kernel already queued, an update from a kernel that neither holds nor waits for the futex) is
 * refused: logged, counted, and otherwise ignored, so state never depends on a kernel behaving.
 */
public final class PagerCore {
    private static final Logger log = LoggerFactory.getLogger(PagerCore.class);
    /** Kernel ids fit 10 bits: TID = kernel id << 20 | thread number (see the kernel's Tids). */
    static final int MAX_KERNEL_ID = 1023;
    /**
     * Bounds on what one session may make the pager keep, so that a flooding or broken kernel
     * cannot exhaust its memory: objects initialized at once, and futexes held or asked for (a
     * cached futex costs the pager a record; 100k cached futexes is the scale benchmark).
     */
    static final int MAX_OBJECTS_PER_SESSION = 1024;

    private final String name;
    private final int pageSize;
    private final ObjectCatalog catalog;
    private final PagerEnv env;
    private final PagerStats stats;
    private final Map<Long, KernelSession> sessions = new HashMap<>();
    private final Map<String, KernelSession> sessionsByName = new HashMap<>();
    private final Map<String, Integer> kernelIds = new HashMap<>();
    private final Map<FutexKey, FutexRecord> futexes = new HashMap<>();
    /** Sessions declared dead: what still arrives from them is fenced off. */
    private final java.util.Set<Long> deadSessions = new java.util.HashSet<>();
    private final PageCoherence pages;
    private final long leaseNanos;
    /** The high half of every fencing token: grows with every start of a pager (see Options). */
    private final long tokenEpoch;
    private final int maxFutexesPerSession;
    private final boolean reclaims;
    /** Until the grace period after a restart ends: messages held, and the session each came on. */
    private java.util.ArrayDeque<Held> heldInGrace;
    /** The most messages one session may have held in grace. */
    static final int MAX_HELD_PER_SESSION = 1 << 16;

    private record Held(long sessionId, KernelToPager message) {}

    /**
     * @param leaseNanos a session's lease; 0: none, a session lives as long as its stream
     * @param tokenEpoch the high 31 bits of the fencing tokens this pager hands out; it must grow
     *     from one start of a pager to the next (the boot count, or the start time in seconds)
     * @param maxFutexesPerSession futexes one kernel may hold or wait for at once (each costs the
     *     pager a record); a kernel that asks for more is ended with EAGAIN
     * @param graceNanos after a restart (0: none, the pager starts afresh), how long kernels may
     *     reclaim what they hold while everything else waits; at least the lease, and the leases
     *     the last pager gave, so that every kernel that does not reclaim has stopped by its end
     * @param reclaims whether kernels may reclaim in the grace period; false (a pager whose pages
     *     did not survive) refuses reclaims, and the grace period only waits out the old leases
     */
    public record Options(long leaseNanos, long tokenEpoch, int maxFutexesPerSession, long graceNanos,
            boolean reclaims) {
        /** A million: ten times the 100k cached futexes of the scale benchmark. */
        public static final int DEFAULT_MAX_FUTEXES_PER_SESSION = 1 << 20;
        public static final Options NO_LEASE = new Options(0, 1);

        public Options {
            if (leaseNanos < 0 || tokenEpoch < 1 || tokenEpoch >= 1L << 31 || maxFutexesPerSession < 1) {
                throw new IllegalArgumentException("lease must be 0 or more, the token epoch in 1..2^31-1 and the "
                        + "futexes per session 1 or more");
            }
            if (graceNanos != 0 && graceNanos < leaseNanos) {
                throw new IllegalArgumentException("a grace period must last at least a lease (" + leaseNanos / 1_000_000
                        + " ms): kernels that do not reclaim stop only when their leases run out");
            }
        }

        public Options(long leaseNanos, long tokenEpoch, int maxFutexesPerSession) {
            this(leaseNanos, tokenEpoch, maxFutexesPerSession, 0, false);
        }

        public Options(long leaseNanos, long tokenEpoch) {
            this(leaseNanos, tokenEpoch, DEFAULT_MAX_FUTEXES_PER_SESSION);
        }

        /** The same, for a pager that restarted: a grace period of {@code graceNanos} with reclaims. */
        public Options withGrace(long graceNanos) {
            return withGrace(graceNanos, true);
        }

        /** The same with a grace period of {@code graceNanos}, in which reclaims are taken or refused. */
        public Options withGrace(long graceNanos, boolean reclaims) {
            return new Options(leaseNanos, tokenEpoch, maxFutexesPerSession, graceNanos, reclaims);
        }
    }

    public PagerCore(String name, int pageSize, ObjectCatalog catalog, PagerEnv env, PagerStats stats) {
        this(name, pageSize, catalog, env, stats, Options.NO_LEASE);
    }

    public PagerCore(String name, int pageSize, ObjectCatalog catalog, PagerEnv env, PagerStats stats,
            Options options) {
        if (Integer.bitCount(pageSize) != 1 || pageSize < 64) {
            throw new IllegalArgumentException("page size " + pageSize + " must be a power of two of at least 64");
        }
        this.name = name;
        this.pageSize = pageSize;
        this.catalog = catalog;
        this.env = env;
        this.stats = stats;
        this.leaseNanos = options.leaseNanos();
        this.tokenEpoch = options.tokenEpoch();
        this.maxFutexesPerSession = options.maxFutexesPerSession();
        this.reclaims = options.reclaims();
        if (options.graceNanos() > 0) {
            heldInGrace = new java.util.ArrayDeque<>();
            env.schedule(options.graceNanos(), this::endGrace);
            log.info(reclaims ? "pager {}: restarted (epoch {}): kernels may reclaim what they hold for {} ms; "
                    + "everything else waits until then"
                    : "pager {}: started (epoch {}) without the pages of an earlier pager, which kernels may still be "
                    + "using under their leases: it serves nobody for {} ms", name, tokenEpoch,
                    options.graceNanos() / 1_000_000);
        }
        this.pages = new PageCoherence(pageSize, new PageOutput() {
            @Override
            public void send(KernelSession to, PagerToKernel message) {
                PagerCore.this.send(to, message);
            }

            @Override
            public void refuse(KernelSession from, String what) {
                PagerCore.this.refuse(from, what);
            }

            @Override
            public void storeFailed(String what, RuntimeException e) {
                stats.storeFailures.increment();
                log.error("pager {}: PAGE STORE FAILURE: {}: {}", name, what, e.getMessage(), e);
            }
        });
    }

    public int pageSize() {
        return pageSize;
    }

    // ---- sessions -----------------------------------------------------------------------------

    public void sessionOpened(long sessionId) {
        KernelSession s = new KernelSession(sessionId);
        s.lastHeard = env.nanoTime();
        sessions.put(sessionId, s);
        stats.sessions.increment();
        if (leaseNanos > 0) {
            watchLease(s);
        }
    }

    /**
     * The session's stream ended. A kernel holding nothing is forgotten at once; one holding
     * futexes or pages (it crashed, or its connection broke) keeps them until its lease ends,
     * since it may not know yet and still use them; it waits in no queue meanwhile.
     */
    public void sessionClosed(long sessionId) {
        KernelSession s = sessions.get(sessionId);
        if (s == null || s.broken) {
            return;
        }
        if (leaseNanos == 0 || (s.held.isEmpty() && !pages.holdsAny(s))) {
            forget(s);
            log.info("pager {}: {} disconnected", name, s);
            return;
        }
        s.broken = true;
        for (FutexKey key : new ArrayList<>(s.queued)) {
            leaveQueue(s, futexes.get(key));
        }
        pages.cancelRequests(s);
        log.warn("pager {}: the stream of {} broke while it held {} futexes; they and its pages stay its own "
                + "until its lease ends in {} ms", name, s, s.held.size(),
                leaseLeftMillis(s));
    }

    /** Lease without a lease: the kernel's stream ended, everything it held is released as is. */
    private void forget(KernelSession s) {
        sessions.remove(s.id);
        stats.sessions.decrement();
        if (s.kernelName != null && sessionsByName.get(s.kernelName) == s) {
            sessionsByName.remove(s.kernelName);
        }
        pages.forget(s, null);
        for (FutexKey key : new ArrayList<>(s.queued)) {
            leaveQueue(s, futexes.get(key));
        }
        for (FutexKey key : new ArrayList<>(s.held)) {
            releaseUnseen(futexes.get(key));
        }
    }

    /**
     * A futex released without futex_released (terminate, a stream ended without a lease): a
     * kernel gives back what it holds by itself first, so this is a grant it may never have seen;
     * an owner_died it carried goes on to the next grant.
     */
    private void releaseUnseen(FutexRecord f) {
        f.ownerDied |= f.grantOwnerDied;
        release(f);
    }

    /** How long the session's lease still runs, in milliseconds (0 once it has ended). */
    private long leaseLeftMillis(KernelSession s) {
        return Math.max(0, (s.lastHeard + leaseNanos - env.nanoTime()) / 1_000_000);
    }

    private void watchLease(KernelSession s) {
        long ends = s.lastHeard + leaseNanos;
        env.schedule(Math.max(0, ends - env.nanoTime()), () -> checkLease(s));
    }

    private void checkLease(KernelSession s) {
        if (sessions.get(s.id) != s) {
            return; // gone already
        }
        long silent = env.nanoTime() - s.lastHeard;
        if (silent < leaseNanos) {
            watchLease(s);
            return;
        }
        declareDead(s, "the pager heard nothing from it for " + silent / 1_000_000 + " ms (lease "
                + leaseNanos / 1_000_000 + " ms)" + (s.broken ? " after its stream broke" : ""));
    }

    /**
     * The kernel's lease ran out: it has stopped using what it held (it counts its lease from
     * earlier than the pager does), so its pages revert to the pager's copy and each futex it held
     * goes to the next waiter with owner_died. Its stream is ended; what still arrives is fenced.
     */
    private void declareDead(KernelSession s, String why) {
        List<FutexKey> held = new ArrayList<>(s.held);
        for (FutexKey key : held) {
            futexes.get(key).ownerDied = true;
        }
        forget(s);
        deadSessions.add(s.id);
        stats.kernelsDeclaredDead.increment();
        log.warn("pager {}: declared {} dead: {}; its {} futexes went on with OWNER_DIED and its pages reverted "
                + "to the pager's copy", name, s, why, held.size());
        env.declaredDead(s.kernelName == null ? s.toString() : s.kernelName, held);
        if (s.broken) {
            return; // its stream has ended already
        }
        env.endSession(s.id, Errno.ETIMEDOUT, "pager " + name + " declared " + s + " dead: " + why
                + "; the futexes it held went to their next owners with OWNER_DIED and the writes it had not "
                + "returned are lost; restart the kernel");
    }

    // ---- XP input -----------------------------------------------------------------------------

    public void onXp(long sessionId, KernelToPager m) {
        KernelSession s = sessions.get(sessionId);
        if (s == null) {
            if (deadSessions.contains(sessionId)) {
                stats.fenced.increment(); // from a kernel declared dead: whatever it says is stale
                log.debug("pager {}: dropped {} from session {}, which it declared dead", name, m.getRoutineCase(),
                        sessionId);
            }
            return;
        }
        s.lastHeard = env.nanoTime();
        stats.received(m);
        if (heldInGrace != null && !answeredInGrace(s, m)) {
            if (++s.heldInGrace > MAX_HELD_PER_SESSION) {
                end(s, Errno.EAGAIN, s + " sent more than " + MAX_HELD_PER_SESSION + " messages during pager " + name
                        + "'s grace period after a restart, which holds them until it ends");
                return;
            }
            stats.heldInGrace.increment();
            heldInGrace.add(new Held(sessionId, m));
            return;
        }
        handle(s, m);
    }

    /**
     * In grace: a reclaim, and from a reclaimed kernel whatever grants nothing, are handled at
     * once - keepalives, init, and what gives back (returns, releases, lock_completed, terminate),
     * so that a keepalive's answer still means that what the kernel gave back before it was taken.
     * What could grant (lock_futex, data_request, data_unlock, probes) and new kernels wait.
     */
    private static boolean answeredInGrace(KernelSession s, KernelToPager m) {
        return switch (m.getRoutineCase()) {
            case KERNEL_HELLO -> m.getKernelHello().hasReclaim();
            case KERNEL_KEEPALIVE, MEMORY_OBJECT_INIT, MEMORY_OBJECT_DATA_RETURN, MEMORY_OBJECT_FUTEX_RELEASED,
                    MEMORY_OBJECT_LOCK_COMPLETED, MEMORY_OBJECT_TERMINATE -> s.welcomed();
            default -> false;
        };
    }

    /** The grace period after a restart is over: what was held is handled, in arrival order. */
    private void endGrace() {
        java.util.ArrayDeque<Held> held = heldInGrace;
        heldInGrace = null;
        env.graceEnded();
        log.info("pager {}: grace period over; {} kernels reclaimed what they held; handling {} held messages", name,
                stats.kernelsReclaimed(), held.size());
        for (Held h : held) {
            KernelSession s = sessions.get(h.sessionId());
            if (s != null && !s.broken) { // a broken one asks for nothing more (see sessionClosed)
                s.heldInGrace = 0;
                s.lastHeard = env.nanoTime(); // it waited for the pager: its silence since does not count
                handle(s, h.message());
            }
        }
    }

    private void handle(KernelSession s, KernelToPager m) {
        if (m.getRoutineCase() == KernelToPager.RoutineCase.KERNEL_HELLO) {
            hello(s, m.getKernelHello());
            return;
        }
        if (!s.welcomed()) {
            refuse(s, m.getRoutineCase() + " before kernel_hello");
            return;
        }
        switch (m.getRoutineCase()) {
            case MEMORY_OBJECT_INIT -> init(s, m.getMemoryObjectInit());
            case MEMORY_OBJECT_DATA_REQUEST -> pages.dataRequest(s, m.getMemoryObjectDataRequest());
            case MEMORY_OBJECT_DATA_UNLOCK -> pages.dataUnlock(s, m.getMemoryObjectDataUnlock());
            case MEMORY_OBJECT_DATA_RETURN -> pages.dataReturn(s, m.getMemoryObjectDataReturn());
            case MEMORY_OBJECT_LOCK_COMPLETED -> pages.lockCompleted(s, m.getMemoryObjectLockCompleted());
            case MEMORY_OBJECT_TERMINATE -> terminate(s, m.getMemoryObjectTerminate().getObjectId());
            case MEMORY_OBJECT_LOCK_FUTEX -> lockFutex(s, m.getMemoryObjectLockFutex());
            case MEMORY_OBJECT_FUTEX_RELEASED -> futexReleased(s, m.getMemoryObjectFutexReleased());
            case MEMORY_OBJECT_FUTEX_PROBE -> futexProbe(s, m.getMemoryObjectFutexProbe());
            case KERNEL_KEEPALIVE -> send(s, PagerToKernel.newBuilder().setPagerKeepalive(
                    PagerKeepalive.newBuilder().setSequence(m.getKernelKeepalive().getSequence())).build());
            default -> refuse(s, "a message with no routine");
        }
    }

    private void hello(KernelSession s, KernelHello h) {
        String kernelName = h.getKernelName();
        if (s.welcomed()) {
            refuse(s, "a second kernel_hello");
            return;
        }
        if (kernelName.isEmpty() || kernelName.length() > 64 || !kernelName.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            end(s, Errno.EINVAL, "kernel name '" + kernelName + "' is not valid: use 1 to 64 printable characters");
            return;
        }
        if (h.hasReclaim()) {
            reclaim(s, kernelName, h.getReclaim());
            return;
        }
        KernelSession previous = sessionsByName.get(kernelName);
        if (previous != null && previous.broken) {
            end(s, Errno.EAGAIN, "kernel '" + kernelName + "' lost its connection to pager " + name
                    + " while holding futexes or pages, which stay its own until its lease ends in "
                    + Math.max(1, leaseLeftMillis(previous))
                    + " ms; connect again after that");
            return;
        }
        if (previous != null) {
            end(s, Errno.EEXIST, "a kernel named '" + kernelName + "' is already connected to pager " + name
                    + "; give each kernel its own --name (a kernel restarted under its name waits until the pager "
                    + "has noticed the old one gone: at most a lease)");
            return;
        }
        Integer id = kernelIds.get(kernelName);
        if (id == null) {
            id = freeKernelId();
            if (id == 0) {
                end(s, Errno.EAGAIN, "pager " + name + " has given out all " + MAX_KERNEL_ID + " kernel ids");
                return;
            }
            kernelIds.put(kernelName, id);
        }
        welcome(s, kernelName, id);
        log.info("pager {}: kernel {} connected (id {})", name, kernelName, id);
    }

    /** The lowest kernel id no kernel has (reclaimed ones keep theirs), 0 if none is left. */
    private int freeKernelId() {
        java.util.Set<Integer> used = new java.util.HashSet<>(kernelIds.values());
        for (int id = 1; id <= MAX_KERNEL_ID; id++) {
            if (!used.contains(id)) {
                return id;
            }
        }
        return 0;
    }

    private void welcome(KernelSession s, String kernelName, int id) {
        s.kernelName = kernelName;
        s.kernelId = id;
        sessionsByName.put(kernelName, s);
        send(s, PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder()
                .setKernelId(id).setPageSize(pageSize).setPagerName(name).setSessionEpoch(tokenEpoch)
                .setLeaseMillis(leaseNanos / 1_000_000)).build());
    }

    /**
     * kernel_hello with reclaim: in the grace period after a restart, a kernel the pager does not
     * know takes back its id and what it holds. Its objects are checked whole first (the kernel
     * keeps using them as they were, so the pager must serve them all); then it is welcomed, and
     * each futex and page it names is recorded as its own unless that conflicts.
     */
    private void reclaim(KernelSession s, String kernelName, Reclaim r) {
        String what = "kernel '" + kernelName + "' cannot reclaim what it held from pager " + name + ": ";
        if (!reclaims) {
            end(s, Errno.ESTALE, what + "the pager keeps its pages in memory, so what the kernel held of the last "
                    + "pager is gone with it; restart the kernel (a pager with --store takes reclaims)");
            return;
        }
        if (heldInGrace == null) {
            end(s, Errno.ESTALE, what + (kernelIds.containsKey(kernelName)
                    ? "the pager did not restart, and the kernel's old session stays its own until its lease ends"
                    : "the pager's grace period after its restart is over, so the kernel's lease has run out")
                    + "; restart the kernel");
            return;
        }
        int id = r.getKernelId();
        String owner = kernelIds.entrySet().stream().filter(e -> e.getValue() == id).map(Map.Entry::getKey)
                .findFirst().orElse(null);
        // Another kernel has the name or the id: EEXIST; anything else the pager cannot take: EINVAL.
        String taken = sessionsByName.containsKey(kernelName) ? "a kernel of that name has connected already"
                : owner != null && !owner.equals(kernelName) ? "kernel '" + owner + "' has reclaimed id " + id
                : null;
        String refusal = taken != null ? taken
                : id < 1 || id > MAX_KERNEL_ID ? "kernel id " + Integer.toUnsignedString(id) + " is not in 1.."
                        + MAX_KERNEL_ID
                : r.getObjectsList().stream().mapToLong(o -> o.getFutexesCount()).sum() > maxFutexesPerSession
                        ? "it names more than " + maxFutexesPerSession + " futexes, the most a session may hold"
                : null;
        Map<Integer, MemoryObject> objects = new HashMap<>();
        for (ReclaimedObject o : r.getObjectsList()) {
            MemoryObject object = catalog.get(o.getName());
            if (refusal != null) {
                break;
            }
            refusal = object == null ? "the pager no longer serves memory object '" + o.getName() + "'"
                    : o.getPageSize() != pageSize ? "its page size " + o.getPageSize() + " is not the pager's " + pageSize
                    : objects.containsKey(o.getObjectId()) ? "it names object id " + o.getObjectId() + " twice"
                    : objects.size() >= MAX_OBJECTS_PER_SESSION ? "it names more than " + MAX_OBJECTS_PER_SESSION
                            + " objects"
                    : null;
            objects.put(o.getObjectId(), object);
        }
        if (refusal != null) {
            end(s, taken != null ? Errno.EEXIST : Errno.EINVAL, what + refusal + "; restart the kernel");
            return;
        }
        kernelIds.put(kernelName, id);
        s.objects.putAll(objects);
        welcome(s, kernelName, id);
        int futexCount = 0;
        int pageCount = 0;
        Map<String, java.util.Set<Long>> namedPages = new HashMap<>();
        String conflict = null;
        for (ReclaimedObject o : r.getObjectsList()) {
            MemoryObject object = objects.get(o.getObjectId());
            for (ReclaimedFutex f : o.getFutexesList()) {
                String refused = reclaimFutex(s, o.getObjectId(), f);
                if (refused != null) {
                    conflict = conflict != null ? conflict : refused;
                } else {
                    futexCount++;
                }
            }
            java.util.Set<Long> named = namedPages.computeIfAbsent(object.name(), n -> new java.util.HashSet<>());
            for (ReclaimedPage p : o.getPagesList()) {
                pages.reclaim(s, object, p, named); // an object under two ids: its pages are named once
                pageCount++;
            }
        }
        if (conflict != null) {
            // The kernel believes it holds a futex another has: it must not go on as if it did. What
            // it did reclaim stays its own until its lease ends, then goes on with owner_died.
            end(s, Errno.EINVAL, what + conflict + "; restart the kernel");
            return;
        }
        stats.kernelsReclaimed.increment();
        log.info("pager {}: kernel {} reconnected (id {}) and reclaimed {} futexes and {} pages", name, kernelName, id,
                futexCount, pageCount);
    }

    /** Records a reclaimed futex as the kernel's; else why not (refused and logged). */
    private String reclaimFutex(KernelSession s, int objectId, ReclaimedFutex r) {
        FutexKey key = futexKey(s, objectId, r.getOffset(), "a reclaim of a futex");
        if (key == null) {
            return "it reclaims a futex at 0x" + Long.toHexString(r.getOffset()) + ", which is not an aligned word "
                    + "of its object " + objectId;
        }
        FutexRecord f = futexes.computeIfAbsent(key, FutexRecord::new);
        long token = r.getFencingToken();
        String refusal = f.holder != null ? f.holder + " holds it"
                : token == 0 || token >= tokenEpoch << 32 ? "token " + token + " is not one an earlier pager gave"
                : token < f.token ? "token " + token + " is older than the last grant's (" + f.token + ")"
                : null;
        if (refusal != null) {
            refuse(s, "a reclaim of " + describe(key) + ": " + refusal);
            return "it reclaims " + describe(key) + ", but " + refusal;
        }
        f.holder = s;
        f.token = token;
        f.grantOwnerDied = r.getOwnerDied();
        f.lastHolder = s.id;
        s.held.add(key);
        stats.futexesReclaimed.increment();
        return null;
    }

    private void init(KernelSession s, MemoryObjectInit init) {
        int objectId = init.getObjectId();
        if (s.objects.containsKey(objectId)) {
            refuse(s, "memory_object_init for object id " + objectId + ", which is already initialized");
            return;
        }
        MemoryObject o = catalog.get(init.getName());
        String reason = null;
        if (s.objects.size() >= MAX_OBJECTS_PER_SESSION) {
            stats.refused.increment();
            reason = s + " has " + s.objects.size() + " objects initialized, the most a session may have; "
                    + "terminate objects it no longer uses";
        } else if (o == null) {
            reason = "pager " + name + " serves no memory object named '" + init.getName() + "' (it serves "
                    + String.join(", ", catalog.names()) + ")";
        } else if (init.getPageSize() != pageSize) {
            reason = "the kernel's page size " + init.getPageSize() + " is not the pager's " + pageSize;
        }
        if (reason != null) {
            send(s, PagerToKernel.newBuilder().setMemoryObjectDestroy(
                    MemoryObjectDestroy.newBuilder().setObjectId(objectId).setReason(reason)).build());
            return;
        }
        s.objects.put(objectId, o);
        send(s, PagerToKernel.newBuilder().setMemoryObjectReady(MemoryObjectReady.newBuilder()
                .setObjectId(objectId).setSize(o.size()).setMayCache(true)).build());
    }

    private void terminate(KernelSession s, int objectId) {
        MemoryObject o = s.objects.remove(objectId);
        if (o == null) {
            refuse(s, "memory_object_terminate for object id " + objectId + ", which it never initialized");
            return;
        }
        if (s.objects.containsValue(o)) {
            return; // still initialized under another id
        }
        pages.forget(s, o.name());
        for (FutexKey key : new ArrayList<>(s.queued)) {
            if (key.object().equals(o.name())) {
                leaveQueue(s, futexes.get(key));
            }
        }
        for (FutexKey key : new ArrayList<>(s.held)) {
            if (key.object().equals(o.name())) {
                releaseUnseen(futexes.get(key));
            }
        }
    }

    // ---- futexes ------------------------------------------------------------------------------

    private void lockFutex(KernelSession s, MemoryObjectLockFutex m) {
        FutexKey key = futexKey(s, m.getObjectId(), m.getOffset(), "memory_object_lock_futex");
        if (key == null) {
            return;
        }
        FutexRecord f = futexes.computeIfAbsent(key, FutexRecord::new);
        if (f.holder == s) {
            if (!m.getUpdate()) {
                refuse(s, "memory_object_lock_futex for " + describe(key) + ", which it already holds");
            } // else: an update sent before the kernel saw its grant; nothing waits for it any more
            return;
        }
        if (f.queue.contains(s)) {
            if (!m.getUpdate()) {
                refuse(s, "a second memory_object_lock_futex for " + describe(key) + ", which it already asked for; "
                        + "set update to change the priority it waits with");
                return;
            }
            f.queue.reprioritize(s, m.getPriority());
            askToRelinquish(f);
            return;
        }
        if (m.getUpdate()) {
            refuse(s, "a memory_object_lock_futex update for " + describe(key) + ", which it has not asked for");
            return;
        }
        if (s.held.size() + s.queued.size() >= maxFutexesPerSession) {
            end(s, Errno.EAGAIN, s + " holds or waits for " + maxFutexesPerSession + " futexes, the most a "
                    + "session may; it must release futexes it no longer uses (a kernel caches a futex until asked)");
            return;
        }
        if (f.holder == null) {
            grant(f, s);
            return;
        }
        if (m.getTry()) {
            send(s, PagerToKernel.newBuilder().setMemoryObjectFutexBusy(MemoryObjectFutexBusy.newBuilder()
                    .setObjectId(m.getObjectId()).setOffset(m.getOffset())).build());
            return;
        }
        f.queue.add(s, m.getPriority());
        s.queued.add(key);
        askToRelinquish(f);
    }

    /**
     * Deadlock detection across kernels: a probe about a futex goes to the futex's holder, which
     * follows its owner's waits. Dropped when nobody else holds the futex (it was granted or
     * released meanwhile: that chain is broken) or after passing more kernels than are connected.
     */
    private void futexProbe(KernelSession s, io.machxp.proto.xp.MemoryObjectFutexProbe p) {
        FutexKey key = futexKey(s, p.getObjectId(), p.getOffset(), "memory_object_futex_probe");
        if (key == null) {
            return;
        }
        FutexRecord f = futexes.get(key);
        if (f == null || f.holder == null || f.holder == s || p.getHops() > sessions.size()) {
            return;
        }
        send(f.holder, PagerToKernel.newBuilder().setMemoryObjectFutexProbe(p.toBuilder()
                .setObjectId(f.holder.objectIdOf(key.object())).setHops(p.getHops() + 1)).build());
    }

    /** The kernel stops waiting for the futex (it closed or terminated the object). */
    private void leaveQueue(KernelSession s, FutexRecord f) {
        f.queue.remove(s);
        s.queued.remove(f.key);
        askToRelinquish(f);
    }

    /**
     * The pages that come with the release are taken first, so that the next grant can carry them;
     * also when the release itself is refused, since the kernel has dropped them either way.
     */
    private void futexReleased(KernelSession s, MemoryObjectFutexReleased r) {
        FutexKey key = futexKey(s, r.getObjectId(), r.getOffset(), "memory_object_futex_released");
        if (key == null) {
            return;
        }
        MemoryObject o = s.objects.get(r.getObjectId());
        List<Long> taken = new ArrayList<>();
        for (PageData page : r.getPagesList()) {
            if (pages.releasedWithFutex(s, o, page)) {
                taken.add(page.getOffset());
            }
        }
        FutexRecord f = futexes.get(key);
        if (f == null || f.holder != s) {
            refuse(s, "memory_object_futex_released for " + describe(key) + ", which it does not hold");
            return;
        }
        f.releasedPages.addAll(taken);
        if (r.getFencingToken() != f.token) {
            refuse(s, "memory_object_futex_released for " + describe(key) + " with fencing token "
                    + r.getFencingToken() + ", which is not its grant's (" + f.token + ")");
            return;
        }
        f.ownerDied |= r.getOwnerDied();
        release(f);
    }

    private void release(FutexRecord f) {
        f.holder.held.remove(f.key);
        f.holder = null;
        f.relinquishSent = false;
        KernelSession next = f.queue.poll();
        if (next != null) {
            next.queued.remove(f.key);
            grant(f, next);
        }
    }

    private void grant(FutexRecord f, KernelSession s) {
        f.holder = s;
        s.held.add(f.key);
        stats.grants.increment();
        if (f.lastHolder != 0 && f.lastHolder != s.id) {
            stats.handoffs.increment();
        }
        f.lastHolder = s.id;
        f.token = Math.max(f.token + 1, tokenEpoch << 32 | 1); // a reclaimed token is an earlier epoch's
        boolean ownerDied = f.ownerDied;
        f.ownerDied = false;
        f.grantOwnerDied = ownerDied;
        List<PageData> withPages = f.releasedPages.isEmpty() ? List.of()
                : pages.grantedWithFutex(s, catalog.get(f.key.object()), f.releasedPages);
        f.releasedPages.clear();
        send(s, PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                .setObjectId(s.objectIdOf(f.key.object())).setOffset(f.key.offset()).setFencingToken(f.token)
                .setOwnerDied(ownerDied).addAllPages(withPages)).build());
        askToRelinquish(f);
    }

    /**
     * Part IV: the holder gives the futex back once no local thread holds it. Asked when kernels
     * wait, with the top queued priority (the holder boosts its owning thread to it); asked again
     * only when that priority changed since the last ask of this grant. When the last waiting
     * kernel leaves after an ask with a priority, the holder is told priority 0, so its owner is
     * deboosted (it still gives the futex back when it unlocks); otherwise an empty queue asks nothing.
     */
    private void askToRelinquish(FutexRecord f) {
        if (f.queue.isEmpty() && !(f.relinquishSent && f.relinquishPriority != 0)) {
            return;
        }
        int top = f.queue.isEmpty() ? 0 : f.queue.topPriority();
        if (f.relinquishSent && f.relinquishPriority == top) {
            return;
        }
        f.relinquishSent = true;
        f.relinquishPriority = top;
        send(f.holder, PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex
                .newBuilder().setObjectId(f.holder.objectIdOf(f.key.object())).setOffset(f.key.offset())
                .setPriority(top)).build());
    }

    private FutexKey futexKey(KernelSession s, int objectId, long offset, String routine) {
        MemoryObject o = s.objects.get(objectId);
        if (o == null) {
            refuse(s, routine + " for object id " + objectId + ", which it never initialized");
            return null;
        }
        if (offset < 0 || offset >= o.size() || (offset & 3) != 0) {
            refuse(s, routine + " at offset 0x" + Long.toHexString(offset) + ", which is not an aligned word of '"
                    + o.name() + "'");
            return null;
        }
        return new FutexKey(o.name(), offset);
    }

    private static String describe(FutexKey key) {
        return "the futex at 0x" + Long.toHexString(key.offset()) + " of '" + key.object() + "'";
    }

    // ---- common -------------------------------------------------------------------------------

    /** Sends on the session's stream; nothing to a broken one (its stream is gone; it waits for its lease). */
    private void send(KernelSession s, PagerToKernel m) {
        if (s.broken) {
            return;
        }
        stats.sent(m);
        env.send(s.id, m);
    }

    private void refuse(KernelSession s, String what) {
        stats.refused.increment();
        log.warn("pager {}: refused from {}: {}", name, s, what);
    }

    /**
     * Ends the session's stream with an error. A kernel that holds futexes or pages keeps them
     * until its lease ends, as after any broken stream: until it hears of the end, it may use them.
     */
    private void end(KernelSession s, Errno errno, String message) {
        log.warn("pager {}: ending {}: {}", name, s, message);
        env.endSession(s.id, errno, message);
        sessionClosed(s.id);
    }

    // ---- inspection ---------------------------------------------------------------------------

    /** Names of the kernels connected now. */
    public List<String> kernels() {
        return new ArrayList<>(sessionsByName.keySet());
    }

    /** The fencing token of a futex's current (or last) grant, 0 if never granted; for tests and tools. */
    public long fencingToken(String object, long offset) {
        FutexRecord f = futexes.get(new FutexKey(object, offset));
        return f == null ? 0 : f.token;
    }

    /** The kernel holding a futex, or null; for tests and tools. */
    public String holderOf(String object, long offset) {
        FutexRecord f = futexes.get(new FutexKey(object, offset));
        return f == null || f.holder == null ? null : f.holder.kernelName;
    }

    /**
     * Whether a kernel is still to be told that an owner of a futex died: its next grant will say
     * so, or its current one did (the holder may not have seen it yet); for tests and tools.
     */
    public boolean ownerDiedPending(String object, long offset) {
        FutexRecord f = futexes.get(new FutexKey(object, offset));
        return f != null && (f.ownerDied || f.holder != null && f.grantOwnerDied);
    }

    /** Whether the pager is in its grace period after a restart; for tests and tools. */
    public boolean inGrace() {
        return heldInGrace != null;
    }

    /** The kernel holding a page writable, or null; for tests and tools. */
    public String pageWriter(String object, long offset) {
        return pages.writerOf(object, offset);
    }

    /** The kernels holding read-only copies of a page; for tests and tools. */
    public List<String> pageReaders(String object, long offset) {
        return pages.readersOf(object, offset);
    }

    /** The open session with this id, or null; for tests that check the pager's invariants. */
    KernelSession session(long sessionId) {
        return sessions.get(sessionId);
    }

    /** The pager's record of a futex, or null if no kernel ever asked for it; for tests. */
    FutexRecord futex(String object, long offset) {
        return futexes.get(new FutexKey(object, offset));
    }
}
