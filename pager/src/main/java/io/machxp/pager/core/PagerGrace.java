package io.machxp.pager.core;

import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Restart and reclaim (with a grace period, {@code graceNanos > 0}: a pager started on the store
 * of one that ran before, or without a store and not known to start fresh; without
 * {@code reclaims} every reclaim gets ESTALE and grace only waits out the old leases). The pager
 * keeps no lock state on disk; its kernels keep what they hold while their leases run and reconnect:
 * <pre>
 *  GRACE   kernel_hello with reclaim  -> the kernel gets the id it had and holds what it says: each
 *                                        futex under its token, each page with its access (data
 *                                        newer than the store's is taken); a conflicting page is
 *                                        refused and dropped, a conflicting futex ends the session;
 *                                        a futex the holders' journal gives another kernel is
 *                                        refused before the welcome (EINVAL; the id stays free)
 *          reclaim of a name that has  -> its broken session, welcomed by a reclaim in this grace,
 *          a session                     is replaced: the new reclaim is the complete account, same
 *                                        id and TID prefix ({@link ReclaimRetry}); its live one of
 *                                        such a reclaim: EAGAIN; any other: EEXIST
 *          reclaim in parts (continues)-> kept ({@link ReclaimParts}) until its last part, then judged
 *                                        whole as above; over 64 MiB or 256 parts, or all reclaims
 *                                        being assembled over 256 MiB: EAGAIN; over the session's
 *                                        futex or object limit, or a futex the journal gives
 *                                        another kernel: EINVAL at that part; its name connected or
 *                                        assembling elsewhere: EEXIST at its first part; its id
 *                                        reclaimed by another: EEXIST at any part; a part out of
 *                                        place: EPROTO; outside grace or without reclaims: ESTALE at
 *                                        its first part; its stream ends: its parts go
 *          kernel_hello with resume   -> handled at once: a session of the last pager is refused
 *                                        (ESTALE), so its kernel reclaims in time
 *          keepalive, init, data_return,
 *          futex_released, lock_completed,
 *          terminate (reclaimed kernels)  -> handled as always (they grant nothing)
 *          anything else, new kernels -> held, in arrival order (at most MAX_HELD_PER_SESSION
 *                                        messages and 16 MiB a session, 256 MiB for all the
 *                                        sessions not welcomed, and the hellos of 1023 sessions:
 *                                        a hello past 1023 held, the session whose message would
 *                                        pass its own bound, or a session not welcomed whose message
 *                                        would pass the one in all, is ended with EAGAIN; a
 *                                        reclaimed kernel's requests never count in all, so other
 *                                        kernels cannot end it and cost it what it reclaimed)
 *  a session's stream ends            -> the messages held for it go
 *  grace ends (graceNanos after start)-> a reclaim still being assembled is ended (ESTALE) at once;
 *                                        the held messages of sessions still open are handled in
 *                                        order; a reclaim now gets ESTALE (its lease has run out)
 * </pre>
 * No grant is made in grace, and a kernel that has not reclaimed by its end has stopped (its
 * lease, counted from a keepalive the old pager answered, ran out before), so no futex held
 * across the restart goes to a second kernel. Tokens go on from the reclaimed ones: a new
 * epoch's are higher ({@link FutexReclaims#reclaim}). A reclaim's pages are
 * {@link PageCoherence#reclaim}'s.
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
    private final PageCoherence pages;
    private final PagerFutexes futexes;
    private final PagerSessions sessions;
    /** Handles a message held in grace once it is over (the core's dispatch). */
    private final BiConsumer<KernelSession, KernelToPager> handler;
    private final int maxFutexesPerSession;
    private final boolean reclaims;
    private final FutexJournal journal;
    /** A reclaim again from a kernel whose reclaimed session broke in this grace period. */
    private final ReclaimRetry retry;
    /** The bytes of all reclaims being assembled (sessions' {@link ReclaimParts}), summed. */
    private long assemblingBytes;
    /** The most {@link #assemblingBytes} may reach. */
    private final long maxAssemblingBytes = ReclaimParts.MAX_BYTES_ASSEMBLING;
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
        this.pages = pages;
        this.futexes = futexes;
        this.sessions = sessions;
        this.handler = handler;
        this.maxFutexesPerSession = options.maxFutexesPerSession();
        this.reclaims = options.reclaims();
        this.retry = new ReclaimRetry(core, pages, futexes, sessions);
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
        if (heldInGrace == null || answeredInGrace(s, m)) {
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
     * A session's stream ended: the messages held for it go (nothing would handle them: a session
     * closed is forgotten or broken), so that they do not keep it, and what it sent, in memory
     * until grace ends. Its reclaim being assembled went already ({@link PagerSessions#closed}).
     */
    private void closed(KernelSession s) {
        dropParts(s);
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
                dropParts(s);
                sessions.end(s, Errno.ESTALE, "kernel '" + name + "' cannot reclaim what it held from pager "
                        + core.name + ": the pager's grace period after its restart ended before the reclaim's last "
                        + "part came, so the kernel's lease has run out; restart the kernel");
            }
        }
        for (io.machxp.pager.futex.FutexKey key : journal.graceEnded()) {
            futexes.reclaims.diedInRestart(key); // before any held lock is handled: its grant says owner_died
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

    /**
     * Why reclaim {@code r} of {@code name} on {@code s} cannot be taken while another stream is
     * assembling a reclaim in parts under that name ({@link ReclaimRetry#assemblingElsewhere}), or
     * null if none is.
     */
    private ReclaimRetry.Taken assemblingElsewhere(KernelSession s, String name, io.machxp.proto.xp.Reclaim r) {
        for (KernelSession o : sessions.all()) {
            if (o != s && o.reclaimParts != null && o.reclaimParts.kernelName().equals(name)) {
                return ReclaimRetry.assemblingElsewhere(o.reclaimParts.header(), r);
            }
        }
        return null;
    }

    /**
     * kernel_hello with reclaim, of {@code size} bytes: in one message, judged at once
     * ({@link #reclaim}); the first of several parts ({@link ReclaimParts}), kept until the last,
     * unless the pager cannot take it anyway (no reclaims, grace over: ESTALE at once, as the whole
     * would get; a replicated pager's core so never keeps parts in its state).
     */
    void reclaimFirst(KernelSession s, io.machxp.proto.xp.KernelHello h, int size) {
        if (!h.getReclaim().getContinues()) {
            reclaim(s, h);
            return;
        }
        if (h.getProtocolVersion() != PagerHello.PARTS_VERSION) {
            // The gate (xp-spec 2.3): a pager that speaks version 1 only refuses a version-2 hello before
            // it records anything, so parts never reach a pager that would take the hello as the whole.
            sessions.end(s, XpProtocolError.EPROTO, "kernel_hello of kernel '" + h.getKernelName() + "' announces a "
                    + "reclaim in parts under protocol version " + h.getProtocolVersion() + "; a hello whose reclaim "
                    + "continues MUST say protocol_version " + PagerHello.PARTS_VERSION + ", which a pager that "
                    + "does not take parts refuses (xp-spec 2.3, 9.4)");
            return;
        }
        if (!reclaims || heldInGrace == null) {
            reclaim(s, h); // refused (ESTALE) as the whole would be
            return;
        }
        if (h.hasResume()) {
            sessions.end(s, XpProtocolError.EPROTO, "kernel_hello of kernel '" + h.getKernelName() + "' carries both a "
                    + "resume and a reclaim in parts; a reclaim in parts is sent without resume (xp-spec 9.4)");
            return;
        }
        String name = h.getKernelName();
        ReclaimRetry.Taken named = assemblingElsewhere(s, name, h.getReclaim());
        if (named == null) {
            named = retry.nameTaken(name, h.getReclaim());
        }
        if (named != null) { // as the whole would be refused, before keeping any of it
            sessions.end(s, named.errno(), "kernel '" + name + "' cannot reclaim what it held from pager " + core.name
                    + ": " + named.why());
            return;
        }
        s.reclaimParts = new ReclaimParts(h);
        partTaken(s, size, h.getReclaim().getObjectsList());
    }

    /**
     * memory_object_reclaim_continue: a further part of the session's reclaim, of {@code size}
     * bytes; the last one has the whole reclaim judged. Out of place (no reclaim in parts under
     * way: none announced, its last part came, or the session was welcomed) the stream ends with
     * EPROTO.
     */
    void reclaimPart(KernelSession s, io.machxp.proto.xp.MemoryObjectReclaimContinue part, int size) {
        ReclaimParts parts = s.reclaimParts;
        if (parts == null) {
            sessions.end(s, XpProtocolError.EPROTO, "a memory_object_reclaim_continue out of place: "
                    + (s.welcomed() ? "the session was welcomed already"
                            : "no kernel_hello of this session announced a reclaim in parts, or its last part came")
                    + "; a reclaim's further parts follow its kernel_hello (with reclaim.continues) at once, and "
                    + "the last says continues = false (xp-spec 9.4)");
            return;
        }
        if (!partTaken(s, size, part.getObjectsList())) {
            return;
        }
        if (part.getContinues()) {
            return;
        }
        dropParts(s);
        CoreContext.log.info("pager {}: {} sent its reclaim in {} parts ({} bytes)", core.name, s, parts.parts(),
                parts.bytes());
        reclaim(s, parts.whole());
    }

    /**
     * A part, of {@code size} bytes naming {@code objects}, added to the session's reclaim if all
     * reclaims being assembled stay within their budget and this one within its bounds; else the
     * reclaim is refused (EAGAIN; EINVAL for what the whole would be refused for anyway), nothing
     * of it kept, and false.
     */
    private boolean partTaken(KernelSession s, int size, java.util.List<ReclaimedObject> objects) {
        ReclaimParts parts = s.reclaimParts;
        String who = "pager " + core.name + " cannot take the reclaim of " + s + ": ";
        if (assemblingBytes + size > maxAssemblingBytes) {
            dropParts(s);
            sessions.end(s, Errno.EAGAIN, who + "the reclaims other kernels are sending in parts already fill the "
                    + (maxAssemblingBytes >> 20) + " MiB it buffers for reclaims at once; nothing of this one was "
                    + "taken, so the kernel may retry while the grace period runs (xp-spec 9.4)");
            return false;
        }
        parts.add(objects, size);
        assemblingBytes += size;
        String over = parts.overBound();
        String invalid = parts.overSessionLimits(maxFutexesPerSession, PagerObjects.MAX_OBJECTS_PER_SESSION);
        if (over != null || invalid != null) {
            String name = parts.kernelName();
            dropParts(s);
            if (invalid != null) {
                sessions.end(s, Errno.EINVAL, "kernel '" + name + "' cannot reclaim what it held from pager "
                        + core.name + ": " + invalid + "; restart the kernel");
            } else {
                sessions.end(s, Errno.EAGAIN, who + over + "; the kernel must leave out the pages it holds read-only "
                        + "and clean (it reads them again later) and send at most " + (ReclaimParts.MAX_BYTES >> 20)
                        + " MiB in at most " + ReclaimParts.MAX_PARTS + " parts (xp-spec 9.4)");
            }
            return false;
        }
        String owner = sessions.ids.ownerOf(parts.kernelId());
        String taken = owner != null && !owner.equals(parts.kernelName())
                ? "kernel '" + owner + "' has reclaimed id " + parts.kernelId() : null;
        String refused = taken != null ? taken : grantedToAnother(parts.kernelName(), objects);
        if (refused != null) {
            String name = parts.kernelName();
            dropParts(s);
            sessions.end(s, taken != null ? Errno.EEXIST : Errno.EINVAL, "kernel '" + name + "' cannot reclaim what "
                    + "it held from pager " + core.name + ": " + refused + "; restart the kernel");
            return false;
        }
        return true;
    }

    /**
     * Why the journal refuses a futex of this part (another kernel holds it there), or null. With
     * the id's owner ({@link #partTaken}), what the judgement of the whole ({@link #reclaim}) would
     * refuse before the welcome, seen in a part as it comes: the id reclaimed by a kernel of
     * another name (EEXIST), such a futex (EINVAL). Checked at each part, so
     * that such a reclaim is not buffered for nothing, and nothing changes it back while the parts
     * come: an id once reclaimed in grace is its kernel's, and the journal's entries only go
     * (to the kernels they name). The last part's judgement checks the whole again all the same:
     * another kernel may reclaim the id in one message between two parts.
     */
    private String grantedToAnother(String name, java.util.List<ReclaimedObject> objects) {
        for (ReclaimedObject o : objects) {
            for (ReclaimedFutex f : o.getFutexesList()) {
                String refusal = journal.grantedToAnother(name,
                        new io.machxp.pager.futex.FutexKey(o.getName(), f.getOffset()));
                if (refusal != null) {
                    return refusal;
                }
            }
        }
        return null;
    }

    /** The session's reclaim being assembled, if any, is no longer kept. */
    private void dropParts(KernelSession s) {
        if (s.reclaimParts != null) {
            assemblingBytes -= s.reclaimParts.bytes();
            s.reclaimParts = null;
        }
    }

    /** The bytes of reclaims being assembled, summed; for tests and tools. */
    long assemblingBytes() {
        return assemblingBytes;
    }

    /** The messages held until grace ends; for tests and tools. */
    int heldCount() {
        return heldInGrace == null ? 0 : heldInGrace.size();
    }

    /**
     * kernel_hello with reclaim, whole: in the grace period after a restart, a kernel the pager does not
     * know takes back its id and what it holds. Its objects are checked whole first (the kernel
     * keeps using them as they were, so the pager must serve them all); then it is welcomed, and
     * each futex and page it names is recorded as its own unless that conflicts.
     */
    void reclaim(KernelSession s, io.machxp.proto.xp.KernelHello h) {
        String kernelName = h.getKernelName();
        Reclaim r = h.getReclaim();
        String what = "kernel '" + kernelName + "' cannot reclaim what it held from pager " + core.name + ": ";
        if (!reclaims) {
            sessions.end(s, Errno.ESTALE, what + "the pager takes no reclaims, so what the kernel held of the last "
                    + "pager is not its own any more and cannot be given back to it; restart the kernel (a pager that "
                    + "keeps its state durably takes reclaims: machxp pager --store DIR, or a library pager with a "
                    + "state directory)");
            return;
        }
        if (heldInGrace == null) {
            sessions.end(s, Errno.ESTALE, what + (sessions.ids.knows(kernelName)
                    ? "the pager did not restart, and the kernel's old session stays its own until its lease ends"
                    : "the pager's grace period after its restart is over, so the kernel's lease has run out")
                    + "; restart the kernel");
            return;
        }
        int id = r.getKernelId();
        String owner = sessions.ids.ownerOf(id);
        // Another kernel has the name or the id: EEXIST (EAGAIN: the name's reclaimed session has not
        // been seen to break yet); anything else the pager cannot take: EINVAL.
        ReclaimRetry.Taken nameTaken = assemblingElsewhere(s, kernelName, r);
        if (nameTaken == null) {
            nameTaken = retry.nameTaken(kernelName, r);
        }
        KernelSession replaced = nameTaken == null ? retry.replaced(kernelName, r) : null;
        String taken = nameTaken != null ? nameTaken.why()
                : owner != null && !owner.equals(kernelName) ? "kernel '" + owner + "' has reclaimed id " + id
                : null;
        String refusal = taken != null ? taken
                : id < 1 || id > PagerSessions.MAX_KERNEL_ID ? "kernel id " + Integer.toUnsignedString(id)
                        + " is not in 1.." + PagerSessions.MAX_KERNEL_ID
                : replaced != null && retry.mismatch(replaced, id, PagerSessions.prefixOf(h, id)) != null
                        ? retry.mismatch(replaced, id, PagerSessions.prefixOf(h, id))
                : r.getObjectsList().stream().mapToLong(o -> o.getFutexesCount()).sum() > maxFutexesPerSession
                        ? "it names more than " + maxFutexesPerSession + " futexes, the most a session may hold"
                : null;
        Map<Integer, MemoryObject> objects = new HashMap<>();
        for (ReclaimedObject o : r.getObjectsList()) {
            MemoryObject object = core.catalog.get(o.getName());
            if (refusal != null) {
                break;
            }
            refusal = object == null ? "the pager no longer serves memory object " + Shown.quoted(o.getName())
                    : o.getPageSize() != core.pageSize ? "its page size " + o.getPageSize() + " is not the pager's "
                            + core.pageSize
                    : objects.containsKey(o.getObjectId()) ? "it names object id " + o.getObjectId() + " twice"
                    : objects.size() >= PagerObjects.MAX_OBJECTS_PER_SESSION ? "it names more than "
                            + PagerObjects.MAX_OBJECTS_PER_SESSION + " objects"
                    : null;
            objects.put(o.getObjectId(), object);
        }
        for (ReclaimedObject o : r.getObjectsList()) {
            for (ReclaimedFutex f : o.getFutexesList()) {
                if (refusal == null) { // before the welcome: the id stays free for the kernel the journal names
                    refusal = journal.grantedToAnother(kernelName,
                            new io.machxp.pager.futex.FutexKey(o.getName(), f.getOffset()));
                }
            }
        }
        if (refusal != null) {
            // Refused before the welcome: a session it would replace stays as it was (its lease runs on).
            Errno errno = nameTaken != null ? nameTaken.errno() : taken != null ? Errno.EEXIST : Errno.EINVAL;
            sessions.end(s, errno, what + refusal + (nameTaken != null ? "" : "; restart the kernel"));
            return;
        }
        int prefix = PagerSessions.prefixOf(h, id);
        if (!sessions.mayUsePrefix(s, kernelName, prefix, h.hasTidPrefix())) {
            return;
        }
        ReclaimRetry.Detached detached = replaced != null ? retry.detach(replaced) : null;
        sessions.ids.take(kernelName, id);
        s.objects.putAll(objects);
        s.reclaimedInGrace = true;
        s.reclaimBootNonce = r.getBootNonce();
        s.reclaimAttempt = r.getAttempt();
        sessions.welcome(s, kernelName, id, prefix);
        int futexCount = 0;
        Set<String> pagesTaken = new HashSet<>();
        int pagesRefused = 0;
        Map<String, Set<Long>> namedPages = new HashMap<>();
        String conflict = null;
        for (ReclaimedObject o : r.getObjectsList()) {
            MemoryObject object = objects.get(o.getObjectId());
            for (ReclaimedFutex f : o.getFutexesList()) {
                String refused = futexes.reclaims.reclaim(s, o.getObjectId(), f);
                if (refused != null) {
                    conflict = conflict != null ? conflict : refused;
                } else {
                    futexCount++;
                }
            }
            Set<Long> named = namedPages.computeIfAbsent(object.name(), n -> new HashSet<>());
            for (ReclaimedPage p : o.getPagesList()) {
                // an object under two ids: its pages are named once; a page named twice is refused
                // whole, its earlier entry too
                String page = object.name() + "@" + p.getOffset();
                if (pages.reclaim(s, object, p, named)) {
                    pagesTaken.add(page);
                } else {
                    pagesTaken.remove(page);
                    pagesRefused++;
                }
            }
        }
        if (detached != null) {
            Set<io.machxp.pager.futex.FutexKey> namedFutexes = new HashSet<>();
            for (ReclaimedObject o : r.getObjectsList()) {
                for (ReclaimedFutex f : o.getFutexesList()) {
                    namedFutexes.add(new io.machxp.pager.futex.FutexKey(o.getName(), f.getOffset()));
                }
            }
            retry.settle(detached, s, namedFutexes);
        }
        if (conflict != null) {
            // The kernel believes it holds a futex another has: it must not go on as if it did. What
            // it did reclaim stays its own until its lease ends, then goes on with owner_died.
            sessions.end(s, Errno.EINVAL, what + conflict + "; restart the kernel");
            return;
        }
        journal.reclaimComplete(kernelName);
        (detached == null ? core.stats.kernelsReclaimed : core.stats.reclaimsTakenAgain).increment();
        CoreContext.log.info("pager {}: kernel {} reconnected (id {}) and reclaimed {}{} futexes and {} pages "
                + "({} page entries refused)", core.name, kernelName, id, detached == null ? "" : "again, its "
                        + "complete account: ", futexCount, pagesTaken.size(), pagesRefused);
    }
}
