package io.machxp.kernel.net;

import io.machxp.kernel.ipc.NameOwner;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The create tokens a kernel remembers (task.proto's {@code create_token}): what a TaskCreate,
 * ThreadCreate or VmMap with a client-chosen token made, so that a client that gave up on the call
 * before its answer reached it can settle it afterwards, as a given-up lock is settled by its
 * {@code lock_seq} (review rv59 MED-1a: a reply on its way when the client's deadline passed left
 * a task nobody could name; the server, having answered OK, saw no cancel).
 *
 * <pre>
 *   (unknown) --create with token--> MAKING (one create at a time: a vm_map may wait for its object)
 *   MAKING    --create with token--> (joins: runs again once the first is settled, making nothing meanwhile)
 *   MAKING    --made---------------> MADE(handle | tid | mapping) --retry with token--> the same answer, nothing made
 *   MAKING    --failed-------------> (forgotten: the joined retries make anew)
 *   MAKING    --abandon token------> ABANDONED (what is being made is stopped, or undone as it is made)
 *   (unknown) --abandon token------> ABANDONED               --create with token--> EINTR, nothing made
 *   MADE      --abandon token------> ABANDONED (the caller ends what was made)
 *   MADE      --its call cancelled--> (forgotten: GivenUpCreates undid it; a retry makes anew), unless a
 *                                     retry was answered what it made (kept: that caller holds it)
 *   MADE, ABANDONED --past the bound--> (forgotten: a retry makes anew, an abandon finds nothing)
 *   MADE, ABANDONED --its call cancelled after an abandon--> (kept ABANDONED: the abandon ended what it made,
 *                                     the undo ends nothing; a late retry still gets EINTR)
 * </pre>
 *
 * Before, a retry that arrived while its first create was still under way found no token and
 * made a second one (closing-s60: the window was open for a vm_map waiting for
 * memory_object_ready; task and thread creates are made in one step of the core thread).
 *
 * <p>A token is scoped by the peer of the caller's connection (its host and certificate: a reconnect
 * keeps it, another host cannot use it), by what it creates ({@link Kind}) and, for a thread or a
 * mapping, by the task's handle. The bound: the {@link #PER_PEER} most recent tokens of each peer
 * and {@link #ALL_PEERS} of all peers together, about 100 bytes each. Past the global bound the peer
 * holding the most tokens gives its oldest settled one, never a peer holding no more than its fair
 * part ({@code ALL_PEERS} / peers): before, the least recently active peer's oldest went, so 16
 * peers abandoning 4,096 tokens they never used (which costs them nothing) evicted another peer's
 * MADE token, whose task its late abandon then could not end (review rv60 LOW-3). A token still
 * MAKING is never dropped (those are bounded by the calls in flight).
 *
 * <p>Creates, retries, abandons and the undo of a given-up thread create or vm_map run on the
 * kernel's core thread (their cancel handlers hand the undo to the core: review rv60 INFO-2); the
 * undo of a given-up task create runs on the transport's thread, so that the handle is withdrawn
 * before the cancel returns: the lock orders it with the rest, and {@code handles.revoke} ends
 * the task once. Joined retries are
 * run outside the lock, by whoever settled the token ({@code again} hands them to the core).
 */
final class CreateTokens {
    /** Tokens remembered per peer. */
    static final int PER_PEER = 4096;
    /** Tokens remembered over all peers. */
    static final int ALL_PEERS = 1 << 16;

    /** What a token creates: its own name space (a thread's token and a mapping's may be equal). */
    enum Kind { TASK, THREAD, MAPPING }

    /**
     * What a token made: a task's handle or a thread's TID in {@code made}, or a mapping in
     * {@code what}; with {@code abandoned}: nothing (any more).
     */
    record Made(long made, Object what, boolean abandoned) {}

    private record Key(Kind kind, long task, long token) {}

    /** One token: MAKING ({@code making}), MADE or ABANDONED. */
    private static final class Entry {
        Made made;
        boolean making;
        /** MADE: a retry with the token was answered what it made (its caller holds it now). */
        boolean heardByRetry;
        /** MAKING: stops what is being made when the token is abandoned (null: made in one step). */
        Runnable onAbandon;
        /** MAKING: retries that run again once it is settled. */
        List<Runnable> joined;
    }

    /** One peer's tokens, oldest first. */
    private static final class PeerTokens {
        final Object peer;
        /** Orders peers of equal size in the eviction order. */
        final long seq;
        final LinkedHashMap<Key, Entry> tokens = new LinkedHashMap<>();

        PeerTokens(Object peer, long seq) {
            this.peer = peer;
            this.seq = seq;
        }
    }

    private final Map<Object, PeerTokens> peers = new java.util.HashMap<>();
    /** The peers holding tokens, the one holding most first (each re-sorted whenever its count changes). */
    private final TreeSet<PeerTokens> byCount = new TreeSet<>((a, b) -> a.tokens.size() != b.tokens.size()
            ? Integer.compare(b.tokens.size(), a.tokens.size()) : Long.compare(a.seq, b.seq));
    private long nextSeq;
    private int size;

    /** The peer a caller ({@link CallerConnection#current}, null: in process) counts to. */
    static Object peerOf(Object caller) {
        return caller instanceof NameOwner o ? o.peer() : caller == null ? "in-process" : caller;
    }

    /**
     * A create with {@code token} while its first create is still MAKING: {@code again} runs once
     * that one is settled (made, failed or abandoned), and true is returned; false if it is not MAKING.
     */
    synchronized boolean joined(Object peer, Kind kind, long task, long token, Runnable again) {
        Entry e = entry(peer, new Key(kind, task, token));
        if (e == null || !e.making) {
            return false;
        }
        if (e.joined == null) {
            e.joined = new ArrayList<>();
        }
        e.joined.add(again);
        return true;
    }

    /** What {@code token} of {@code peer} made (task 0 for a task create), or null if not remembered or still MAKING. */
    synchronized Made find(Object peer, Kind kind, long task, long token) {
        Entry e = entry(peer, new Key(kind, task, token));
        return e == null || e.making ? null : e.made;
    }

    /**
     * A create with {@code token} begins (MAKING); {@code onAbandon} (null: none) is run if the
     * token is abandoned before it is settled.
     */
    synchronized void begin(Object peer, Kind kind, long task, long token, Runnable onAbandon) {
        Entry e = new Entry();
        e.making = true;
        e.onAbandon = onAbandon;
        put(peer, new Key(kind, task, token), e);
    }

    /**
     * Remembers that {@code token} made {@code made} (a handle or TID) or {@code what} (a
     * mapping), and runs the joined retries. False if the token was abandoned meanwhile: the caller
     * undoes what it made and answers EINTR.
     */
    boolean made(Object peer, Kind kind, long task, long token, long made, Object what) {
        List<Runnable> again;
        synchronized (this) {
            Key key = new Key(kind, task, token);
            Entry e = entry(peer, key);
            if (e != null && e.made != null && e.made.abandoned()) {
                again = settle(e);
                run(again);
                return false;
            }
            Entry done = new Entry();
            done.made = new Made(made, what, false);
            again = e == null ? null : settle(e);
            put(peer, key, done);
        }
        run(again);
        return true;
    }

    /**
     * The create with {@code token} made nothing (it failed), or what it made was undone without
     * an abandon: the token is forgotten unless abandoned (a retry makes anew), and the joined
     * retries run.
     */
    void forget(Object peer, Kind kind, long task, long token) {
        List<Runnable> again;
        synchronized (this) {
            Key key = new Key(kind, task, token);
            Entry e = entry(peer, key);
            if (e == null) {
                return;
            }
            again = settle(e);
            if (e.made == null || !e.made.abandoned()) {
                remove(peer, key);
            }
        }
        run(again);
    }

    /**
     * A retry with {@code token}: what the token made (as {@link #find}), now held by this retry's
     * caller too, so that the first caller's late give-up does not undo it
     * ({@link #releasedByGivenUp}); null if not remembered or still MAKING.
     */
    synchronized Made answerRetry(Object peer, Kind kind, long task, long token) {
        Entry e = entry(peer, new Key(kind, task, token));
        if (e == null || e.making) {
            return null;
        }
        if (!e.made.abandoned()) {
            e.heardByRetry = true;
        }
        return e.made;
    }

    /**
     * The first caller of {@code token}'s create gave up after it was made (its cancel reached the
     * kernel): true if what it made is to be undone (the token is forgotten: a retry makes anew);
     * false if a retry with the token was answered what it made, whose caller holds it now, or if
     * the token was abandoned: that abandon ended what it made, and the token stays ABANDONED (a
     * late retry gets EINTR). So what a token made is ended once, by whichever of the two comes
     * first (review rv60 INFO-2: a thread was ended twice).
     */
    boolean releasedByGivenUp(Object peer, Kind kind, long task, long token) {
        List<Runnable> again;
        synchronized (this) {
            Key key = new Key(kind, task, token);
            Entry e = entry(peer, key);
            if (e == null) {
                return true;
            }
            if (e.heardByRetry || (!e.making && e.made.abandoned())) {
                return false;
            }
            again = settle(e);
            if (e.made == null || !e.made.abandoned()) {
                remove(peer, key);
            }
        }
        run(again);
        return true;
    }

    /**
     * The caller gave up on {@code token}: remembered as abandoned from now on; returns what it
     * had made (for the caller to end), or null. A create still MAKING is stopped by its
     * {@code onAbandon} (or undone as it is made).
     */
    Made abandon(Object peer, Kind kind, long task, long token) {
        Runnable stop = null;
        Made before;
        synchronized (this) {
            Key key = new Key(kind, task, token);
            Entry e = entry(peer, key);
            before = e == null || e.making ? null : e.made;
            Made abandoned = new Made(0, null, true);
            if (e != null && e.making) {
                e.made = abandoned; // stays MAKING until its create is settled: joined retries wait for that
                stop = e.onAbandon;
                e.onAbandon = null;
            } else {
                Entry a = new Entry();
                a.made = abandoned;
                put(peer, key, a);
            }
        }
        if (stop != null) {
            stop.run();
        }
        return before == null || before.abandoned() ? null : before;
    }

    /** Tokens remembered now. */
    synchronized int size() {
        return size;
    }

    private Entry entry(Object peer, Key key) {
        PeerTokens mine = peers.get(peer);
        return mine == null ? null : mine.tokens.get(key);
    }

    /** Ends MAKING: the retries joined to it, to run outside the lock. */
    private static List<Runnable> settle(Entry e) {
        e.making = false;
        e.onAbandon = null;
        List<Runnable> again = e.joined;
        e.joined = null;
        return again;
    }

    private static void run(List<Runnable> again) {
        if (again != null) {
            again.forEach(Runnable::run);
        }
    }

    private void remove(Object peer, Key key) {
        PeerTokens mine = peers.get(peer);
        if (mine == null || !mine.tokens.containsKey(key)) {
            return;
        }
        byCount.remove(mine);
        mine.tokens.remove(key);
        size--;
        sorted(mine);
    }

    private void put(Object peer, Key key, Entry entry) {
        PeerTokens mine = peers.computeIfAbsent(peer, p -> new PeerTokens(p, nextSeq++));
        byCount.remove(mine);
        if (mine.tokens.remove(key) == null) {
            size++;
        }
        mine.tokens.put(key, entry);
        if (mine.tokens.size() > PER_PEER) {
            dropOldest(mine);
        }
        sorted(mine);
        while (size > ALL_PEERS && dropFromLargest()) {
            // the peer holding the most gives its oldest settled token
        }
    }

    /**
     * Past {@link #ALL_PEERS}: drops the oldest settled token of the peer holding the most that
     * holds more than its fair part and has a settled one; false if there is none (the rest are MAKING).
     */
    private boolean dropFromLargest() {
        int fair = ALL_PEERS / peers.size();
        for (PeerTokens p : byCount) {
            if (p.tokens.size() <= fair) {
                return false;
            }
            if (hasSettled(p)) {
                byCount.remove(p);
                dropOldest(p);
                sorted(p);
                return true;
            }
        }
        return false;
    }

    private static boolean hasSettled(PeerTokens p) {
        for (Entry e : p.tokens.values()) {
            if (!e.making) {
                return true;
            }
        }
        return false;
    }

    /** Puts {@code p} back in {@link #byCount} after its count changed (it was taken out before), or forgets it if empty. */
    private void sorted(PeerTokens p) {
        if (p.tokens.isEmpty()) {
            peers.remove(p.peer);
        } else {
            byCount.add(p);
        }
    }

    /** Drops the oldest settled token of one peer (out of {@link #byCount} meanwhile); false if every one is still MAKING. */
    private boolean dropOldest(PeerTokens p) {
        Iterator<Entry> it = p.tokens.values().iterator();
        while (it.hasNext()) {
            if (!it.next().making) {
                it.remove();
                size--;
                return true;
            }
        }
        return false;
    }
}
