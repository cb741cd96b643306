package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexQueue;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.object.MemoryObject;
import io.machxp.pager.page.PageCoherence;
import io.machxp.pager.store.PageStore;
import io.machxp.proto.snapshot.FutexImage;
import io.machxp.proto.snapshot.FutexRef;
import io.machxp.proto.snapshot.FutexWaiter;
import io.machxp.proto.snapshot.HeldMessage;
import io.machxp.proto.snapshot.JournalEntry;
import io.machxp.proto.snapshot.KernelIdImage;
import io.machxp.proto.snapshot.ObjectBinding;
import io.machxp.proto.snapshot.PagerSnapshot;
import io.machxp.proto.snapshot.QuarantinedId;
import io.machxp.proto.snapshot.ReplayImage;
import io.machxp.proto.snapshot.SessionImage;
import io.machxp.proto.snapshot.StoredPage;
import io.machxp.proto.snapshot.TimerImage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Restores a {@link PagerSnapshot} ({@link SnapshotWriter}'s) into a fresh core, built with the
 * same name, page size, objects and options as the one written: from then on it behaves as that
 * one would, input for input. Whatever the fresh core set up at construction (a grace period's
 * timer, the journal of a store it found) is replaced by the snapshot's. A snapshot that names an
 * object this pager does not serve, or a session it does not have, is refused with
 * IllegalArgumentException. Pager core thread only.
 */
final class SnapshotReader {
    private final CoreContext core;
    private final PagerSessions sessions;
    private final PagerFutexes futexes;
    private final PageCoherence pages;
    private final PagerGrace grace;
    private final FutexJournal journal;
    private final Map<Long, KernelSession> byId = new HashMap<>();

    SnapshotReader(CoreContext core, PagerSessions sessions, PagerFutexes futexes, PageCoherence pages,
            PagerGrace grace, FutexJournal journal) {
        this.core = core;
        this.sessions = sessions;
        this.futexes = futexes;
        this.pages = pages;
        this.grace = grace;
        this.journal = journal;
    }

    void read(PagerSnapshot snap) {
        if (!sessions.sessions.isEmpty() || futexes.count() != 0 || pages.recordCount() != 0) {
            throw new IllegalStateException("a snapshot is restored only into a fresh core");
        }
        readSessions(snap);
        FutexRecords records = futexes.records();
        for (FutexImage image : snap.getFutexesList()) {
            FutexRecord f = futex(image);
            records.futexes.put(f.key, f);
            records.restored(f);
        }
        snap.getTokenMarksList().forEach(m -> records.prunedTokens.put(m.getObject(), m.getToken()));
        records.rebuildCarrying();
        sessions.deaths.cursor = snap.hasDeathCursor() ? key(snap.getDeathCursor()) : null;
        pages.restore(snap.getPagesList(), core.catalog, this::session);
        PageStore store = core.catalog.store();
        for (StoredPage p : snap.getStoredPagesList()) {
            object(p.getObject()).write(p.getOffset(), p.getData().toByteArray(), p.getVersion());
        }
        store.holders().forEach(h -> store.holder(h.object(), h.offset(), null));
        snap.getStoreHoldersList().forEach(h -> store.holder(h.getKey().getObject(), h.getKey().getOffset(),
                h.getKernel()));
        grace.heldInGrace = snap.getGrace().getInGrace() ? new ArrayDeque<>() : null;
        for (HeldMessage h : snap.getGrace().getHeldList()) {
            grace.heldInGrace.add(new PagerGrace.Held(session(h.getSession()), h.getMessage()));
        }
        grace.heldRestored();
        journal.unreclaimed.clear();
        for (JournalEntry e : snap.getJournal().getUnreclaimedList()) {
            journal.unreclaimed.put(key(e.getKey()), e.getKernel());
        }
        journal.told.clear();
        snap.getJournal().getToldList().forEach(k -> journal.told.add(key(k)));
        journal.givenBack.clear();
        snap.getJournal().getGivenBackList().forEach(k -> journal.givenBack.add(key(k)));
        List<CoreTimers.Pending> timers = new ArrayList<>();
        for (TimerImage t : snap.getTimersList()) {
            timers.add(new CoreTimers.Pending(t.getDueNanos(), timer(t)));
        }
        core.timers.restore(timers);
        for (io.machxp.proto.snapshot.ParkedLock l : snap.getParkedList()) {
            KernelSession s = session(l.getSession());
            FutexKey key = key(l.getKey());
            object(key.object());
            futexes.parking.restore(s, key, l.getPriority(), l.hasSince() ? l.getSince() : FutexQueue.UNKNOWN);
        }
        futexes.parking.restored(records.futexes.values(), timers.stream()
                .anyMatch(p -> p.timer() instanceof CoreTimers.AskBack));
        // A snapshot written before the deadline was kept has requests owed but no check of them.
        // In the order of their ids, so that every replica installing it sets the same timers.
        sessions.sessions.values().stream().sorted(java.util.Comparator.comparingLong(s -> s.id))
                .forEach(core.answers::watchIfOwed);
    }

    /**
     * A snapshot written before {@code KernelIdImage.tid_prefix} has 0 (the id) for every id: the
     * prefixes of the ids whose kernels are open here (broken ones too) are taken from their
     * sessions, so that replicas restored from such snapshots at different log indexes judge a
     * dead writer's revert alike (deaths review LOW-2). Those of kernels gone before the snapshot
     * stay the id (their prefix is in no state such a snapshot has). A newer snapshot already says
     * the same: this changes nothing there.
     */
    private void prefixesOfOldSnapshot() {
        KernelIds ids = sessions.ids;
        sessions.sessions.values().stream().sorted(java.util.Comparator.comparingLong(s -> s.id)).forEach(s -> {
            int id = s.kernelId;
            if (s.welcomed() && id >= 1 && id <= PagerSessions.MAX_KERNEL_ID && s.kernelName != null
                    && s.kernelName.equals(ids.idOwners[id]) && ids.idPrefixes[id] == 0 && s.tidPrefix != 0
                    && s.tidPrefix != id) {
                ids.idPrefixes[id] = s.tidPrefix;
            }
        });
    }

    private void readSessions(PagerSnapshot snap) {
        for (SessionImage image : snap.getSessionsList()) {
            KernelSession s = session(image);
            if (byId.put(s.id, s) != null) {
                throw new IllegalArgumentException("the snapshot has session " + s.id + " twice");
            }
            sessions.sessions.put(s.id, s);
            if (image.hasDirectory()) { // the views are derived state: parsed and kept again (StatedViews)
                sessions.views.state(s, sessions.views.intern(image.getDirectory()));
            }
        }
        core.stats.sessions.reset(); // the core restored over counted its own in these stats
        core.stats.sessions.add(byId.size());
        snap.getNamedSessionsList().forEach(n -> sessions.sessionsByName.put(n.getKernelName(),
                session(n.getSession())));
        for (KernelIdImage k : snap.getKernelIdsList()) {
            sessions.ids.kernelIds.put(k.getKernelName(), k.getKernelId());
        }
        for (KernelIdImage k : snap.getIdOwnersList()) {
            if (k.getKernelId() < 1 || k.getKernelId() > PagerSessions.MAX_KERNEL_ID) {
                throw new IllegalArgumentException("the snapshot gives kernel id " + k.getKernelId() + ", not in 1.."
                        + PagerSessions.MAX_KERNEL_ID);
            }
            sessions.ids.idOwners[k.getKernelId()] = k.getKernelName();
            sessions.ids.idPrefixes[k.getKernelId()] = k.getTidPrefix(); // 0 (the id) in an older snapshot
        }
        prefixesOfOldSnapshot();
        sessions.ids.neverUsed = snap.getNeverUsedId();
        for (QuarantinedId q : snap.getQuarantineList()) {
            sessions.ids.quarantine.put(q.getKernelId(), q.getUntilNanos());
        }
        sessions.ids.freeIds.addAll(snap.getFreeIdsList());
        sessions.leases.deadSessions.addAll(snap.getDeadSessionsList());
        for (KernelIdImage k : snap.getDiedPrefixesList()) {
            sessions.prefixes.died.put(k.getKernelId(), k.getKernelName());
        }
    }

    private KernelSession session(SessionImage image) {
        KernelSession s = new KernelSession(image.getId());
        s.kernelName = image.hasKernelName() ? image.getKernelName() : null;
        s.peer = image.hasPeer() ? image.getPeer() : null;
        s.kernelId = image.getKernelId();
        // a snapshot written before sessions kept their prefix: every kernel's was its kernel id
        s.tidPrefix = image.getTidPrefix() != 0 ? image.getTidPrefix() : image.getKernelId();
        for (ObjectBinding o : image.getObjectsList()) {
            s.objects.put(o.getObjectId(), object(o.getName()));
        }
        for (ObjectBinding o : image.getRetiredList()) {
            s.retiredIds.put(o.getObjectId(), object(o.getName()));
        }
        image.getRefusedReturnsList().forEach(r -> s.refusedReturns
                .computeIfAbsent(r.getObject(), n -> new java.util.TreeMap<>()).put(r.getOffset(), r.getWhy()));
        s.refusedOverflow.addAll(image.getRefusedOverflowList());
        image.getHeldList().forEach(k -> s.held.add(key(k)));
        image.getQueuedList().forEach(k -> s.queued.add(key(k)));
        // a snapshot written before they were kept has none: as before, only recorded futexes are judged
        image.getReleasedWhileWritingList().forEach(k -> s.releasedWhileWriting.add(key(k)));
        s.features.addAll(image.getFeaturesList());
        s.lastHeard = image.getLastHeardNanos();
        s.extendedSinceHeard = image.getExtendedSinceHeard();
        s.answerWatched = image.getAnswerWatched();
        // without when its request went out (no snapshot keeps one without the other): never
        s.answeredAny = image.hasLastAnsweredNanos() && image.hasLastAnsweredAskedNanos();
        s.lastAnswered = image.getLastAnsweredNanos();
        s.lastAnsweredAsked = image.getLastAnsweredAskedNanos();
        s.broken = image.getBroken();
        s.helloSeen = image.getHelloSeen();
        s.heldInGrace = image.getHeldInGrace();
        s.received = image.getReceived();
        s.resumable = image.getResumable();
        s.reclaimBootNonce = image.getReclaimBootNonce();
        s.reclaimAttempt = image.getReclaimAttempt();
        if (image.hasReplay()) {
            ReplayImage r = image.getReplay();
            s.replay = new ReplayLog(r.getToken());
            s.replay.attempt = r.getAttempt();
            s.replay.sent = r.getSent();
            s.replay.kept.addAll(r.getKeptList());
            s.replay.keptBytes = r.getKeptList().stream().mapToLong(ReplayLog::cost).sum();
            s.replay.overflowed = r.getOverflowed();
            s.replay.overflowedAt = r.getOverflowed() && r.getOverflowedAt() == 0 ? r.getSent() : r.getOverflowedAt();
        }
        return s;
    }

    private FutexRecord futex(FutexImage image) {
        FutexRecord f = new FutexRecord(key(image.getKey()));
        f.holder = image.hasHolder() ? session(image.getHolder()) : null;
        f.queue.restoreArrivals(image.getArrivals());
        for (FutexWaiter w : image.getWaitersList()) {
            f.queue.restoreWaiter(session(w.getSession()), w.getPriority(), w.getArrival(),
                    w.hasSince() ? w.getSince() : FutexQueue.UNKNOWN);
        }
        f.relinquishSent = image.getRelinquishSent();
        f.relinquishPriority = image.getRelinquishPriority();
        f.lastHolder = image.getLastHolder();
        f.lastHolderName = image.hasLastHolderName() ? image.getLastHolderName() : null;
        f.releasedPages.addAll(image.getReleasedPagesList());
        f.token = image.getToken();
        f.grantedNanos = image.getGrantedNanos();
        f.ownerDied = image.getOwnerDied();
        f.grantOwnerDied = image.getGrantOwnerDied();
        f.staleHeirTid = image.getStaleHeirTid();
        for (int i = 0; i < image.getTriesCount(); i++) { // an older snapshot kept no priorities: 0
            f.tries.add(session(image.getTries(i)), i < image.getTryPrioritiesCount() ? image.getTryPriorities(i) : 0);
        }
        f.tryAsked = image.getTryAsked();
        f.tryAskedPriority = image.getTryAskedPriority();
        // a snapshot written before it was kept: the deadline of the holder's answer starts again
        f.tryAskedNanos = image.hasTryAskedNanos() ? image.getTryAskedNanos() : core.env.nanoTime();
        core.answers.tryOwed(f);
        f.handoff = image.getHandoff();
        f.diedKernelIds.addAll(image.getDiedKernelIdsList());
        f.zeroWordClean = image.getZeroWordClean();
        // an older snapshot had no TIDs seen gone before the death was told: untold while ids wait
        f.deathUntold = image.getDeathUntold() || !f.diedKernelIds.isEmpty();
        f.askedBack = image.getAskedBack();
        f.keptWhenAsked = image.hasKeptWhenAskedNanos();
        f.keptWhenAskedNanos = image.getKeptWhenAskedNanos();
        return f;
    }

    private CoreTimers.Timer timer(TimerImage t) {
        switch (t.getKindCase()) {
            case LEASE_CHECK:
                return new CoreTimers.LeaseCheck(session(t.getLeaseCheck()));
            case FORGET_DEAD:
                return new CoreTimers.ForgetDead(t.getForgetDead());
            case GRACE_END:
                return new CoreTimers.GraceEnd();
            case ANSWER_CHECK:
                return new CoreTimers.AnswerCheck(session(t.getAnswerCheck()));
            case ASK_BACK:
                return new CoreTimers.AskBack();
            case GRANT_LEASE_END:
                FutexRecord f = futexes.records().get(key(t.getGrantLeaseEnd().getKey()));
                if (f == null) {
                    throw new IllegalArgumentException("the snapshot has a grant lease of " + t.getGrantLeaseEnd()
                            .getKey() + ", a futex it has no record of");
                }
                return new CoreTimers.GrantLeaseEnd(f, t.getGrantLeaseEnd().getToken());
            default:
                throw new IllegalArgumentException("the snapshot has a timer of no kind this pager knows (a newer "
                        + "pager's snapshot?)");
        }
    }

    private KernelSession session(long id) {
        KernelSession s = byId.get(id);
        if (s == null) {
            throw new IllegalArgumentException("the snapshot names session " + id + ", which it does not have");
        }
        return s;
    }

    private MemoryObject object(String name) {
        MemoryObject o = core.catalog.get(name);
        if (o == null) {
            throw new IllegalArgumentException("the snapshot has memory object '" + name + "', which this pager does "
                    + "not serve: start it with the same --object options as the group");
        }
        return o;
    }

    private static FutexKey key(FutexRef ref) {
        return new FutexKey(ref.getObject(), ref.getOffset());
    }
}
