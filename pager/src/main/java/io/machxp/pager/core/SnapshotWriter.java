package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexQueue;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.pager.page.PageCoherence;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.pager.store.PageStore;
import io.machxp.proto.snapshot.FutexImage;
import io.machxp.proto.snapshot.FutexRef;
import io.machxp.proto.snapshot.FutexWaiter;
import io.machxp.proto.snapshot.GrantLeaseEnd;
import io.machxp.proto.snapshot.GraceImage;
import io.machxp.proto.snapshot.HeldMessage;
import io.machxp.proto.snapshot.JournalEntry;
import io.machxp.proto.snapshot.JournalImage;
import io.machxp.proto.snapshot.KernelIdImage;
import io.machxp.proto.snapshot.NamedSession;
import io.machxp.proto.snapshot.ObjectBinding;
import io.machxp.proto.snapshot.PagerSnapshot;
import io.machxp.proto.snapshot.QuarantinedId;
import io.machxp.proto.snapshot.ReplayImage;
import io.machxp.proto.snapshot.SessionImage;
import io.machxp.proto.snapshot.StoredPage;
import io.machxp.proto.snapshot.TimerImage;
import io.machxp.proto.snapshot.TokenMark;
import java.util.Comparator;
import java.util.TreeMap;

/**
 * Writes a pager core's whole state as data ({@link PagerSnapshot}, pager_snapshot.proto), between
 * two inputs: what {@link SnapshotReader} needs to make a fresh core go on exactly as this one. A
 * session is named by its stream id; the orders the core acts on (queues, the sets it walks) are
 * kept, every other collection is sorted, so equal states write equal bytes. Pending timers are
 * written as data; one that would do nothing when due (its session is gone, or its grant) is left
 * out. The pages are the store's: a snapshot covers them only for a store in memory
 * ({@link MemoryPageStore}; a durable store keeps its own). Pager core thread only.
 */
final class SnapshotWriter {
    private final CoreContext core;
    private final PagerSessions sessions;
    private final PagerFutexes futexes;
    private final PageCoherence pages;
    private final PagerGrace grace;
    private final FutexJournal journal;

    SnapshotWriter(CoreContext core, PagerSessions sessions, PagerFutexes futexes, PageCoherence pages,
            PagerGrace grace, FutexJournal journal) {
        this.core = core;
        this.sessions = sessions;
        this.futexes = futexes;
        this.pages = pages;
        this.grace = grace;
        this.journal = journal;
    }

    PagerSnapshot write() {
        PagerSnapshot.Builder b = PagerSnapshot.newBuilder();
        writeSessions(b);
        FutexRecords records = futexes.records();
        records.futexes.values().stream().sorted(Comparator.comparing((FutexRecord f) -> f.key.object())
                .thenComparingLong(f -> f.key.offset())).forEach(f -> b.addFutexes(futex(f)));
        new TreeMap<>(records.prunedTokens).forEach((object, token) -> b.addTokenMarks(TokenMark.newBuilder()
                .setObject(object).setToken(token)));
        b.addAllPages(pages.image());
        writeStore(b);
        GraceImage.Builder g = GraceImage.newBuilder().setInGrace(grace.heldInGrace != null);
        if (grace.heldInGrace != null) {
            for (PagerGrace.Held h : grace.heldInGrace) {
                if (current(h.session())) { // else handled by nobody when grace ends
                    g.addHeld(HeldMessage.newBuilder().setSession(h.session().id).setMessage(h.message()));
                }
            }
        }
        b.setGrace(g);
        JournalImage.Builder j = JournalImage.newBuilder();
        journal.unreclaimed.forEach((key, kernel) -> j.addUnreclaimed(JournalEntry.newBuilder().setKey(ref(key))
                .setKernel(kernel)));
        journal.told.stream().sorted(Comparator.comparing(FutexKey::object).thenComparingLong(FutexKey::offset))
                .forEach(key -> j.addTold(ref(key)));
        journal.givenBack.forEach(key -> j.addGivenBack(ref(key)));
        b.setJournal(j);
        for (FutexParking.Parked p : futexes.parking.parked()) {
            io.machxp.proto.snapshot.ParkedLock.Builder l = io.machxp.proto.snapshot.ParkedLock.newBuilder()
                    .setSession(id(p.session)).setKey(ref(p.key)).setPriority(p.priority);
            if (p.since != FutexQueue.UNKNOWN) {
                l.setSince(p.since);
            }
            b.addParked(l);
        }
        if (sessions.deaths.cursor != null) {
            b.setDeathCursor(ref(sessions.deaths.cursor));
        }
        for (CoreTimers.Pending p : core.timers.pending()) {
            TimerImage t = timer(p);
            if (t != null) {
                b.addTimers(t);
            }
        }
        return b.build();
    }

