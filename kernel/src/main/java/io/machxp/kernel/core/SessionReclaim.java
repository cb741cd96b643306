package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.isAbsent;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.PagerWelcome;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedFutex;
import io.machxp.proto.xp.ReclaimedObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a {@link KernelSession} whose stream broke while its lease still runs reconnects and
 * reclaims what it holds (xp-spec 9.4). Part of the kernel core: core thread only; one per
 * session.
 *
 * <h2>Overview</h2>
 * When the stream breaks (the pager restarted, or the connection dropped) while the lease still
 * runs, and the session is not resumed at a replicated pager's next leader ({@link SessionResume}),
 * the kernel keeps what it holds and goes on using it: its cached futexes and resident pages are
 * still its own until the lease ends, since no pager can give them to another kernel before.
 * Nothing leaves it meanwhile (a relinquish the old pager asked for is void; what would be sent is
 * not, and is asked again), and it tries a new stream every twentieth of the lease
 * ({@link KernelSession#retryNanos}):
 * <pre>
 *  SESSION ──stream broken, lease runs──▶ DISCONNECTED ──new stream──▶ RECLAIMING: kernel_hello
 *     ▲                                        │   ▲                   with reclaim (every futex
 *     │                                        │   └──stream broken────  with its token, every page
 *     └──────pager_welcome: init the objects    │                        with its access, the dirty
 *            still initializing; ask again for  │                        returns not yet confirmed)
 *            every futex and page awaited       ▼
 *                           lease runs out, or the pager refuses the reclaim: STOPPED (as if lost)
 * </pre>
 * A reclaim's stream that breaks before the welcome (the welcome may have been sent and lost) is
 * DISCONNECTED again: the next reclaim, on a new stream, is the account as it is then, and a pager
 * in the same grace period takes it again in place of the one it took (xp-spec 9.4, Again); one the
 * pager ends with EAGAIN is tried again likewise (the pager has not seen an earlier reclaim's
 * stream end yet, or buffers other kernels' reclaims in parts), unless the pager marked that EAGAIN
 * final for its grace period (xp-spec 9.7: ErrorInfo metadata final=grace_period, as machxp's pager
 * does for a TID prefix still held for a dead kernel, or a reclaim over its bound of one): that
 * one is a refusal, and the kernel stops its session with that pager ({@link #refused}).
 * After grace such a reclaim is refused (ESTALE) and the kernel stops: it never had the token to
 * resume with.
 * A reclaim is fitted to one message (3.5 MiB) first: over it, the kernel leaves out, and drops,
 * the pages it holds read-only. Only if what must stay (futexes, writable pages, unconfirmed
 * returns) is still over one message, and the pager's welcome said it takes parts, does it go in
 * parts ({@link ReclaimBound#split}: the hello, then memory_object_reclaim_continue messages, sent
 * at once; the welcome answers the last; 60 MiB in all). The hello of a reclaim in parts says
 * protocol version 2: a pager that does not take parts refuses it (EPROTONOSUPPORT) before it
 * records anything, and the kernel reclaims again at once in one message ({@link #refused}).
 * A welcome to a reclaim in parts that does not say reclaim_in_parts came from a pager that took
 * the first part alone: the kernel stops.
 * The welcome to a reclaim must give the same kernel id and page size; its lease counts from no
 * earlier than the reclaim's send, and a keepalive follows at once (its answer confirms the
 * returns the reclaim gave again, and answers a clean end's barrier, {@link ShutdownEnd}).
 */
final class SessionReclaim {
    /** Log lines keep the core's logger: they read as the kernel's. */
    private static final Logger log = LoggerFactory.getLogger(KernelCore.class);

    private final KernelSession session;
    private final KernelCore core;
    private final int pager;
    private final KernelEnv env;
    private final KernelStats stats;
    private final String name;
    /** Why the stream broke while the lease still ran (the kernel reconnects); null while it has one. */
    private String disconnected;
    /** A kernel_hello with reclaim is on its way on a new stream; the kernel waits for the welcome. */
    private boolean reclaiming;
    /** The reclaim on its way went in parts: only a welcome saying reclaim_in_parts may answer it. */
    private boolean inParts;
    /** When the last reclaim was sent: a new pager's lease counts from no earlier than that. */
    private long reclaimSentAt;
    /** The most bytes of a whole reclaim in parts ({@link ReclaimBound#MAX_BYTES}; tests set less). */
    int maxReclaimBytes = ReclaimBound.MAX_BYTES;
    /** The most bytes of one reclaim message ({@link ReclaimBound#PART_BYTES}; tests set less). */
    int maxPartBytes = ReclaimBound.PART_BYTES;

    SessionReclaim(KernelSession session, KernelCore core, KernelEnv env, KernelStats stats, String name) {
        this.session = session;
        this.core = core;
        this.pager = session.pager;
        this.env = env;
        this.stats = stats;
        this.name = name;
    }

    /** Whether the kernel lost its stream and is reconnecting. */
    boolean disconnected() {
        return disconnected != null;
    }

    /** Why the stream broke while the lease ran; null while the kernel has one. */
    String reason() {
        return disconnected;
    }

    /** A kernel_hello with reclaim is out: the next pager_welcome answers it. */
    boolean reclaiming() {
        return reclaiming;
    }

    /**
     * The stream broke while the lease runs and the session is not resumed
     * ({@link KernelSession#onStreamBroken}): DISCONNECTED, or a reclaim's stream that broke; a new
     * stream is tried after a while.
     */
    void streamBroken(String reason) {
        reclaiming = false;
        session.resume.abandon();
        if (disconnected == null) {
            disconnected = reason;
            session.lease.forgetKeepalives();
            for (VmObject o : core.objects.servedBy(pager)) {
                o.forEachPage(page -> page.forEachFutex(core.futexes::streamBroken));
            }
            log.warn("kernel {}: lost its stream to {} ({}); it keeps what it holds for the {} ms its lease "
                    + "still runs, and reconnects to reclaim it", name, core.sessions.count() == 1 ? "the pager"
                            : "pager " + pager, reason, session.lease.millisLeft());
            env.trace("pager-disconnected", 0, reason);
        }
        env.schedule(KernelSession.retryNanos(session.lease.nanos()), this::reconnect);
    }

    /** The session stops using its pager: nothing is reclaimed any more. */
    void stopped() {
        disconnected = null;
        reclaiming = false;
    }

    private void reconnect() {
        if (session.pagerLost() || disconnected == null || reclaiming) {
            return;
        }
        reclaiming = true;
        if (!env.reconnect(pager)) {
            session.onPagerLost(disconnected + "; this kernel cannot reconnect");
            return;
        }
        if (!reclaiming) {
            return; // the new stream failed at once (onStreamBroken ran inside): the next attempt is due
        }
        // Ordered (xp-spec 9.4, Again): a pager takes a reclaim again only from this boot and a newer attempt.
        Reclaim.Builder reclaim = Reclaim.newBuilder().setKernelId(session.kernelId()).setBootNonce(core.bootNonce)
                .setAttempt(++core.reclaimAttempts);
        for (VmObject o : core.objects.servedBy(pager)) {
            if (o.state != VmObject.State.READY) {
                continue;
            }
            ReclaimedObject.Builder ro = ReclaimedObject.newBuilder().setObjectId(o.objectId).setName(o.name)
                    .setPageSize(session.pageSize()).addAllPages(core.returns.reclaim(o));
            o.forEachPage(page -> page.forEachFutex(e -> {
                if (!isAbsent(e.state())) {
                    // owner_died for the whole holding its grant said it, also once recorded in this
                    // kernel's copy of the word: the pager's copy may still name the dead thread, and
                    // the pager before the restart owed the death until the futex came back (seed 3211)
                    ro.addFutexes(ReclaimedFutex.newBuilder().setOffset(e.offset())
                            .setFencingToken(e.fencingToken).setOwnerDied(e.ownerDiedAtGrant || e.grantSaidOwnerDied)
                            .setStaleHeirTid(e.grantStaleHeirTid));
                }
            }));
            reclaim.addObjects(ro);
        }
        KernelToPager hello = KernelToPager.newBuilder().setKernelHello(session.hello().setReclaim(reclaim)).build();
        // One message first, dropping the read-only pages as a kernel always did; parts only for what
        // must stay (futexes, writable pages, unconfirmed returns) and is still over one message, so
        // that an older pager (a rollback) meets parts only for an account it could never take.
        hello = fitted(hello, Math.min(maxPartBytes, maxReclaimBytes));
        boolean parts = session.pagerTakesReclaimParts && hello.getSerializedSize() > maxPartBytes;
        if (parts) {
            hello = fitted(hello, maxReclaimBytes);
        }
        java.util.List<KernelToPager> messages = parts ? ReclaimBound.split(hello, maxPartBytes) : java.util.List.of(hello);
        inParts = messages.size() > 1;
        if (messages.size() > 1) {
            log.info("kernel {}: its reclaim to pager {} is {} bytes: it goes in {} parts", name, pager,
                    hello.getSerializedSize(), messages.size());
        }
        reclaimSentAt = env.nanoTime();
        session.resume.reset(); // the reclaim opens a new count on both sides
        for (KernelToPager m : messages) { // not numbered: the parts are the hello's (xp-spec 9.4)
            stats.sent(m);
            env.send(pager, m);
        }
    }

    /**
     * The pager ended the stream of this session's reclaim with {@code errno}: true if that is the
     * version gate (xp-spec 2.3) - a reclaim in parts, whose hello says version 2, refused with
     * EPROTONOSUPPORT by a pager that does not take parts (an older one after a rollback), which
     * recorded nothing of it - and the kernel reclaims again at once in one message, its lease still
     * running; true too for an EAGAIN the pager did not mark final ({@code finalInGrace} false), and
     * the kernel reclaims again after a while (every L/20, as after a broken stream): the pager may
     * not have seen an earlier reclaim's stream end yet, so that its session there is still live or
     * its parts still assembling, or it buffers other kernels' reclaims in parts (xp-spec 9.4,
     * Again), and an older or another pager may give EAGAIN for any passing cause. False for any
     * other refusal, which is final: among them an EAGAIN the pager marked final for its grace period
     * (xp-spec 9.7; review F1 of f9: the kernel decides from the pager's word, not from its own
     * count of reclaims, which cannot tell a passing EAGAIN of another pager from a lasting one).
     */
    boolean refused(String errno, boolean finalInGrace, String reason) {
        if (reclaiming && "EAGAIN".equals(errno) && !finalInGrace && !session.pagerLost()
                && !session.lease.overNow()) {
            // Not a refusal (xp-spec 9.4, Again; 9.7): the pager has not seen an earlier reclaim's stream
            // end yet, or buffers other reclaims; nothing of this one was taken: again after a while.
            log.warn("kernel {}: pager {} cannot take its reclaim yet ({}); it reclaims again in {} ms while its "
                    + "lease runs", name, pager, reason, KernelSession.retryNanos(session.lease.nanos()) / 1_000_000);
            env.trace("reclaim-again", 0, reason);
            reclaiming = false;
            inParts = false;
            env.schedule(KernelSession.retryNanos(session.lease.nanos()), this::reconnect);
            return true;
        }
        if (reclaiming && "EAGAIN".equals(errno) && finalInGrace) {
            // The pager's sentence may say to retry; the kernel stops its session next (PagerLink): say why here.
            log.warn("kernel {}: pager {} cannot take its reclaim ({}); final for this kernel: the pager marked it "
                    + "final for its grace period (xp-spec 9.7), so it stops using that pager", name, pager, reason);
            env.trace("reclaim-eagain-final", 0, reason);
        }
        if (!reclaiming || !inParts || !"EPROTONOSUPPORT".equals(errno) || session.pagerLost()
                || session.lease.overNow()) {
            return false;
        }
        log.warn("kernel {}: pager {} does not take a reclaim in parts ({}); it reclaims again in one message, "
                + "leaving out the pages it holds read-only", name, pager, reason);
        env.trace("reclaim-parts-refused", 0, reason);
        session.pagerTakesReclaimParts = false; // until a welcome says otherwise
        reclaiming = false;
        inParts = false;
        env.schedule(0, this::reconnect);
        return true;
    }

    /**
     * The reclaim within {@code maxBytes} ({@link ReclaimBound}): over it, the pages held
     * read-only that the kernel may drop leave the account and are dropped here (read again later).
     */
    private KernelToPager fitted(KernelToPager hello, int maxBytes) {
        int size = hello.getSerializedSize();
        int[] dropped = {0};
        KernelToPager fitted = ReclaimBound.fit(hello, maxBytes, (objectId, offset) -> {
            io.machxp.kernel.vm.VmObject o = core.objects.object(objectId);
            io.machxp.kernel.vm.VmPage p = o == null ? null : o.page(offset);
            if (p == null || p.access != io.machxp.kernel.vm.VmPage.Access.READ || p.precious || p.dirty
                    || !p.waiting.isEmpty() || p.requested != io.machxp.kernel.vm.VmPage.Access.NONE) {
                return false;
            }
            core.pages.forget(p);
            return true;
        }, dropped);
        if (fitted != hello) {
            log.warn("kernel {}: its reclaim to pager {} was {} bytes, over the {} a pager takes: it dropped {} pages it "
                    + "held read-only (they are read again when used){}", name, pager, size, maxBytes, dropped[0],
                    fitted.getSerializedSize() > maxBytes ? "; still " + fitted.getSerializedSize()
                            + " bytes of futexes, writable pages and unconfirmed returns, sent as they are" : "");
        }
        return fitted;
    }

    /** The pager took the reclaim: the session goes on; what the kernel was waiting for is asked again. */
    void reclaimed(PagerWelcome w) {
        int pageSize = session.pageSize();
        if (w.getKernelId() != session.kernelId() || w.getPageSize() != pageSize) {
            core.violation("a pager_welcome to a reclaim with kernel id " + Integer.toUnsignedString(w.getKernelId())
                    + " and page size " + Integer.toUnsignedString(w.getPageSize()), 0, 0);
            session.onPagerLost("the pager answered its reclaim with another kernel id or page size");
            return;
        }
        if (inParts && !w.getReclaimInParts()) {
            // A pager that does not take parts (an older one after a rollback) took the hello alone:
            // what the further parts named is unknown to it and would be granted to others.
            core.violation("a pager_welcome without reclaim_in_parts to a reclaim in parts", 0, 0);
            session.onPagerLost("the pager answered its reclaim in parts with a welcome without reclaim_in_parts: it "
                    + "took only the first part, so what the others named (futexes, writable pages, returns) is not "
                    + "this kernel's any more; it stops rather than share them");
            return;
        }
        String was = disconnected;
        reclaiming = false;
        disconnected = null;
        session.resume.welcomed(w.getSessionToken());
        session.lease.reclaimed(SessionLease.nanosOf(w.getLeaseMillis()), reclaimSentAt);
        session.lease.sendKeepalive(); // answered after the reclaim: it confirms the returns the reclaim gave again
        int[] awaited = {0};
        for (VmObject o : core.objects.servedBy(pager)) {
            o.forEachPage(page -> page.forEachFutex(core.futexes::reclaimed)); // a boost kept since the break ends a lease later
            if (o.state == VmObject.State.INITIALIZING) {
                session.send(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                        .setObjectId(o.objectId).setName(o.name).setPageSize(pageSize)).build());
                continue;
            }
            if (session.ending()) {
                continue; // a clean end's wait: nothing waits here any more, nothing is asked again
            }
            core.pages.askAgain(o);
            o.forEachPage(page -> page.forEachFutex(e -> {
                awaited[0] += e.request != FutexEntry.Request.NONE ? 1 : 0;
                core.futexes.askAgain(e);
            }));
        }
        log.info("kernel {}: reconnected to pager {} (epoch {}) after losing its stream ({}) and reclaimed what it "
                + "holds; asked again for {} futexes", name, w.getPagerName(), w.getSessionEpoch(), was, awaited[0]);
        env.trace("pager-reconnected", 0, "epoch " + w.getSessionEpoch());
    }
}
