package io.machxp.pager.core;

import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.ObjectDispute;

/**
 * kernel_hello on a new session, up to its pager_welcome: the protocol's order (kernel_hello first
 * and once, in a version this pager speaks), the kernel name and TID prefix the hello states, and
 * the kernel id the session is welcomed under. Part of the pager core beside
 * {@link PagerSessions} (which keeps the sessions, their names and ids, and sends the welcome),
 * core thread only; no state of its own.
 *
 * <h2>Overview</h2>
 * A session is NEW until its kernel_hello, then WELCOMED, or ended:
 * <pre>
 *  a routine this pager does not know   -> the stream ends (EBADMSG; {@link #inOrder})
 *  any other before kernel_hello        -> the stream ends (EPROTO)
 *  a second kernel_hello                -> the stream ends (EPROTO)
 *  kernel_hello of another version      -> the stream ends (EPROTONOSUPPORT)
 *  kernel_hello with a name not 1 to 64 -> the stream ends (EINVAL; {@link #mayHello})
 *    printable ASCII, a TID prefix that
 *    is no kernel id, or a pager directory
 *    that sends an object another kernel
 *    uses here elsewhere ({@link DirectoryViews}),
 *    unless the hello is a resume or a reclaim
 *    (not checked) or names
 *    "directory_disputes" (then the welcome
 *    lists those objects instead)
 *  (kernel_hello with a resume is {@link PagerResume}'s; with a reclaim, in the grace period after
 *   a restart, {@link PagerGrace}'s)
 *  kernel_hello(name)                   -> pager_welcome with a kernel id ({@link #hello}), stable
 *                                          per kernel name while the name has a live or broken
 *                                          session and through its quarantine (TIDs carry it)
 *    a live session has the name        -> the stream ends (EEXIST)
 *      (its kernel's, at another index   -> EEXIST saying the pager is listed twice)
 *       of its list)
 *    a broken session has the name      -> the stream ends (EAGAIN: connect again after its lease)
 *    no kernel id free                  -> the stream ends (EAGAIN)
 *    its TID prefix is another kernel's -> the stream ends ({@link TidPrefixes})
 * </pre>
 *
 * <p>Kernel ids (1..1023) are reused, safely. A name keeps its id while it has a session, live or
 * broken (a broken one for a lease). When its last session is forgotten the id goes into
 * quarantine ({@link KernelIds}) for a lease plus this pager's grace period (a lease for a pager
 * that started without one): a kernel of
 * the same name that comes back meanwhile gets it again (not while futex words may still carry its
 * dead kernel's TIDs, nor while it is another kernel's TID prefix here: then a new id); another name gets it only after the
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
final class PagerHello {
    /** The XP protocol version of every hello but one that starts a reclaim in parts (kernel_hello.protocol_version). */
    static final int PROTOCOL_VERSION = 1;
    /** Version 1 and the reclaim in parts (xp-spec 2.3, 9.4): this pager speaks 1 and 2. */
    static final int PARTS_VERSION = 2;
    private static final int MAX_KERNEL_ID = PagerSessions.MAX_KERNEL_ID;

    private final CoreContext core;
    private final PagerSessions sessions;
    /** The kernel ids the names have, and their quarantine (the sessions'). */
    private final KernelIds ids;
    /** How many free ids the last {@link #freeUsableAsPrefix} passed over (for its refusal's sentence). */
    private int passedOver;

    PagerHello(CoreContext core, PagerSessions sessions) {
        this.core = core;
        this.sessions = sessions;
        this.ids = sessions.ids;
    }

    /**
     * Whether the message may go on as far as the protocol's order goes: a routine this pager
     * knows, kernel_hello first and once, in a version this pager speaks. Else the stream is ended.
     */
    boolean inOrder(KernelSession s, KernelToPager m) {
        if (m.getRoutineCase() == KernelToPager.RoutineCase.ROUTINE_NOT_SET) {
            sessions.end(s, XpProtocolError.EBADMSG, "a message with no routine this pager knows (none set, or one "
                    + "of a newer protocol); pager " + core.name + " speaks XP versions " + PROTOCOL_VERSION + " and "
                    + PARTS_VERSION);
            return false;
        }
        if (m.getRoutineCase() != KernelToPager.RoutineCase.KERNEL_HELLO) {
            if (!s.helloSeen) {
                sessions.end(s, XpProtocolError.EPROTO, m.getRoutineCase() + " before kernel_hello: a session begins "
                        + "with kernel_hello");
                return false;
            }
            return true;
        }
        if (s.helloSeen) {
            sessions.end(s, XpProtocolError.EPROTO, "a second kernel_hello on one session");
            return false;
        }
        s.helloSeen = true;
        int version = m.getKernelHello().getProtocolVersion();
        if (version != PROTOCOL_VERSION && version != PARTS_VERSION) {
            sessions.end(s, XpProtocolError.EPROTONOSUPPORT, "kernel_hello asks for XP protocol version "
                    + Integer.toUnsignedString(version)
                    + "; pager " + core.name + " speaks versions " + PROTOCOL_VERSION + " and " + PARTS_VERSION);
            return false;
        }
        return true;
    }

    /** Whether a kernel_hello may go on: false when its session ended (a bad name or TID prefix). */
    boolean mayHello(KernelSession s, KernelHello h) {
        checkedFor = null;
        checked = null;
        String kernelName = h.getKernelName();
        if (kernelName.isEmpty() || kernelName.length() > 64 || !kernelName.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            sessions.end(s, Errno.EINVAL, "kernel name " + Shown.quoted(kernelName) + " is not valid: use 1 to 64 "
                    + "printable ASCII characters (0x21-0x7e), no space");
            return false;
        }
        if (h.hasTidPrefix() && (h.getTidPrefix() < 1 || h.getTidPrefix() > MAX_KERNEL_ID)) {
            sessions.end(s, Errno.EINVAL, "kernel '" + kernelName + "' says its TID prefix is "
                    + Integer.toUnsignedString(h.getTidPrefix()) + ", which is not a kernel id (1.." + MAX_KERNEL_ID
                    + "): the prefix is the kernel id its primary pager gave it");
            return false;
        }
        // a view an open session stated was taken then (a snapshot's too); a new one is checked as
        // it is parsed, in one pass (xpreview-review HIGH-1, HIGH-1b)
        StatedView stated = h.hasDirectory() ? sessions.views.intern(h.getDirectory()) : null;
        String invalid = stated == null || sessions.views.live(stated) ? null : stated.invalid;
        if (invalid != null) {
            sessions.end(s, Errno.EINVAL, "kernel '" + kernelName + "' stated a pager directory that is not valid: "
                    + invalid + " (xp-spec 2.8)");
            return false;
        }
        if (h.hasDirectory() && (h.hasResume() || h.hasReclaim())) {
            // a resume or reclaim is not checked (xp-spec 2.8; dir2-review L4): its kernel used its
            // objects here already, and a refusal would only take those back from it; the view
            // counts, past the bound of views kept too (StatedViews)
            sessions.views.state(s, stated);
        } else if (h.hasDirectory()) {
            String tooLarge = sessions.views.refusal(stated, kernelName, core.name, s.peer);
            if (tooLarge != null) {
                sessions.end(s, Errno.EAGAIN, tooLarge);
                return false;
            }
            // a kernel that takes the disputes in its welcome is not refused for them (xpdir-review H1)
            String refusal = h.getFeaturesList().contains(DirectoryViews.DISPUTES_FEATURE) ? null
                    : DirectoryViews.refusal(sessions.views, kernelName, stated, core.name);
            if (refusal == null && h.getFeaturesList().contains(DirectoryViews.DISPUTES_FEATURE)) {
                java.util.List<ObjectDispute> disputes = DirectoryViews.disputes(sessions.views, kernelName,
                        stated, core.name);
                refusal = DirectoryViews.tooMany(disputes, kernelName, core.name);
                checkedFor = s; // the welcome lists these: computed once a hello (dir3-review LOW-5)
                checked = disputes;
            }
            if (refusal != null) {
                sessions.end(s, Errno.EINVAL, refusal);
                return false;
            }
            sessions.views.state(s, stated);
        }
        return true;
    }

    /**
     * Whether a hello of a name already connected comes from the same kernel, which lists this pager
     * twice (under two addresses): the same TID prefix (the same kernel's TIDs) at another index of
     * the same directory. A kernel restarted under its name while its old session is still open
     * here has the same index; an older kernel states no directory, and gets the name's refusal.
     */
    private static boolean listedTwice(KernelSession previous, KernelHello h) {
        if (previous.directory == null || !h.hasDirectory() || !h.hasTidPrefix()
                || previous.tidPrefix != h.getTidPrefix()) {
            return false;
        }
        var was = previous.directory.proto;
        var now = h.getDirectory();
        return was.getPagerIndex() != now.getPagerIndex() && was.getPagerCount() == now.getPagerCount()
                && was.getAssignmentsList().equals(now.getAssignmentsList());
    }

    /** kernel_hello without a reclaim: welcomed under the id its name had, or a new one. */
    void hello(KernelSession s, KernelHello h) {
        String kernelName = h.getKernelName();
        KernelSession previous = sessions.byName(kernelName);
        if (previous != null && previous.broken) {
            sessions.end(s, Errno.EAGAIN, "kernel '" + kernelName + "' lost its connection to pager " + core.name
                    + " while holding futexes or pages, which stay its own until its lease ends in "
                    + Math.max(1, sessions.leases.leaseLeftMillis(previous))
                    + " ms; connect again after that");
            return;
        }
        if (previous != null && listedTwice(previous, h)) {
            sessions.end(s, Errno.EEXIST, "pager " + core.name + " is listed twice in this kernel's --pager list: kernel '"
                    + kernelName + "' has it as pager " + previous.directory.proto.getPagerIndex() + " and as pager "
                    + h.getDirectory().getPagerIndex() + " (two addresses of one pager?); list each pager once");
            return;
        }
        if (previous != null) {
            sessions.end(s, Errno.EEXIST, "a kernel named '" + kernelName + "' is already connected to pager " + core.name
                    + "; give each kernel its own --name (a kernel restarted under its name waits until the pager "
                    + "has noticed the old one gone: at most a lease)");
            return;
        }
        Integer id = ids.of(kernelName);
        boolean fresh = id == null;
        if (!fresh && !h.hasTidPrefix() && sessions.unusablePrefixes(kernelName).contains(id)) {
            fresh = true; // its resting id is another kernel's TID prefix here: a new id ({@code take} rests the old on)
        }
        if (fresh) {
            passedOver = 0;
            id = h.hasTidPrefix() ? ids.free() : freeUsableAsPrefix(kernelName);
            if (id == 0 && passedOver > 0) {
                sessions.end(s, Errno.EAGAIN, "pager " + core.name + " has no kernel id left for kernel '" + kernelName
                        + "' but " + passedOver + " that other kernels' TIDs use here as their prefix (kernels whose "
                        + "primary is another pager, or dead kernels' TIDs still in futex words); give every kernel "
                        + "the same --pager list in the same order, or connect again later");
                return;
            }
            if (id == 0) {
                int heldBack = ids.heldBackByDeaths();
                sessions.end(s, Errno.EAGAIN, "pager " + core.name + " has " + MAX_KERNEL_ID + " kernel ids in use or resting "
                        + "after their kernels left (an id rests " + ids.quarantineNanos / 1_000_000 + " ms after its "
                        + "kernel's last session)" + (heldBack == 0 ? "" : "; " + heldBack + " of them are held back "
                        + "by kernels that died holding futexes whose words may still carry their TIDs, each resting "
                        + "a further " + ids.quarantineNanos / 1_000_000 + " ms once the pages of those futexes are "
                        + "given back by the kernels that hold them writable (the pager then records OWNER_DIED in "
                        + "the words itself) or a next owner of each futex has recorded it") + "; connect again later");
                return;
            }
        }
        int prefix = PagerSessions.prefixOf(h, id);
        if (!sessions.mayUsePrefix(s, kernelName, prefix, h.hasTidPrefix(), false)) {
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
        java.util.List<ObjectDispute> disputes = disputes(s, h);
        sessions.welcome(s, kernelName, id, prefix, disputes);
        CoreContext.log.info("pager {}: kernel {} connected (id {})", core.name, kernelName, id);
        for (ObjectDispute d : disputes) {
            CoreContext.log.warn("pager {}: kernel {} is welcomed without object '{}', which it may not use: {}",
                    core.name, kernelName, d.getObject(), d.getReason());
        }
    }

    /**
     * The objects in dispute to list in the welcome of {@code s}, whose hello is {@code h}
     * ({@link DirectoryViews#disputes}): only to a kernel that named the feature and stated a view
     * (any other was refused by {@link #mayHello} if it had any).
     */
    private java.util.List<ObjectDispute> disputes(KernelSession s, KernelHello h) {
        java.util.List<ObjectDispute> computed = checkedFor == s ? checked : null;
        checkedFor = null;
        checked = null;
        if (s.directory == null || !h.getFeaturesList().contains(DirectoryViews.DISPUTES_FEATURE)) {
            return java.util.List.of();
        }
        // mayHello computed them in this same call, with nothing changed since; else computed now
        return computed != null ? computed
                : DirectoryViews.disputes(sessions.views, h.getKernelName(), s.directory, core.name);
    }

    /**
     * The disputes {@link #mayHello} computed for session {@link #checkedFor}'s hello, which the
     * welcome of the same call lists ({@link #hello}): the scan, O(objects served x assignments),
     * runs once a hello, not twice (dir3-review LOW-5).
     */
    private KernelSession checkedFor;
    private java.util.List<ObjectDispute> checked;

    /**
     * A free id for a new name whose hello states no TID prefix (this pager is its primary, so the
     * id is its prefix), passing over the ids other kernels' TIDs use here: a session that states
     * such a prefix, or a dead kernel's words (xp-spec 2.5, 2.9). The ids passed over stay free, in
     * their order, for the next name. 0 if no usable id is left.
     */
    private int freeUsableAsPrefix(String kernelName) {
        java.util.Set<Integer> unusable = sessions.unusablePrefixes(kernelName);
        java.util.ArrayDeque<Integer> passed = new java.util.ArrayDeque<>();
        int id = ids.free();
        while (id != 0 && unusable.contains(id)) {
            passed.push(id);
            id = ids.free();
        }
        passedOver = passed.size();
        while (!passed.isEmpty()) {
            ids.unfree(passed.pop()); // the last passed over first: the first ends up first again
        }
        return id;
    }
}
