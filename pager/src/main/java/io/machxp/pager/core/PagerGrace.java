package io.machxp.pager.core;

import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import java.util.ArrayDeque;
import java.util.function.BiConsumer;

/**
 * Restart and reclaim (with a grace period, {@code graceNanos > 0}: a pager started on the store
 * of one that ran before, or without a store and not known to start fresh; without
 * {@code reclaims} every reclaim gets ESTALE and grace only waits out the old leases). The pager
 * keeps no lock state on disk; its kernels keep what they hold while their leases run and reconnect:
 * <pre>
 *  GRACE   kernel_hello with reclaim,
 *          reclaim_continue           -> judged at once ({@link GraceReclaims}: whole, again, or in parts)
 *          kernel_hello with resume   -> handled at once: a session of the last pager is refused
 *                                        (ESTALE), so its kernel reclaims in time
 *          keepalive, init, data_return,
 *          futex_released, lock_completed,
 *          terminate (reclaimed kernels)  -> handled as always (they grant nothing), but an init of
 *                                        an object nobody reclaimed (and a terminate of an id the
 *                                        session does not hold, once it has one held) is held:
 *                                        the views of kernels not reclaimed yet are not back
 *                                        (xp-spec 2.8, dir3-review MED-1)
 *          anything else, new kernels -> held, in arrival order (at most MAX_HELD_PER_SESSION
 *                                        messages and 16 MiB a session, 256 MiB for all the
 *                                        sessions not welcomed, and the hellos of 1023 sessions:
 *                                        a hello past 1023 held, the session whose message would
 *                                        pass its own bound, or a session not welcomed whose message
 *                                        would pass the one in all, is ended with EAGAIN; a
 *                                        reclaimed kernel's requests never count in all, so other
 *                                        kernels cannot end it and cost it what it reclaimed)
 *  a session's stream ends            -> the messages held for it go, and its reclaim being assembled
 *  grace ends (graceNanos after start)-> a reclaim still being assembled is ended (ESTALE) at once;
 *                                        the held messages of sessions still open are handled in
 *                                        order; a reclaim now gets ESTALE (its lease has run out)
 * </pre>
 * No grant is made in grace, and a kernel that has not reclaimed by its end has stopped (its
 * lease, counted from a keepalive the old pager answered, ran out before), so no futex held
 * across the restart goes to a second kernel.
 */
final class PagerGrace {
    /** The most messages one session may have held in grace. */
    static final int MAX_HELD_PER_SESSION = 1 << 16;
    /** The most bytes (serialized) of the messages one session may have held in grace. */
    static final long MAX_HELD_BYTES_PER_SESSION = 16L << 20;
    /**
     * The most bytes (serialized) of the messages held in grace for all the sessions not welcomed
     * together (new kernels; a reclaimed kernel's held requests are bounded by its own bounds only).
     */
    static final long MAX_HELD_BYTES = 256L << 20;
    /**
     * The most sessions whose hello is held in grace at once: one per kernel id (a hello past
     * them could not be welcomed at grace's end anyway), so that held sessions, each costing the
     * pager far more than its hello's bytes, are bounded by count too.
     */
    static final int MAX_HELD_HELLOS = PagerSessions.MAX_KERNEL_ID;

    /** A message held, and its session (which may move to a new stream meanwhile: a resume). */
    record Held(KernelSession session, KernelToPager message) {}

    private final CoreContext core;
    private final PagerFutexes futexes;
    private final PagerSessions sessions;
    /** Handles a message held in grace once it is over (the core's dispatch). */
    private final BiConsumer<KernelSession, KernelToPager> handler;
    private final boolean reclaims;
    private final FutexJournal journal;
    /** A reclaim in grace, whole or in parts ({@link GraceReclaims}). */
    private final GraceReclaims graceReclaims;
    /** At grace end: which dead kernels' TIDs the stored futex words still name (their ids rest). */
    private final RestartDeaths restartDeaths;
    /** Until the grace period after a restart ends: messages held, and the session each came on. */
    ArrayDeque<Held> heldInGrace;
    /** The bytes of {@link #heldInGrace}'s messages, summed (each session's are its heldBytes). */
    private long heldBytes;
    /** Of {@link #heldBytes}, those held for sessions not welcomed yet: bounded by MAX_HELD_BYTES. */
    private long heldBytesUnwelcomed;
    /** The kernel_hellos among {@link #heldInGrace}'s messages. */
    private int heldHellos;

