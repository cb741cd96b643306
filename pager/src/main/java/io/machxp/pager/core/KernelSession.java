package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.object.MemoryObject;
import java.util.Map;
import java.util.Set;

/**
 * One kernel's XP session with the pager (one Connect stream): the objects it initialized, under
 * its own object ids, its lease, and the futexes it holds or waits for (the pages it holds are in
 * {@link io.machxp.pager.page.PageCoherence}). Pager core thread only.
 */
public final class KernelSession {
    /** The stream the session is on now (it changes when the kernel resumes it on a new one). */
    public long id;
    public String kernelName;
    public int kernelId;
    /**
     * The high bits of its kernel's TIDs: its hello's tid_prefix (the id its primary pager gave
     * it), else {@link #kernelId} ({@link TidPrefixes}). Replicated state: in the snapshot.
     */
    public int tidPrefix;
    /**
     * The kernel's pager directory as its hello stated it (xp-spec 2.8), or null if it stated none
     * ({@link DirectoryViews}): one {@link StatedView} for every open session that stated the same
     * ({@link StatedViews#state} sets it). Replicated state: its stated form in the snapshot (hellos
     * are decided from it), parsed again on restore.
     */
    StatedView directory;
    /**
     * The peer its stream comes from ({@code CallerPeer}, as {@code ClientPeer}'s text), or null:
     * none (the simulator's, a test's). Its view counts to that peer's share ({@link ViewShares});
     * a resume moves it to the new stream's peer. Replicated state: in session_opened and the
     * snapshot.
     */
    String peer;
    /** By its id for each; in the order initialized ({@link #objectIdOf} finds the first). */
    public final Map<Integer, MemoryObject> objects = new java.util.LinkedHashMap<>();
    /**
     * Ids the kernel terminated while another of its ids still named the object (XP spec 5.3):
     * a relinquish or lock_request the pager sent under such an id may cross the terminate, so the
     * kernel's answers under it (futex_released, futex_held, lock_completed, data_return) are still
     * taken as naming the object, until the kernel initializes the id again (whatever the answer) or terminates the
     * object's last id. The oldest goes past {@code MAX_RETIRED_IDS}. Replicated state: in the snapshot,
     * in this order.
     */
    public final Map<Integer, MemoryObject> retiredIds = new java.util.LinkedHashMap<>();
    public static final int MAX_RETIRED_IDS = 1024;

    /** The object an answer under {@code objectId} names: an initialized id, or one just retired. */
    public MemoryObject objectOfAnswer(int objectId) {
        MemoryObject o = objects.get(objectId);
        return o != null ? o : retiredIds.get(objectId);
    }

    /** The futexes it holds, in the order granted (rotated by the ask-back rounds), indexed by object. */
    public final FutexKeySet held = new FutexKeySet();
    /**
     * Futexes it gave back (futex_released) while it kept their page writable, by object and
     * offset, each until it gives that page up (return, flush, downgrade, its death: the core's
     * {@code DeathRecorder#writerGone}). Its thread may have unlocked the word in its copy only,
     * the pager's copy still naming that thread, and the futex's record is pruned if nobody
     * waits: if the kernel dies, the revert of its pages judges these words too
     * ({@code DeathRecorder#revertingWriter}; chaos --mix contended seed 474). Bounded by the
     * session's futex quota ({@code ReleasedMarks}: past it the pages of the first are asked back);
     * the holders' journal entry of each names the kernel while it is marked, so a pager restart
     * loses none. Replicated state: in the snapshot.
     */
    public final java.util.NavigableSet<FutexKey> releasedWhileWriting = new java.util.TreeSet<>(FutexRecords.KEY_ORDER);
    /** The futexes it waits for, indexed by object. */
    public final FutexKeySet queued = new FutexKeySet();
    /** Its lock_futex requests parked at the pager's bound on futex records (FutexParking): they count as queued. */
    public int parked;
    /**
     * Dirty returns of this session the pager did not take (stale or out of range, XP spec 7.3),
     * by object name and page offset, with the sentence saying why: the next synchronize of a range
     * holding such a page answers with that error (spec 6.9), and a later return of the page that
     * is taken clears it. At most {@link #MAX_REFUSED_RETURNS} pages are named; past that the object
     * is in {@link #refusedOverflow} and every synchronize of it answers with an error until one
     * covers the whole object. Replicated state: in the snapshot, so a new leader answers such a
     * synchronize as the old one would have.
     */
    public final Map<String, java.util.NavigableMap<Long, String>> refusedReturns = new java.util.HashMap<>();
    public final Set<String> refusedOverflow = new java.util.HashSet<>();
    public static final int MAX_REFUSED_RETURNS = 1024;

    /** Notes a dirty return of page {@code offset} of {@code object} that was not taken, and why. */
    public void noteRefusedReturn(String object, long offset, String why) {
        java.util.NavigableMap<Long, String> pages = refusedReturns.get(object);
        if (pages != null && pages.containsKey(offset)) {
            pages.put(offset, why);
            return;
        }
        int count = 0;
        for (java.util.NavigableMap<Long, String> m : refusedReturns.values()) {
            count += m.size();
        }
        if (count >= MAX_REFUSED_RETURNS) {
            refusedOverflow.add(object);
            return;
        }
        refusedReturns.computeIfAbsent(object, n -> new java.util.TreeMap<>()).put(offset, why);
    }

