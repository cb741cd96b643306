package io.machxp.kernel.core;

import static io.machxp.kernel.futex.FutexWord.isAbsent;
import static io.machxp.kernel.futex.FutexWord.owner;

import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.futex.FutexWaiter;
import io.machxp.kernel.share.PeerShares;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.Errno;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The futexes a kernel holds from its pagers on behalf of the tasks clients created over gRPC,
 * shared among the clients' peers by the rule of {@link PeerShares} (port names, tasks, threads,
 * mappings, queued message bytes): all peers together at most the remote pool, 7/8 of the
 * kernel's cache bound ({@link io.machxp.kernel.policy.FutexPolicy#maxCachedFutexes}), one peer
 * at most an eighth of the pool and no more than is still free to peers. Futexes of tasks without
 * a peer (in-process tasks, the simulator's) count to nobody here; the cache bound's trim
 * ({@link FutexCacheBound}) keeps their idle ones in check. Before (review rv58 MED-3), one client
 * could make the kernel hold any number (a thread locking futexes on many pages and never
 * unlocking), up to the pager's per-session quota of 262,144, at which the pager ends the
 * kernel's whole session, every other client's futexes and tasks with it.
 *
 * <h2>What counts: a futex asked for or held for a task</h2>
 * The fast path's lock and unlock (one CAS, here or in a task process's shared table) tell the
 * core nothing, so who owns a cached futex is not counted as it changes; what is counted is the
 * one thing that costs the kernel and its pager: a futex it asks for and holds. A futex is
 * <em>charged</em> to the task of the thread whose lock makes the kernel ask the pager for it
 * ({@link #admit}, then {@link #charge}: lock_futex or its try sent), and stays charged while the
 * kernel asks for it or holds it, idle or not, until it goes:
 * <pre>
 *  lock/trylock of an ABSENT futex, nothing asked  peer below its share: charged, asked for
 *                                                   at its share: a few of the peer's futexes looked at
 *                                                   (below); still at it: EAGAIN naming the peer
 *  futex_released (any reason: trim, relinquish,   given back, unless asked for again inside it
 *    an unlock to the pager, shutdown)              (local waiters: still charged)
 *  futex_busy, no waiter left to ask again          given back
 *  pager lost (the futex forgotten)                 given back
 *  the charged task ends (its threads' futexes      moved to the task of the thread that now owns it,
 *    passed on: OWNER_DIED, or a woken heir)         or whose lock waits for it first; else given back
 *                                                   (the futex stays cached, counted to nobody)
 * </pre>
 * So a thread's end gives nothing back by itself: what it owned passes on (robust futexes) and,
 * idle, goes at the next look below or at the trim; a peer's disconnect ends its watched tasks
 * (their charges go as above); a dead kernel's counts die with its core.
 *
 * <h2>A look before a refusal, so idle futexes never hold a peer back</h2>
 * A peer at its share may hold many futexes nobody uses any more (unlocked on the fast path and
 * kept, xp-spec 8.2). Before refusing, the kernel looks at up to {@link #LOOKS_PER_REFUSAL} of
 * the peer's futexes, oldest look first: an idle one goes back to its pager (futex_released),
 * one owned by a thread of another task has its charge moved to that task (charges follow
 * owners: a task that took over futexes another task asked for holds them as its own), and one
 * in use goes to the end of the line. So a peer whose futexes are idle gets a new one at the cost
 * of a few looks, and one that owns its share is refused after a few looks (O(1) per lock).
 * Nothing of this is on the fast path: an uncontended lock of a cached futex costs what it did.
 *
 * <p>Core thread only.
 */
final class FutexShares {
    /** A peer's futexes looked at, at most, before one of its locks is refused. */
    static final int LOOKS_PER_REFUSAL = 8;

    private final KernelCore core;
    private final FutexCacheBound cache;
    private final PeerShares shares;
    /** The charged futexes of each peer holding some, longest unlooked-at first. */
    private final Map<Object, LinkedHashSet<FutexEntry>> byPeer = new HashMap<>();
    /** The charged futexes of each task holding some (found at its end). */
    private final Map<MachTask, LinkedHashSet<FutexEntry>> byTask = new HashMap<>();

    FutexShares(KernelCore core, FutexCacheBound cache, int max) {
        this.core = core;
        this.cache = cache;
        this.shares = new PeerShares(max);
    }

    /**
     * Null if a thread of {@code task} may make the kernel ask for one more futex; else EAGAIN
     * with a sentence naming its peer, what it holds and its share. A peer at its share first has
     * a few of its futexes looked at (idle: given back; owned by another task's thread: moved).
     */
    KernelError admit(MachTask task) {
        Object peer = task.peer;
        if (!shares.atShare(peer)) {
            return null;
        }
        LinkedHashSet<FutexEntry> line = byPeer.get(peer);
        for (int n = 0; n < LOOKS_PER_REFUSAL && line != null && !line.isEmpty() && shares.atShare(peer); n++) {
            FutexEntry e = line.iterator().next();
            line.remove(e);
            line.add(e); // to the end; whatever follows may take it out
            look(e);
            line = byPeer.get(peer);
        }
        if (!shares.atShare(peer)) {
            return null;
        }
        return KernelError.of(Errno.EAGAIN, "client peer %s (all its connections together) holds %d futexes on kernel "
                + "%s (asked of its pagers for its tasks' threads and not given back yet), its share: a peer holds at "
                + "most an eighth of the %d futexes clients may hold together (%d), and no more than are still free to "
                + "them (%d); unlock futexes its threads no longer need (a lock at the share first gives back idle ones, "
                + "up to %d looked at per lock), or end the threads and tasks that hold them; other peers and in-process "
                + "tasks still lock", peer, shares.usedBy(peer), core.name(), shares.pool(), shares.peerMax(),
                shares.remoteFree(), LOOKS_PER_REFUSAL);
    }

    /** The kernel asks for {@code e} (ABSENT, nothing asked) for a thread of {@code task}: counted to its peer. */
    void charge(FutexEntry e, MachTask task) {
        if (task.peer == null || e.chargedTask != null) {
            return;
        }
        e.chargedTask = task;
        shares.taken(task.peer);
        byPeer.computeIfAbsent(task.peer, p -> new LinkedHashSet<>()).add(e);
        byTask.computeIfAbsent(task, t -> new LinkedHashSet<>()).add(e);
    }

    /**
     * {@code e} may have left: given back if the kernel neither holds it (ABSENT) nor asks for it.
     * Called where a futex leaves or a request ends without a grant.
     */
    void mayHaveLeft(FutexEntry e) {
        if (e.chargedTask != null && isAbsent(e.state()) && e.request == FutexEntry.Request.NONE) {
            uncharge(e);
        }
    }

    /**
     * {@code task} ended, its threads first (what they owned has passed on): each futex charged
     * to it moves to the task of the thread that owns it now, or whose lock waits for it first,
     * and is given back if there is none (it stays cached, counted to nobody, until the trim or
     * its pager takes it).
     */
    void taskEnded(MachTask task) {
        LinkedHashSet<FutexEntry> charged = byTask.get(task);
        if (charged == null) {
            return;
        }
        for (FutexEntry e : new ArrayList<>(charged)) {
            MachTask next = nextHolder(e, task);
            uncharge(e);
            if (next != null && !(isAbsent(e.state()) && e.request == FutexEntry.Request.NONE)) {
                charge(e, next);
            }
        }
    }

    /** What all peers hold together (the chaos rule and tests: 0 once every task of a peer ended). */
    int heldByPeers() {
        int n = 0;
        for (LinkedHashSet<FutexEntry> s : byPeer.values()) {
            n += s.size();
        }
        return n;
    }

    /** What {@code peer} holds. */
    int heldBy(Object peer) {
        return shares.usedBy(peer);
    }

    /** One peer's share (tests). */
    int peerMax() {
        return shares.peerMax();
    }

    /** The futexes charged now, with their tasks (invariant checks). */
    List<FutexEntry> charged() {
        List<FutexEntry> all = new ArrayList<>();
        byPeer.values().forEach(all::addAll);
        return all;
    }

    private void look(FutexEntry e) {
        long s = e.state();
        if (isAbsent(s) && e.request == FutexEntry.Request.NONE) {
            uncharge(e); // (never: every path that leaves it so gives it back)
            return;
        }
        MachThread o = !isAbsent(s) && owner(s) != 0 ? core.tasks.livingThread(owner(s)) : null;
        if (o != null && o.task != e.chargedTask) {
            uncharge(e);
            charge(e, o.task); // charges follow owners (a task without a peer: counted to nobody)
            return;
        }
        cache.giveBackIfIdle(e); // futex_released: given back through mayHaveLeft
    }

    /** Who holds {@code e} once {@code ended} is gone: its owner's task, else its first waiter's; null: nobody. */
    private MachTask nextHolder(FutexEntry e, MachTask ended) {
        long s = e.state();
        if (!isAbsent(s) && owner(s) != 0) {
            MachThread o = core.tasks.livingThread(owner(s));
            if (o != null && o.task != ended) {
                return o.task;
            }
        }
        if (e.heir != null && e.heir.thread.task != ended && e.heir.thread.alive) {
            return e.heir.thread.task;
        }
        for (Iterator<FutexWaiter> it = e.waiters.iterator(); it.hasNext(); ) {
            FutexWaiter w = it.next();
            if (w.thread.task != ended && w.thread.alive) {
                return w.thread.task;
            }
        }
        return null;
    }

    private void uncharge(FutexEntry e) {
        MachTask task = e.chargedTask;
        e.chargedTask = null;
        shares.given(task.peer);
        remove(byPeer, task.peer, e);
        remove(byTask, task, e);
    }

    private static <K> void remove(Map<K, LinkedHashSet<FutexEntry>> map, K key, FutexEntry e) {
        LinkedHashSet<FutexEntry> s = map.get(key);
        if (s != null && s.remove(e) && s.isEmpty()) {
            map.remove(key);
        }
    }
}