    /** Starts the grace period if {@code options} has one. */
    PagerGrace(CoreContext core, PageCoherence pages, PagerFutexes futexes, PagerSessions sessions,
            BiConsumer<KernelSession, KernelToPager> handler, PagerOptions options, FutexJournal journal) {
        this.core = core;
        this.journal = journal;
        this.futexes = futexes;
        this.sessions = sessions;
        this.handler = handler;
        this.reclaims = options.reclaims();
        this.graceReclaims = new GraceReclaims(core, pages, futexes, sessions, options, journal, this);
        this.restartDeaths = new RestartDeaths(core, futexes, sessions);
        sessions.closing = this::closed;
        if (options.graceNanos() > 0) {
            heldInGrace = new ArrayDeque<>();
            core.timers.set(options.graceNanos(), new CoreTimers.GraceEnd());
            CoreContext.log.info(reclaims ? "pager {}: restarted (epoch {}): kernels may reclaim what they hold for {} "
                    + "ms; everything else waits until then"
                    : "pager {}: started (epoch {}) with no record of an earlier pager here (no store, or an empty "
                    + "state directory); as usual at start-up it waits one lease ({} ms) before granting, in case "
                    + "kernels of an earlier pager here still hold what it gave them (a pager restarted on its durable "
                    + "store, such as machxp pager --store DIR or the library's state directory, lets them reclaim "
                    + "it instead; a pager told it starts fresh does not wait)", core.name, options.tokenEpoch(),
                    options.graceNanos() / 1_000_000);
        }
    }

    boolean inGrace() {
        return heldInGrace != null;
    }

    /**
     * Whether the message waits for the end of the grace period (or its session was ended for
     * sending too many that do); false when it is to be handled now.
     */
    boolean holds(KernelSession s, KernelToPager m) {
        if (heldInGrace == null || answeredInGrace(s, m) && !initOfUnreclaimed(s, m)) {
            return false;
        }
        boolean welcomed = s.welcomed();
        boolean hello = m.getRoutineCase() == KernelToPager.RoutineCase.KERNEL_HELLO;
        if (hello && heldHellos >= MAX_HELD_HELLOS) {
            sessions.end(s, Errno.EAGAIN, "pager " + core.name + " holds the hellos of kernels that connect during "
                    + "its grace period after a restart until it ends, and " + MAX_HELD_HELLOS + " are held already "
                    + "(one per kernel id); connect again once the grace period is over (xp-spec 9.3)");
            return true;
        }
        long size = m.getSerializedSize();
        String over = s.heldInGrace + 1 > MAX_HELD_PER_SESSION
                ? s + " sent more than " + MAX_HELD_PER_SESSION + " messages"
                : s.heldBytes + size > MAX_HELD_BYTES_PER_SESSION
                ? s + " sent more than " + (MAX_HELD_BYTES_PER_SESSION >> 20) + " MiB of messages"
                // Only kernels not yet welcomed count in all: a reclaimed kernel ended here would stop
                // and lose what its welcome acknowledged, for other kernels' messages.
                : !welcomed && heldBytesUnwelcomed + size > MAX_HELD_BYTES ? "the messages of the kernels not yet "
                        + "welcomed would pass the " + (MAX_HELD_BYTES >> 20) + " MiB it holds for them in all; "
                        + s + " sent the one that would"
                : null;
        if (over != null) {
            // Refused before anything of it is kept: the held messages ask for what was not granted
            // yet (a kernel's returns are taken at once once it reclaimed), so nothing acknowledged is lost.
            sessions.end(s, Errno.EAGAIN, welcomed
                    ? "pager " + core.name + " holds the requests of a kernel that reclaimed until its grace period "
                    + "after a restart ends, and " + over + " (its own bound: other kernels' messages do not count "
                    + "against it); nothing of this session's held requests was handled, and what the kernel "
                    + "reclaimed is released when its lease runs out, as at its death; a kernel that reclaimed "
                    + "should keep its requests in grace within " + MAX_HELD_PER_SESSION + " messages and "
                    + (MAX_HELD_BYTES_PER_SESSION >> 20) + " MiB (xp-spec 9.3)"
                    : "pager " + core.name + " holds the messages of kernels not yet served until its grace period "
                    + "after a restart ends, and " + over + "; nothing of this session's held messages was handled; "
                    + "a kernel should wait for its welcome before sending more, and connect again once the grace "
                    + "period is over (xp-spec 9.3)");
            return true;
        }
        s.heldInGrace++;
        s.heldBytes += size;
        heldBytes += size;
        if (!welcomed) {
            s.heldBytesUnwelcomed += size;
            heldBytesUnwelcomed += size;
        }
        if (hello) {
            heldHellos++;
        }
        core.stats.heldInGrace.increment();
        heldInGrace.add(new Held(s, m));
        return true;
    }

