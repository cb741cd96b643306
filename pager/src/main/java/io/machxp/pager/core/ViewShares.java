package io.machxp.pager.core;

import java.util.HashMap;
import java.util.Map;

/**
 * The stated views' bytes ({@link StatedViews}) shared among the peers the sessions come from
 * (rv58-review MED-2: one peer's 9 sessions stated distinct views up to the 32 MiB, and every
 * kernel whose view no open session stated, 2 bytes, was refused EAGAIN for as long as they kept
 * alive). The rule is the one the kernel shares its port names, tasks, threads and mappings among
 * its clients' peers by (the kernel's {@code PeerShares}), in bytes of views.
 *
 * <h2>The rule</h2>
 * A session's peer is its stream's ({@code CallerPeer}: its host, and its certificate with mutual
 * TLS; all the kernels of one host in plaintext are one peer), or none (the simulator's sessions,
 * a test's core). The pager keeps at most {@code max} bytes of distinct views in all. Of them:
 * <ul>
 * <li>the peers' pool, {@link #pool}: all but a {@link #RESERVE_SHARES}th of {@code max}, what the
 *     views stated by sessions with a peer take together (each view once, whatever the peers
 *     that state it); the rest is kept for sessions without a peer;
 * <li>a peer holds the distinct views its open sessions state (a view two peers state is held
 *     by both). It may state a view it does not hold yet only if that keeps what it holds within
 *     its share, {@link #peerMax} (a {@link #PEER_SHARES}th of the pool), or it holds none (one
 *     view, whatever its size: a hello carries at most 4 MiB, a little more than the 3.5 MiB share
 *     at the default bound, and a kernel's directory is refused for its size by nothing else);
 *     and, if no peer states the view yet (it would take more of the pool), while it holds less
 *     than the pool has free and the view fits in what is free.
 * </ul>
 * As with {@code PeerShares}, the share is fixed: a peer holds at most its share or one view
 * (4 MiB), so that it takes seven peers to fill the 28 MiB pool, and a peer holding nothing
 * states a view of up to 4 MiB beside six that took all they could. A view a peer holds already
 * (another of its kernels states it) costs it nothing. A resume's or a reclaim's hello is taken past every
 * bound ({@link StatedViews}), and its view counts to its peer all the same.
 *
 * <p>States: a peer holds nothing (absent) or some views ({@link Held}); {@link #stated} and
 * {@link #unstated} move a session's peer in and out of a view, with {@link StatedView#peers}
 * counting that peer's sessions stating it. Derived state, as the views: rebuilt from the
 * sessions' peers and views on restore. Pager core thread only.
 */
final class ViewShares {
    /** This fraction of the views' bytes is kept for sessions without a peer; peers share the rest. */
    static final int RESERVE_SHARES = 8;
    /** One peer may take this fraction of the peers' pool (or one view). */
    static final int PEER_SHARES = 8;

    /** What one peer holds: the bytes and the number of the distinct views its sessions state. */
    static final class Held {
        long bytes;
        int views;
    }

    private final long max;
    /** The bytes of the live views some session with a peer states, each once. */
    private long remote;
    /** By peer, what it holds (only peers holding some). */
    private final Map<String, Held> byPeer = new HashMap<>();

    ViewShares(long max) {
        this.max = max;
    }

    /** What all peers together may hold: all but a RESERVE_SHARES-th of the bound. */
    long pool() {
        return max - max / RESERVE_SHARES;
    }

    /** What one peer may hold (or one view, {@link #refusal}): a PEER_SHARES-th of the pool. */
    long peerMax() {
        return Math.max(1, pool() / PEER_SHARES);
    }

    /** What the pool has free, as far as the pool and the bound ({@code used} of it taken) go. */
    long remoteFree(long used) {
        return Math.max(0, Math.min(pool() - remote, max - used));
    }

    /** The bytes of the views peers state (each once). */
    long remote() {
        return remote;
    }

    /** What {@code peer} holds, or null: nothing. */
    Held of(String peer) {
        return byPeer.get(peer);
    }

    /**
     * Why {@code peer} may not state {@code v} (not null: a session with a peer), a sentence
     * (EAGAIN), or null. {@code live}: the pager keeps {@code v} already; {@code used}: the bytes
     * of all views kept.
     */
    String refusal(String peer, StatedView v, boolean live, long used, String kernelName, String pager) {
        if (live && v.peers.containsKey(peer)) {
            return null; // it holds it already: nothing more
        }
        Held h = byPeer.get(peer);
        long held = h == null ? 0 : h.bytes;
        int views = h == null ? 0 : h.views;
        boolean inPool = live && !v.peers.isEmpty();
        long free = remoteFree(used);
        if (held > 0 && held + v.bytes > peerMax()) {
            return "the kernels of peer " + peer + " (one host, all its connections together) state " + views
                    + " distinct pager directories at pager " + DirectoryViews.shownPager(pager) + ", " + held
                    + " bytes, and another of " + v.bytes + " bytes would take them past the peer's share ("
                    + peerMax() + " bytes, an eighth of the " + pool() + " bytes the pager keeps for all peers): "
                    + "kernel '" + kernelName + "' stated it. Kernels given the same --pager list and --object-pagers state the same one "
                    + "(docs/multi-pager.md); give that host's kernels one directory, or connect again once its "
                    + "kernels with other directories have left";
        }
        if (!inPool && (held >= free || v.bytes > free)) {
            return "the kernels of pager " + DirectoryViews.shownPager(pager) + "'s peers state distinct pager "
                    + "directories of " + remote + " bytes, and " + free + " bytes of the " + pool() + " it keeps for "
                    + "them are free (peer " + peer + " holds " + views + " of them, " + held + " bytes): kernel '"
                    + kernelName + "' stated another, of " + v.bytes + " bytes. Kernels given the same --pager "
                    + "list and --object-pagers state the same one (docs/multi-pager.md); connect again once the "
                    + "kernels with other directories have left";
        }
        return null;
    }

    /** A session of {@code peer} states {@code v} (live, kept): the peer holds it. */
    void stated(String peer, StatedView v) {
        int sessions = v.peers.merge(peer, 1, Integer::sum);
        if (sessions > 1) {
            return;
        }
        if (v.peers.size() == 1) {
            remote += v.bytes;
        }
        Held h = byPeer.computeIfAbsent(peer, p -> new Held());
        h.bytes += v.bytes;
        h.views++;
    }

    /** A session of {@code peer} no longer states {@code v}: its last one gives it back. */
    void unstated(String peer, StatedView v) {
        Integer sessions = v.peers.get(peer);
        if (sessions == null) {
            return;
        }
        if (sessions > 1) {
            v.peers.put(peer, sessions - 1);
            return;
        }
        v.peers.remove(peer);
        if (v.peers.isEmpty()) {
            remote -= v.bytes;
        }
        Held h = byPeer.get(peer);
        h.bytes -= v.bytes;
        if (--h.views == 0) {
            byPeer.remove(peer);
        }
    }
}
