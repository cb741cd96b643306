package io.machxp.kernel.ipc;

import io.machxp.kernel.share.PeerShares;
import java.util.HashMap;
import java.util.Map;

/**
 * The kernel's budget of queued message bytes ({@link IpcCore#queuedBytesLimit}) shared among the
 * client peers of its gRPC server by the rule of {@link PeerShares} (port names, tasks, threads,
 * mappings): the messages tasks created for clients sent, queued here or carried to another kernel
 * and not finished with there, count to the sending task's peer (its host and TLS certificate:
 * all its connections together; {@link IpcSpace#peer}). All peers together may hold the remote
 * pool, all but a {@link PeerShares#RESERVE_SHARES}th of the budget; one peer may queue
 * {@code cost} more bytes only while it would then hold no more than a
 * {@link PeerShares#PEER_SHARES}th of the pool and no more than is still free to peers (for one
 * byte exactly PeerShares' "fewer than its share and than is free"). The last eighth is for
 * tasks without a peer (in-process tasks, the simulator's), which queue while the kernel's budget
 * has room. Before (review rv58 HIGH-1), one client's five unwatched tasks, a quarter each, filled
 * the whole budget and every other sender, in-process tasks too, got MACH_SEND_NO_BUFFER until
 * those tasks were terminated, also after the client disconnected.
 *
 * <p>Charged and given back only through {@link Delivery#charge(IpcSpace, long)}, with the space
 * the bytes were charged to, so each byte comes back to the peer it was counted to on whatever
 * path it leaves (received, destroyed, its port's death, its sender's end, another kernel's
 * answer or death, a notification's charge moving with its port's receive right). Core thread only.
 */
final class QueuedShares {
    /** Bytes counted to all peers together. */
    private long remote;
    /** Bytes counted per peer (only peers holding some). */
    private final Map<Object, Long> byPeer = new HashMap<>();

    /** Adds {@code bytes} (negative: gives back) to {@code peer}'s count; no peer: nothing. */
    void charge(Object peer, long bytes) {
        if (peer == null || bytes == 0) {
            return;
        }
        remote += bytes;
        byPeer.compute(peer, (p, n) -> {
            long now = (n == null ? 0 : n) + bytes;
            return now == 0 ? null : now;
        });
    }

    /**
     * Whether {@code peer} (null: none, never) may not queue {@code cost} more bytes under a kernel
     * budget of {@code max} with {@code used} in use: it would hold more than its share or than is
     * free to peers.
     */
    boolean refused(Object peer, long cost, long max, long used) {
        if (peer == null) {
            return false;
        }
        long after = usedBy(peer) + cost;
        return after > peerMax(max) || after > remoteFree(max, used);
    }

    /** What all peers together may hold of a budget of {@code max}: all but a RESERVE_SHARES-th. */
    static long pool(long max) {
        return max - max / PeerShares.RESERVE_SHARES;
    }

    /** What one peer may hold of a budget of {@code max}: a PEER_SHARES-th of the pool, at least one byte. */
    static long peerMax(long max) {
        return Math.max(1, pool(max) / PeerShares.PEER_SHARES);
    }

    /** What a peer could still queue, as far as the pool and the kernel's budget go. */
    long remoteFree(long max, long used) {
        return Math.max(0, Math.min(pool(max) - remote, max - used));
    }

    /** Bytes counted to {@code peer} now. */
    long usedBy(Object peer) {
        return peer == null ? 0 : byPeer.getOrDefault(peer, 0L);
    }

    /** Bytes counted to all peers together now. */
    long remoteUsed() {
        return remote;
    }
}