    /** The bytes of the messages held until grace ends; for tests and tools. */
    long heldBytes() {
        return heldBytes;
    }

    /**
     * After a snapshot was read: the bytes and the hellos held, counted again from the messages
     * held (those of a session not welcomed count in all; a replicated pager, which writes
     * snapshots, welcomes no kernel in grace, since it takes no reclaim).
     */
    void heldRestored() {
        heldBytes = 0;
        heldBytesUnwelcomed = 0;
        heldHellos = 0;
        if (heldInGrace != null) {
            heldHellos = (int) heldInGrace.stream().filter(h -> h.message().hasKernelHello()).count();
            for (Held h : heldInGrace) {
                h.session().heldBytes = 0;
                h.session().heldBytesUnwelcomed = 0;
            }
            for (Held h : heldInGrace) {
                KernelSession s = h.session();
                long size = h.message().getSerializedSize();
                s.heldBytes += size;
                heldBytes += size;
                if (!s.welcomed()) {
                    s.heldBytesUnwelcomed += size;
                    heldBytesUnwelcomed += size;
                }
            }
        }
    }

    /**
     * In grace: a reclaim or a resume, and from a reclaimed kernel whatever grants nothing, are handled at
     * once - keepalives, init, and what gives back (returns, releases, lock_completed, terminate),
     * so that a keepalive's answer still means that what the kernel gave back before it was taken.
     * What could grant (lock_futex, data_request, data_unlock, probes) and new kernels wait.
     */
    private static boolean answeredInGrace(KernelSession s, KernelToPager m) {
        return switch (m.getRoutineCase()) {
            // A resume grants nothing: taken at once (a kernel that reclaimed in this grace and
            // stalled), or refused at once (a session of the last pager), so that its kernel can
            // still reclaim in grace; held, it would be refused only when no reclaim is taken.
            case KERNEL_HELLO -> m.getKernelHello().hasReclaim() || m.getKernelHello().hasResume();
            // A reclaim's further part is judged at once: taken, or out of place (EPROTO).
            case MEMORY_OBJECT_RECLAIM_CONTINUE -> true;
            case KERNEL_KEEPALIVE, MEMORY_OBJECT_INIT, MEMORY_OBJECT_DATA_RETURN, MEMORY_OBJECT_FUTEX_RELEASED,
                    MEMORY_OBJECT_LOCK_COMPLETED, MEMORY_OBJECT_TERMINATE -> s.welcomed();
            default -> false;
        };
    }

    /**
     * Whether {@code m}, from a reclaimed kernel, is held all the same (dir3-review MED-1): an init
     * of an object that no kernel holds here (nobody reclaimed it, nor initialized it since), or a
     * terminate of an object id the session does not hold (its init may be held: kept in order).
     * The other kernels' views are not all back before grace ends: answered now, such an init is
     * judged ({@link DirectoryViews#initRefusal}) without the view of a kernel that uses the object
     * at another pager and has not reclaimed yet, and two copies would start unseen. At grace end
     * every kernel that will reclaim has, and a later one gets ESTALE and comes back with a checked
     * hello. An init of an object a kernel reclaimed restores the state before the restart, which
     * the init rule kept consistent: answered at once.
     */
    private boolean initOfUnreclaimed(KernelSession s, KernelToPager m) {
        return switch (m.getRoutineCase()) {
            case MEMORY_OBJECT_INIT -> {
                String name = m.getMemoryObjectInit().getName();
                yield sessions.all().stream().noneMatch(o -> o.welcomed() && !o.gone && o.hasObject(name));
            }
            case MEMORY_OBJECT_TERMINATE -> s.heldInGrace > 0
                    && !s.objects.containsKey(m.getMemoryObjectTerminate().getObjectId());
            default -> false;
        };
    }

    /**
     * A session's stream ended: the messages held for it go (nothing would handle them: a session
     * closed is forgotten or broken), so that they do not keep it, and what it sent, in memory
     * until grace ends. Its reclaim being assembled went already ({@link PagerSessions#closed}).
     */
    private void closed(KernelSession s) {
        graceReclaims.dropParts(s);
        if (heldInGrace != null && s.heldInGrace > 0) {
            heldInGrace.removeIf(h -> {
                boolean its = h.session() == s;
                if (its && h.message().hasKernelHello()) {
                    heldHellos--;
                }
                return its;
            });
            s.heldInGrace = 0;
            heldBytes -= s.heldBytes;
            s.heldBytes = 0;
            heldBytesUnwelcomed -= s.heldBytesUnwelcomed;
            s.heldBytesUnwelcomed = 0;
        }
    }

