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
 * The kernels' sessions with the pager: kernel_hello and pager_welcome, and how a session ends
 * (its stream closes, the pager ends it, or its lease runs out: {@link SessionLeases}).
 * <pre>
 *  kernel_hello(name)        -> pager_welcome with a kernel id, stable per kernel name while the
 *                               name has a live or broken session and through its quarantine (TIDs
 *                               carry it); a second live session with the same name is ended with
 *                               EEXIST, one whose name is still held by a broken session with EAGAIN
 *  (kernel_hello with a reclaim, in the grace period after a restart, is {@link PagerGrace}'s)
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
 * <p>Kernel ids (1..1023) are reused, safely. A name keeps its id while it has a session, live or
 * broken (a broken one for a lease). When its last session is forgotten the id goes into
 * quarantine ({@link KernelIds}) for a lease plus this pager's grace period (a lease for a pager
 * that started without one): a kernel of
 * the same name that comes back meanwhile gets it again; another name gets it only after the
 * quarantine and only once no futex record still carries an owner_died of that kernel (its TIDs
 * may sit in the futex's word until a grantee told of the death has released it, or the pager
 * has recorded the death in its own copy of the word, which {@link DeathRecorder} does when the
 * kernel is declared dead and again when ids run short, for each futex whose page no kernel holds
 * writable; see {@link PagerFutexes#diedPending}). By then the kernel has stopped (it was declared dead, or left
 * cleanly), nothing it sent is taken, and no word it left can be mistaken for a new kernel's.
 * New ids come first from those never given out, then from the free pool, least recently freed
 * first, so an id rests as long as the pager's churn allows (and a name that comes back keeps its
 * id as long as no other name needed it). At most 1023 names hold ids or sit in quarantine at
 * once; a churn of r new kernel names per lease keeps about r x (2 leases + G) ids busy (G the grace
 * period, or a lease without one), so a pager serves any churn below about 1023 / (2 leases + G) new
 * names per lease. TIDs carry the kernel's primary's id, which need not be this pager's: each
 * session keeps its TID prefix and a hello whose prefix another kernel has is refused
 * ({@link TidPrefixes}).
 */
final class PagerSessions {
    /** Kernel ids fit 10 bits: TID = kernel id << 20 | thread number (see the kernel's Tids). */
    static final int MAX_KERNEL_ID = KernelIds.MAX_KERNEL_ID;
    /** The XP protocol version this pager speaks (kernel_hello.protocol_version). */
    static final int PROTOCOL_VERSION = 1;

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

    PagerSessions(CoreContext core, PageCoherence pages, PagerFutexes futexes, long leaseNanos, long tokenEpoch,
            long graceNanos) {
        this.core = core;
        this.pages = pages;
        this.futexes = futexes;
        this.leaseNanos = leaseNanos;
        this.tokenEpoch = tokenEpoch;
        // An id rests a lease plus the grace period; a pager that started without one counts a
        // grace period's length all the same (xp-spec 2.5): its grace would have been its lease.
        this.deaths = new DeathRecorder(core, futexes.records(), pages);
        futexes.onRecordsFull(deaths::recordAll);
        this.ids = new KernelIds(core, futexes, deaths, leaseNanos + Math.max(graceNanos, leaseNanos));
        this.prefixes = futexes.prefixes;
        this.leases = new SessionLeases(core, pages, futexes, this, leaseNanos);
    }

    // ---- streams ------------------------------------------------------------------------------

