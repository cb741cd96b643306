package io.machxp.pager.core;

import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.page.PageCoherence;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import io.machxp.proto.xp.ReclaimedPage;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The reclaims of a {@link PagerGrace} (xp-spec 9.4): a kernel of the last pager takes back its
 * id and what it holds, in one message or in parts, judged whole before its welcome.
 * <pre>
 *  kernel_hello with reclaim  -> the kernel gets the id it had and holds what it says: each
 *                                futex under its token, each page with its access (data
 *                                newer than the store's is taken); a conflicting page is
 *                                refused and dropped, a conflicting futex ends the session;
 *                                a futex the holders' journal gives another kernel, or one
 *                                whose stale_heir_tid is no thread's TID, is refused before
 *                                the welcome (EINVAL; the id stays free);
 *                                not checked against other views, but its welcome lists
 *                                the objects in dispute for its view, as a new session's
 *                                (xp-spec 2.8; each logged as an error: two copies may exist)
 *  reclaim of a name that has -> its broken session, welcomed by a reclaim in this grace,
 *  a session                     is replaced: the new reclaim is the complete account, same
 *                                id and TID prefix ({@link ReclaimRetry}); its live one of
 *                                such a reclaim: EAGAIN; any other: EEXIST
 *  reclaim in parts           -> kept ({@link ReclaimParts}) until its last part, then judged
 *  (continues)                   whole as above; over 64 MiB or 256 parts: EAGAIN marked
 *                                final (xp-spec 9.7); all reclaims being assembled over
 *                                256 MiB: EAGAIN (unmarked: a wait changes it); over the session's
 *                                futex or object limit, or a futex the journal gives
 *                                another kernel: EINVAL at that part; its name connected or
 *                                assembling elsewhere: EEXIST at its first part; its id
 *                                reclaimed by another: EEXIST at any part; a part out of
 *                                place: EPROTO; outside grace or without reclaims: ESTALE at
 *                                its first part; its stream ends, or grace: its parts go
 *  its TID prefix still held  -> EAGAIN marked final (xp-spec 2.9, 9.7): only a grantee's
 *  for a dead kernel             record of the death clears it, and nothing is granted in grace
 *  outside grace, or a pager  -> ESTALE
 *  that takes no reclaims
 * </pre>
 * Tokens go on from the reclaimed ones: a new epoch's are higher ({@link FutexReclaims#reclaim}).
 * A reclaim's pages are {@link PageCoherence#reclaim}'s. Core thread only, as the rest of the core.
 */
final class GraceReclaims {
    private final CoreContext core;
    private final PagerFutexes futexes;
    private final PagerSessions sessions;
    /** The grace period whose reclaims these are: in grace while it holds messages. */
    private final PagerGrace grace;
    private final PageCoherence pages;
    private final int maxFutexesPerSession;
    private final boolean reclaims;
    private final FutexJournal journal;
    /** A reclaim again from a kernel whose reclaimed session broke in this grace period. */
    private final ReclaimRetry retry;
    /** The bytes of all reclaims being assembled (sessions' {@link ReclaimParts}), summed. */
    private long assemblingBytes;
    /** The most {@link #assemblingBytes} may reach. */
    private final long maxAssemblingBytes = ReclaimParts.MAX_BYTES_ASSEMBLING;

    GraceReclaims(CoreContext core, PageCoherence pages, PagerFutexes futexes, PagerSessions sessions,
            PagerOptions options, FutexJournal journal, PagerGrace grace) {
        this.core = core;
        this.journal = journal;
        this.pages = pages;
        this.futexes = futexes;
        this.sessions = sessions;
        this.grace = grace;
        this.maxFutexesPerSession = options.maxFutexesPerSession();
        this.reclaims = options.reclaims();
        this.retry = new ReclaimRetry(core, pages, futexes, sessions);
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
        if (h.hasResume()) { // a breach of XP (3.2), judged before what the pager can take (review xpreview LOW-2)
            sessions.end(s, XpProtocolError.EPROTO, "kernel_hello of kernel '" + h.getKernelName() + "' carries both a "
                    + "resume and a reclaim in parts; a reclaim in parts is sent without resume (xp-spec 9.4)");
            return;
        }
        if (!reclaims || grace.heldInGrace == null) {
            reclaim(s, h); // refused (ESTALE) as the whole would be
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
                sessions.endFinal(s, Errno.EAGAIN, who + over + "; the kernel must leave out the pages it holds read-only "
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
                if (refusal == null) {
                    refusal = StaleHeirs.reclaimRefusal(o.getName(), f); // as at the last part's judgement
                }
                if (refusal != null) {
                    return refusal;
                }
            }
        }
        return null;
    }

    /** The session's reclaim being assembled, if any, is no longer kept. */
    void dropParts(KernelSession s) {
        if (s.reclaimParts != null) {
            assemblingBytes -= s.reclaimParts.bytes();
            s.reclaimParts = null;
        }
    }

    /** The bytes of reclaims being assembled, summed; for tests and tools. */
    long assemblingBytes() {
        return assemblingBytes;
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
        if (grace.heldInGrace == null) {
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
                if (refusal == null) {
                    refusal = StaleHeirs.reclaimRefusal(o.getName(), f);
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
        if (!sessions.mayUsePrefix(s, kernelName, prefix, h.hasTidPrefix(), true)) {
            return;
        }
        ReclaimRetry.Detached detached = replaced != null ? retry.detach(replaced) : null;
        sessions.ids.take(kernelName, id);
        s.objects.putAll(objects);
        objects.keySet().forEach(objectId -> core.holders.initialized(s, objectId)); // in the order put
        s.reclaimBootNonce = r.getBootNonce();
        s.reclaimAttempt = r.getAttempt();
        sessions.welcome(s, kernelName, id, prefix, disputes(s, h));
        sessions.prefixes.reclaimedWith(prefix, kernelName); // a stale heir's hold on its prefix is its own
        int futexCount = 0;
        Set<String> pagesTaken = new HashSet<>();
        int pagesRefused = 0;
        Map<String, Set<Long>> namedPages = new HashMap<>();
        String conflict = null;
        java.util.List<String> lost = new java.util.ArrayList<>();
        for (ReclaimedObject o : r.getObjectsList()) {
            MemoryObject object = objects.get(o.getObjectId());
            for (ReclaimedFutex f : o.getFutexesList()) {
                String refused = futexes.reclaims.reclaim(s, o.getObjectId(), f);
                if (refused != null) {
                    conflict = conflict != null ? conflict : refused;
                } else {
                    futexCount++;
                    if (f.getStaleHeirTid() != 0 && !f.getOwnerDied()) {
                        // the stale heir's prefix is held while the word may name it (xp-spec 2.9, 8.4),
                        // under the name of the kernel of this grace period that has it (rv58 MED-1)
                        sessions.prefixes.staleHeirReclaimed(sessions.all(), f.getStaleHeirTid() >>> 20);
                    }
                }
            }
            Set<Long> named = namedPages.computeIfAbsent(object.name(), n -> new HashSet<>());
            for (ReclaimedPage p : o.getPagesList()) {
                // an object under two ids: its pages are named once; a page named twice is refused
                // whole, its earlier entry too
                String page = object.name() + "@" + p.getOffset();
                if (pages.reclaim(s, object, p, named, lost)) {
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
        if (conflict == null && !lost.isEmpty()) {
            // Writes the kernel believes it gave back are not taken: it must not go on as if they were.
            conflict = lost.size() + " unversioned data return(s) not taken, e.g. " + lost.get(0) + "; a kernel that "
                    + "reclaims data it gave back MUST give each the version of that return (xp-spec 9.4), and its "
                    + "writes there may be lost";
        }
        if (conflict != null) {
            // The kernel believes it holds a futex another has: it must not go on as if it did. What
            // it did reclaim stays its own until its lease ends, then goes on with owner_died.
            sessions.end(s, Errno.EINVAL, what + conflict + "; restart the kernel");
            return;
        }
        journal.reclaimComplete(kernelName, key -> { // given back keeping its page: marked again, as before the restart
            if (!pages.writes(s, key.object(), key.offset() - key.offset() % core.pageSize)) {
                return false;
            }
            s.releasedWhileWriting.add(key);
            return true;
        });
        (detached == null ? core.stats.kernelsReclaimed : core.stats.reclaimsTakenAgain).increment();
        CoreContext.log.info("pager {}: kernel {} reconnected (id {}) and reclaimed {}{} futexes and {} pages "
                + "({} page entries refused)", core.name, kernelName, id, detached == null ? "" : "again, its "
                        + "complete account: ", futexCount, pagesTaken.size(), pagesRefused);
    }

    /** How many of a reclaim's disputes are logged one by one (the rest are counted). */
    private static final int LOGGED_DISPUTES = 16;

    /**
     * The objects in dispute for the reclaiming session {@code s} (its view stated in {@code h}),
     * listed in its welcome as a new session's would be (xp-spec 2.8; dir3-review MED-1 fix (b)):
     * a reclaim is not checked, but what it finds is not kept silent. The restored state was kept
     * consistent by the init rule, so there is normally nothing; something means two copies may
     * already exist (a pager before the rule, or an init answered in grace before this kernel's
     * view came back), and is logged as an error. Listed only to a kernel that named
     * "directory_disputes" (which adds them to the list it keeps), within a welcome's bounds: a
     * reclaim is not refused for more ({@link DirectoryViews#listable}; the rest are logged).
     */
    private java.util.List<io.machxp.proto.xp.ObjectDispute> disputes(KernelSession s,
            io.machxp.proto.xp.KernelHello h) {
        if (s.directory == null) {
            return java.util.List.of();
        }
        String kernelName = h.getKernelName();
        java.util.List<io.machxp.proto.xp.ObjectDispute> found = DirectoryViews.disputes(sessions.views, kernelName,
                s.directory, core.name);
        if (found.isEmpty()) {
            return found;
        }
        boolean takes = h.getFeaturesList().contains(DirectoryViews.DISPUTES_FEATURE);
        java.util.List<io.machxp.proto.xp.ObjectDispute> listed = takes ? DirectoryViews.listable(found)
                : java.util.List.of();
        for (int i = 0; i < Math.min(found.size(), LOGGED_DISPUTES); i++) { // a bounded log (dir3-review LOW-2)
            io.machxp.proto.xp.ObjectDispute d = found.get(i);
            CoreContext.log.error("pager {}: kernel {} reclaimed with a pager directory that sends object {} to "
                    + "another pager while another kernel uses it here, so two copies of it may exist; {}: {}",
                    core.name, kernelName, Shown.quoted(d.getObject()), i < listed.size()
                            ? "its welcome lists it (the kernel maps it anew no more)"
                            : "the kernel is not told (its hello does not name " + DirectoryViews.DISPUTES_FEATURE
                                    + ", or more are in dispute than a welcome lists)", d.getReason());
        }
        boolean pastBounds = DirectoryViews.tooMany(found, kernelName, core.name) != null; // the scan stopped there
        if (found.size() > LOGGED_DISPUTES || pastBounds) {
            CoreContext.log.error("pager {}: kernel {} reclaimed with {}{} objects in dispute, {} of them listed in "
                    + "its welcome{}: restart the kernel whose directory is wrong (xp-spec 2.8)", core.name,
                    kernelName, pastBounds ? "at least " : "", found.size(), listed.size(),
                    found.size() > LOGGED_DISPUTES ? " (the first " + LOGGED_DISPUTES + " logged above)" : "");
        }
        return listed;
    }
}