    private void writeSessions(PagerSnapshot.Builder b) {
        new TreeMap<>(sessions.sessions).values().forEach(s -> b.addSessions(session(s)));
        new TreeMap<>(sessions.sessionsByName).forEach((name, s) -> b.addNamedSessions(NamedSession.newBuilder()
                .setKernelName(name).setSession(id(s))));
        new TreeMap<>(sessions.ids.kernelIds).forEach((name, id) -> b.addKernelIds(KernelIdImage.newBuilder()
                .setKernelName(name).setKernelId(id)));
        for (int id = 1; id < sessions.ids.idOwners.length; id++) {
            if (sessions.ids.idOwners[id] != null) {
                b.addIdOwners(KernelIdImage.newBuilder().setKernelName(sessions.ids.idOwners[id]).setKernelId(id)
                        .setTidPrefix(sessions.ids.idPrefixes[id]));
            }
        }
        b.setNeverUsedId(sessions.ids.neverUsed);
        sessions.ids.quarantine.forEach((id, until) -> b.addQuarantine(QuarantinedId.newBuilder().setKernelId(id)
                .setUntilNanos(until)));
        b.addAllFreeIds(sessions.ids.freeIds);
        sessions.leases.deadSessions.stream().sorted().forEach(b::addDeadSessions);
        sessions.prefixes.died.forEach((prefix, name) -> b.addDiedPrefixes(KernelIdImage.newBuilder()
                .setKernelName(name).setKernelId(prefix)));
    }

    private SessionImage session(KernelSession s) {
        if (!s.outbox.isEmpty()) {
            throw new IllegalStateException(s + " has messages waiting for the store; a snapshot is taken only "
                    + "between inputs of a core whose store effects are synchronous");
        }
        SessionImage.Builder b = SessionImage.newBuilder().setId(s.id).setKernelId(s.kernelId)
                .setLastHeardNanos(s.lastHeard).setBroken(s.broken).setHelloSeen(s.helloSeen)
                .setHeldInGrace(s.heldInGrace).setReceived(s.received).setResumable(s.resumable)
                .setExtendedSinceHeard(s.extendedSinceHeard).setTidPrefix(s.tidPrefix)
                .setAnswerWatched(s.answerWatched).setReclaimBootNonce(s.reclaimBootNonce)
                .setReclaimAttempt(s.reclaimAttempt);
        if (s.answeredAny) {
            b.setLastAnsweredNanos(s.lastAnswered).setLastAnsweredAskedNanos(s.lastAnsweredAsked);
        }
        if (s.kernelName != null) {
            b.setKernelName(s.kernelName);
        }
        if (s.directory != null) {
            b.setDirectory(s.directory.proto);
        }
        if (s.peer != null) {
            b.setPeer(s.peer);
        }
        s.objects.forEach((id, o) -> b.addObjects(ObjectBinding.newBuilder().setObjectId(id).setName(o.name())));
        s.retiredIds.forEach((id, o) -> b.addRetired(ObjectBinding.newBuilder().setObjectId(id).setName(o.name())));
        new java.util.TreeMap<>(s.refusedReturns).forEach((object, pages) -> pages.forEach((offset, why) ->
                b.addRefusedReturns(io.machxp.proto.snapshot.RefusedReturn.newBuilder().setObject(object)
                        .setOffset(offset).setWhy(why))));
        s.refusedOverflow.stream().sorted().forEach(b::addRefusedOverflow);
        s.held.forEach(key -> b.addHeld(ref(key)));
        s.queued.forEach(key -> b.addQueued(ref(key)));
        s.releasedWhileWriting.forEach(key -> b.addReleasedWhileWriting(ref(key)));
        s.features.stream().sorted().forEach(b::addFeatures);
        if (s.replay != null) {
            ReplayLog r = s.replay;
            b.setReplay(ReplayImage.newBuilder().setToken(r.token).setAttempt(r.attempt).setSent(r.sent)
                    .addAllKept(r.kept).setOverflowed(r.overflowed).setOverflowedAt(r.overflowedAt));
        }
        return b.build();
    }