    /** The grace period after a restart is over: what was held is handled, in arrival order. */
    void endGrace() {
        ArrayDeque<Held> held = heldInGrace;
        heldInGrace = null;
        heldBytes = 0;
        heldBytesUnwelcomed = 0;
        heldHellos = 0;
        for (Held h : held) {
            h.session().heldBytes = 0;
            h.session().heldBytesUnwelcomed = 0;
        }
        // A reclaim still being assembled can no longer be taken (its kernel's lease has run out):
        // ended now, as its last part would be, rather than buffered for nothing.
        for (KernelSession s : java.util.List.copyOf(sessions.all())) {
            if (s.reclaimParts != null) {
                String name = s.reclaimParts.kernelName();
                graceReclaims.dropParts(s);
                sessions.end(s, Errno.ESTALE, "kernel '" + name + "' cannot reclaim what it held from pager "
                        + core.name + ": the pager's grace period after its restart ended before the reclaim's last "
                        + "part came, so the kernel's lease has run out; restart the kernel");
            }
        }
        java.util.Map<io.machxp.pager.futex.FutexKey, String> lost = new java.util.LinkedHashMap<>(journal.unreclaimed);
        java.util.List<io.machxp.pager.futex.FutexKey> givenBack = new java.util.ArrayList<>(journal.givenBack);
        for (io.machxp.pager.futex.FutexKey key : journal.graceEnded()) {
            futexes.reclaims.diedInRestart(key); // before any held lock is handled: its grant says owner_died
        }
        // A futex its journal holder reclaimed without naming: given back, or its grant (with owner_died,
        // maybe) lost with the crash, the dead holder's TID still in the word. Its word is judged too;
        // a record made for that alone goes again if the word names no dead kernel.
        for (io.machxp.pager.futex.FutexKey key : givenBack) {
            io.machxp.pager.futex.FutexRecord f = futexes.records().getOrMake(key);
            if (f.holder == null) {
                lost.putIfAbsent(key, "");
            }
        }
        restartDeaths.graceEnded(lost); // the dead kernels' TIDs the stored words still name: their ids rest
        for (io.machxp.pager.futex.FutexKey key : givenBack) {
            io.machxp.pager.futex.FutexRecord f = futexes.records().get(key);
            if (f != null && f.holder == null && !f.diedKernelIds.isEmpty()) {
                f.ownerDied = true; // not recorded at once (its page is held): the next grant's owner records it
            } else if (f != null) {
                futexes.records().pruneIfIdle(f);
            }
        }
        core.env.graceEnded();
        if (reclaims) {
            CoreContext.log.info("pager {}: grace period over; {} kernels reclaimed what they held; handling {} held "
                    + "messages", core.name, core.stats.kernelsReclaimed(), held.size());
        } else {
            CoreContext.log.info("pager {}: start-up wait over; serving ({} requests waited for it)", core.name,
                    held.size());
        }
        for (Held h : held) {
            KernelSession s = h.session();
            if (sessions.get(s.id) == s && !s.broken) { // a broken one asks for nothing more (see PagerSessions.closed)
                s.heldInGrace = 0;
                if (!s.welcomed()) {
                    // Its hello waited for the pager, so it had no lease to keep: its silence since
                    // does not count. A reclaimed kernel's keepalives were answered in grace; its
                    // lease runs from when it was last heard, or a kernel cut off in grace would
                    // get a lease more after grace ends, and a late message of its own could keep
                    // it alive after it stopped (it would then be granted futexes it never uses).
                    sessions.heard(s);
                }
                handler.accept(s, h.message());
            }
        }
    }

    /** kernel_hello with reclaim, of {@code size} bytes ({@link GraceReclaims#reclaimFirst}). */
    void reclaimFirst(KernelSession s, io.machxp.proto.xp.KernelHello h, int size) {
        graceReclaims.reclaimFirst(s, h, size);
    }

    /** memory_object_reclaim_continue ({@link GraceReclaims#reclaimPart}). */
    void reclaimPart(KernelSession s, io.machxp.proto.xp.MemoryObjectReclaimContinue part, int size) {
        graceReclaims.reclaimPart(s, part, size);
    }

    /** The bytes of reclaims being assembled, summed; for tests and tools. */
    long assemblingBytes() {
        return graceReclaims.assemblingBytes();
    }

    /** The messages held until grace ends; for tests and tools. */
    int heldCount() {
        return heldInGrace == null ? 0 : heldInGrace.size();
    }
}