    void opened(long sessionId) {
        KernelSession s = new KernelSession(sessionId);
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

    /** Ends the session's stream for a breach of the XP protocol itself, as {@link #end} otherwise. */
    void end(KernelSession s, XpProtocolError error, String message) {
        CoreContext.log.warn("pager {}: ending {}: {}", core.name, s, message);
        core.env.endSession(s.id, error, message);
        closed(s.id);
    }

    /**
     * Whether the message may go on as far as the protocol's order goes: a routine this pager
     * knows, kernel_hello first and once, in a version this pager speaks. Else the stream is ended.
     */
    boolean inOrder(KernelSession s, KernelToPager m) {
        if (m.getRoutineCase() == KernelToPager.RoutineCase.ROUTINE_NOT_SET) {
            end(s, XpProtocolError.EBADMSG, "a message with no routine this pager knows (none set, or one of a "
                    + "newer protocol); pager " + core.name + " speaks XP version " + PROTOCOL_VERSION);
            return false;
        }
        if (m.getRoutineCase() != KernelToPager.RoutineCase.KERNEL_HELLO) {
            if (!s.helloSeen) {
                end(s, XpProtocolError.EPROTO, m.getRoutineCase() + " before kernel_hello: a session begins with "
                        + "kernel_hello");
                return false;
            }
            return true;
        }
        if (s.helloSeen) {
            end(s, XpProtocolError.EPROTO, "a second kernel_hello on one session");
            return false;
        }
        s.helloSeen = true;
        int version = m.getKernelHello().getProtocolVersion();
        if (version != PROTOCOL_VERSION) {
            end(s, XpProtocolError.EPROTONOSUPPORT, "kernel_hello asks for XP protocol version "
                    + Integer.toUnsignedString(version)
                    + "; pager " + core.name + " speaks version " + PROTOCOL_VERSION + " only");
            return false;
        }
        return true;
    }

    /** Lease without a lease: the kernel's stream ended, everything it held is released as is. */
    void forget(KernelSession s) {
        s.gone = true;
        sessions.remove(s.id);
        core.stats.sessions.decrement();
        if (s.kernelName != null && sessionsByName.get(s.kernelName) == s) {
            sessionsByName.remove(s.kernelName);
            ids.rest(s.kernelName);
        }
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

    // ---- kernel_hello -------------------------------------------------------------------------

    /** Whether a kernel_hello may go on: false when its session ended (a bad name or TID prefix). */
    boolean mayHello(KernelSession s, KernelHello h) {
        String kernelName = h.getKernelName();
        if (kernelName.isEmpty() || kernelName.length() > 64 || !kernelName.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            end(s, Errno.EINVAL, "kernel name " + Shown.quoted(kernelName) + " is not valid: use 1 to 64 printable "
                    + "ASCII characters (0x21-0x7e), no space");
            return false;
        }
        if (h.hasTidPrefix() && (h.getTidPrefix() < 1 || h.getTidPrefix() > MAX_KERNEL_ID)) {
            end(s, Errno.EINVAL, "kernel '" + kernelName + "' says its TID prefix is "
                    + Integer.toUnsignedString(h.getTidPrefix()) + ", which is not a kernel id (1.." + MAX_KERNEL_ID
                    + "): the prefix is the kernel id its primary pager gave it");
            return false;
        }
        return true;
    }

    /** The TID prefix a hello gives its kernel: the one it states, else the kernel id given here. */
    static int prefixOf(KernelHello h, int kernelId) {
        return h.hasTidPrefix() ? h.getTidPrefix() : kernelId;
    }

    /**
     * Whether kernel {@code kernelName} may have TID prefix {@code prefix} here (no other kernel
     * has it, or left it in futex words); else its session is ended, and false.
     */
    boolean mayUsePrefix(KernelSession s, String kernelName, int prefix, boolean stated) {
        TidPrefixes.Refusal refusal = prefixes.refusal(sessions.values(), kernelName, prefix, stated);
        if (refusal != null) {
            end(s, refusal.errno(), refusal.message());
            return false;
        }
        return true;
    }

    /** kernel_hello without a reclaim: welcomed under the id its name had, or a new one. */
    void hello(KernelSession s, KernelHello h) {
        String kernelName = h.getKernelName();
        KernelSession previous = sessionsByName.get(kernelName);
        if (previous != null && previous.broken) {
            end(s, Errno.EAGAIN, "kernel '" + kernelName + "' lost its connection to pager " + core.name
                    + " while holding futexes or pages, which stay its own until its lease ends in "
                    + Math.max(1, leases.leaseLeftMillis(previous))
                    + " ms; connect again after that");
            return;
        }
        if (previous != null) {
            end(s, Errno.EEXIST, "a kernel named '" + kernelName + "' is already connected to pager " + core.name
                    + "; give each kernel its own --name (a kernel restarted under its name waits until the pager "
                    + "has noticed the old one gone: at most a lease)");
            return;
        }
        Integer id = ids.of(kernelName);
        boolean fresh = id == null;
        if (fresh) {
            id = ids.free();
            if (id == 0) {
                int heldBack = ids.heldBackByDeaths();
                end(s, Errno.EAGAIN, "pager " + core.name + " has " + MAX_KERNEL_ID + " kernel ids in use or resting "
                        + "after their kernels left (an id rests " + ids.quarantineNanos / 1_000_000 + " ms after its "
                        + "kernel's last session)" + (heldBack == 0 ? "" : "; " + heldBack + " of them are held back "
                        + "by kernels that died holding futexes whose words may still carry their TIDs, each resting "
                        + "a further " + ids.quarantineNanos / 1_000_000 + " ms once the pages of those futexes are "
                        + "given back by the kernels that hold them writable (the pager then records OWNER_DIED in "
                        + "the words itself) or a next owner of each futex has recorded it") + "; connect again later");
                return;
            }
        }
        int prefix = prefixOf(h, id);
        if (!mayUsePrefix(s, kernelName, prefix, h.hasTidPrefix())) {
            if (fresh) {
                ids.unfree(id); // not given: the next name gets it as it would have
            }
            return;
        }
        if (fresh) {
            ids.take(kernelName, id);
        } else {
            ids.back(id); // back within its quarantine: the name keeps its id
        }
        welcome(s, kernelName, id, prefix);
        CoreContext.log.info("pager {}: kernel {} connected (id {})", core.name, kernelName, id);
    }

    /** pager_welcome: the session is now the kernel's of that name and id, its TIDs have that prefix. */
    void welcome(KernelSession s, String kernelName, int id, int tidPrefix) {
        s.kernelName = kernelName;
        s.kernelId = id;
        s.tidPrefix = tidPrefix;
        sessionsByName.put(kernelName, s);
        long token = s.resumable && leaseNanos > 0 ? core.env.sessionToken() : 0;
        core.send(s, PagerToKernel.newBuilder().setPagerWelcome(PagerWelcome.newBuilder()
                .setKernelId(id).setPageSize(core.pageSize).setPagerName(core.name).setSessionEpoch(tokenEpoch)
                .setLeaseMillis(leaseNanos / 1_000_000).setSessionToken(token).setReclaimInParts(true)).build());
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
        core.stats.sessions.decrement();
        sessions.remove(s.id);
        long old = s.id;
        leases.deadSessions.add(old);
        core.timers.set(leaseNanos, new CoreTimers.ForgetDead(old)); // its stream is long gone by then
        s.id = fresh.id;
        sessions.put(s.id, s);
        heard(s);
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
