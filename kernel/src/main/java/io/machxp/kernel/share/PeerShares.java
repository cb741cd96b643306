package io.machxp.kernel.share;

import java.util.HashMap;
import java.util.Map;

/**
 * What the clients of a kernel's gRPC server may make it keep of one thing (port names, tasks,
 * threads, mappings), shared among their peers by one rule, first written for port names
 * ({@code NameBudget}, review F6, gi F4, late3 A1) and used for tasks, threads and mappings since
 * review kreview HIGH-1.
 *
 * <h2>The rule</h2>
 * A kernel keeps at most {@link #max} of the thing. Held by a peer (a client's host and TLS
 * certificate, {@code ClientPeer}: all its connections together) is what the tasks it created
 * over gRPC hold, itself included for tasks; everything else (in-process tasks, the simulator's)
 * is held by nobody. Two pools:
 * <ul>
 * <li>the remote pool, {@link #pool}: all but a {@link #RESERVE_SHARES}th of {@code max}, what
 *     all peers together may hold; the rest is a reserve peers never take, so in-process tasks
 *     still get some whatever clients do;
 * <li>within it a peer may take one more only while it holds fewer than {@link #peerMax} (a
 *     {@link #PEER_SHARES}th of the pool) and fewer than are still free to peers
 *     ({@link #remoteFree}).
 * </ul>
 * The first bound is fixed, so k peers that take all they can hold at most k/PEER_SHARES of the
 * pool; the second keeps a peer holding less than is free able to take one until the pool is
 * used up: beside k &lt;= PEER_SHARES - 2 greedy peers, a peer holding nothing gets its whole
 * share. Holders without a peer take one while the kernel's {@code max} is not reached.
 *
 * <p>Counts change by {@link #taken} and {@link #given} with the same holder; core thread only.
 */
public final class PeerShares {
    /** This fraction of {@code max} is kept for holders without a peer; peers share the rest. */
    public static final int RESERVE_SHARES = 8;

    /** One peer may hold at most this fraction of the remote pool. */
    public static final int PEER_SHARES = 8;

    private int max;
    private int used;
    /** Held by all peers together. */
    private int remote;
    /** Held per peer (only peers holding some). */
    private final Map<Object, Integer> byPeer = new HashMap<>();

    public PeerShares(int max) {
        limit(max);
    }

    /** A new bound for the kernel (tests use small ones); what is held stays. */
    public void limit(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("a kernel's bound is 1 or more, not " + max);
        }
        this.max = max;
    }

    /** The remote pool of a kernel bound {@code max}: all but a RESERVE_SHARES-th of it. */
    public static int pool(int max) {
        return max - max / RESERVE_SHARES;
    }

    /** One holder's share of {@code pool} cut in {@code shares}: at least one. */
    public static int share(int pool, int shares) {
        return Math.max(1, pool / shares);
    }

    /** Whether a holder with {@code held} may take no more: at its share or at what is free. */
    public static boolean atShare(int held, int share, int free) {
        return held >= share || held >= free;
    }

    /** Whether {@code peer} (null: none, never) is at its share, as far as the peers' pool goes. */
    public boolean atShare(Object peer) {
        return peer != null && atShare(usedBy(peer), peerMax(), remoteFree());
    }

    public void taken(Object peer) {
        used++;
        if (peer != null) {
            remote++;
            byPeer.merge(peer, 1, Integer::sum);
        }
    }

    public void given(Object peer) {
        used--;
        if (peer != null) {
            remote--;
            byPeer.computeIfPresent(peer, (p, n) -> n == 1 ? null : n - 1);
        }
    }

    public int max() {
        return max;
    }

    public int used() {
        return used;
    }

    /** What all peers together may hold. */
    public int pool() {
        return pool(max);
    }

    /** What one peer may hold. */
    public int peerMax() {
        return share(pool(), PEER_SHARES);
    }

    /** What a peer could still take, as far as the pool and the kernel's bound go. */
    public int remoteFree() {
        return Math.max(0, Math.min(pool() - remote, max - used));
    }

    /** What {@code peer} holds now. */
    public int usedBy(Object peer) {
        return byPeer.getOrDefault(peer, 0);
    }
}