    private FutexImage futex(FutexRecord f) {
        FutexImage.Builder b = FutexImage.newBuilder().setKey(ref(f.key)).setArrivals(f.queue.arrivals())
                .setRelinquishSent(f.relinquishSent).setRelinquishPriority(f.relinquishPriority)
                .setLastHolder(f.lastHolder).addAllReleasedPages(f.releasedPages).setToken(f.token)
                .setGrantedNanos(f.grantedNanos).setOwnerDied(f.ownerDied).setGrantOwnerDied(f.grantOwnerDied)
                .setTryAsked(f.tryAsked).setHandoff(f.handoff).addAllDiedKernelIds(f.diedKernelIds)
                .setZeroWordClean(f.zeroWordClean).setAskedBack(f.askedBack).setStaleHeirTid(f.staleHeirTid)
                .setDeathUntold(f.deathUntold);
        if (f.keptWhenAsked) {
            b.setKeptWhenAskedNanos(f.keptWhenAskedNanos);
        }
        if (f.holder != null) {
            b.setHolder(id(f.holder));
        }
        if (f.lastHolderName != null) {
            b.setLastHolderName(f.lastHolderName);
        }
        f.queue.forEachWaiter((s, priority, arrival, since) -> {
            FutexWaiter.Builder w = FutexWaiter.newBuilder().setSession(id(s)).setPriority(priority).setArrival(arrival);
            if (since != FutexQueue.UNKNOWN) {
                w.setSince(since);
            }
            b.addWaiters(w);
        });
        f.tries.forEach(s -> b.addTries(id(s)).addTryPriorities(f.tries.priorityOf(s)));
        if (f.tryAsked) {
            b.setTryAskedNanos(f.tryAskedNanos).setTryAskedPriority(f.tryAskedPriority);
        }
        return b.build();
    }

    /** The pages of a store in memory, and the holders' journal it keeps. */
    private void writeStore(PagerSnapshot.Builder b) {
        for (String name : core.catalog.names()) {
            if (core.catalog.get(name).hasStaged()) {
                throw new IllegalStateException("memory object '" + name + "' has pages the store has not written; "
                        + "a snapshot is taken only between inputs of a core whose store effects are synchronous");
            }
        }
        PageStore store = core.catalog.store();
        if (store instanceof MemoryPageStore memory) {
            memory.forEachPage((object, offset, data, version) -> b.addStoredPages(StoredPage.newBuilder()
                    .setObject(object).setOffset(offset).setData(com.google.protobuf.ByteString.copyFrom(data))
                    .setVersion(version)));
        }
        for (PageStore.Holder h : store.holders()) {
            b.addStoreHolders(JournalEntry.newBuilder().setKey(FutexRef.newBuilder().setObject(h.object())
                    .setOffset(h.offset())).setKernel(h.kernel()));
        }
    }

    /** A pending timer as data, or null if it would do nothing when due. */
    private TimerImage timer(CoreTimers.Pending p) {
        TimerImage.Builder b = TimerImage.newBuilder().setDueNanos(p.due());
        CoreTimers.Timer t = p.timer();
        if (t instanceof CoreTimers.LeaseCheck l) {
            return current(l.session()) ? b.setLeaseCheck(l.session().id).build() : null;
        } else if (t instanceof CoreTimers.ForgetDead d) {
            return b.setForgetDead(d.sessionId()).build();
        } else if (t instanceof CoreTimers.GraceEnd) {
            return b.setGraceEnd(true).build();
        } else if (t instanceof CoreTimers.AnswerCheck a) {
            return current(a.session()) ? b.setAnswerCheck(a.session().id).build() : null;
        } else if (t instanceof CoreTimers.AskBack) {
            return b.setAskBack(true).build();
        }
        CoreTimers.GrantLeaseEnd g = (CoreTimers.GrantLeaseEnd) t;
        FutexRecord f = g.futex();
        boolean live = f.holder != null && f.token == g.token() && futexes.records().get(f.key) == f;
        return live ? b.setGrantLeaseEnd(GrantLeaseEnd.newBuilder().setKey(ref(f.key)).setToken(g.token())).build()
                : null;
    }

    /** Whether the session is the core's under its id (not one forgotten, or left behind by a resume). */
    private boolean current(KernelSession s) {
        return sessions.get(s.id) == s;
    }

    /** A reference to a session the core has: its id. */
    private long id(KernelSession s) {
        if (!current(s)) {
            throw new IllegalStateException("the core's state names " + s + " (stream " + s.id + "), which it no "
                    + "longer has");
        }
        return s.id;
    }

    static FutexRef ref(FutexKey key) {
        return FutexRef.newBuilder().setObject(key.object()).setOffset(key.offset()).build();
    }
}