    /** A later return of the page was taken: the kernel's newer data is the pager's copy. */
    public void clearRefusedReturn(String object, long offset) {
        java.util.NavigableMap<Long, String> pages = refusedReturns.get(object);
        if (pages != null && pages.remove(offset) != null && pages.isEmpty()) {
            refusedReturns.remove(object);
        }
    }

    /** What its kernel_hello said it understands of Mach's optional routines (XP spec 6.10-6.12). */
    public final Set<String> features = new java.util.HashSet<>();
    /** When the pager last heard from the kernel (its env's clock): the lease runs from here. */
    public long lastHeard;
    /**
     * A new leader's takeover extended the lease since the kernel was last heard: the next takeover
     * does not, so leader changes more often than every lease cannot keep a dead kernel forever
     * ({@code LeaderTakeover}). Replicated state: in the snapshot.
     */
    public boolean extendedSinceHeard;
    /**
     * A check of its answers' deadline is pending ({@link AnswerDeadlines}): it may owe an answer.
     * Replicated state: in the snapshot.
     */
    public boolean answerWatched;
    /** The requests it owes an answer to, oldest first ({@link AnswerDeadlines}); not in the snapshot (rebuilt). */
    final OwedAnswers owed = new OwedAnswers();
    /**
     * It has answered something the pager asked of it (an awaited request, {@link AnswerDeadlines}):
     * then {@link #lastAnswered} and {@link #lastAnsweredAsked} say when. In the snapshot.
     */
    public boolean answeredAny;
    /** When it last answered (or progressed on) an awaited request, on its env's clock. */
    public long lastAnswered;
    /**
     * When that request went out: the answer counts for the requests sent with it or after it,
     * which a kernel answering in order has not reached yet, never for one sent before it.
     */
    public long lastAnsweredAsked;
    /** The stream ended while the kernel held something: it keeps it until its lease ends. */
    public boolean broken;
    /** Forgotten: its stream ended without a lease, its lease ended, or it was declared dead. */
    public boolean gone;
    /** A kernel_hello has arrived on this session (welcomed or not yet: grace may hold it). */
    public boolean helloSeen;
    /** Messages of this session held until the grace period after a pager restart ends. */
    public int heldInGrace;
    /** The bytes (serialized) of the messages of this session held until grace ends. */
    public long heldBytes;
    /**
     * Of {@link #heldBytes}, those held while the session was not welcomed yet: they count under
     * the bound for all sessions together (a reclaimed kernel's count under its own bound only).
     */
    public long heldBytesUnwelcomed;
    /**
     * A reclaim in parts whose last part has not come yet (xp-spec 9.4): null otherwise. Never in a
     * replicated pager's state (its core takes no reclaim and refuses one at its first part).
     */
    ReclaimParts reclaimParts;
    /**
     * Messages to the kernel waiting for a store write before them (a grant waits for the holders'
     * journal): sent in order as each is ready. Empty: messages go out at once.
     */
    public final java.util.ArrayDeque<Outgoing> outbox = new java.util.ArrayDeque<>();

    /** A message in the outbox; {@code ready} once what it waits for is on disk. */
    /** While {@link #outbox} is not empty: when a message first waited in it (for the store). */
    public long outboxBlockedSince;
    /**
     * The last time the outbox emptied after messages waited in it, and since when they had
     * waited: a request asked in between went on the wire then (the answer deadline counts from
     * there, xp-spec 4.8).
     */
    public long outboxFlushedAt;
    public long outboxFlushedFrom = Long.MAX_VALUE;

    public static final class Outgoing {
        public final io.machxp.proto.xp.PagerToKernel message;
        public boolean ready;

        public Outgoing(io.machxp.proto.xp.PagerToKernel message, boolean ready) {
            this.message = message;
            this.ready = ready;
        }
    }

    /** Messages received from the kernel after its kernel_hello, on any stream of the session. */
    long received;
    /** The kernel_hello said the kernel may resume the session on a new stream. */
    boolean resumable;
    /** What the session keeps for a resume on a new stream ({@link PagerResume}); null: not resumable. */
    ReplayLog replay;
    /**
     * The boot_nonce and attempt of the reclaim that welcomed the session (0 if none): a reclaim
     * again must come from the same boot with a greater attempt ({@link ReclaimRetry}). In
     * snapshots (SessionImage), so that replicas judge a reclaim again alike. Whether the session
     * was welcomed by a reclaim in the grace period that still runs is not kept: in grace every
     * welcomed session is (hellos wait for its end, a resume only moves a session), so it is
     * {@code inGrace && welcomed()} (review F6 of reclaim-retry).
     */
    long reclaimBootNonce;
    long reclaimAttempt;

    /** This session as published for the leader's XP thread ({@link FutexHolderMap}); null: not published. Not replicated. */
    FutexHolderMap.Session published;

    public KernelSession(long id) {
        this.id = id;
    }

    /** The id under which this kernel knows an object; it must have initialized it. */
    public int objectIdOf(String objectName) {
        for (Map.Entry<Integer, MemoryObject> e : objects.entrySet()) {
            if (e.getValue().name().equals(objectName)) {
                return e.getKey();
            }
        }
        throw new IllegalStateException(this + " has not initialized '" + objectName + "'");
    }

    /** Whether it initialized the object (and has not terminated it). */
    public boolean hasObject(String objectName) {
        return objects.values().stream().anyMatch(o -> o.name().equals(objectName));
    }

    public boolean welcomed() {
        return kernelId != 0;
    }

    @Override
    public String toString() {
        return kernelName == null ? "session " + id : "kernel " + kernelName;
    }
}
