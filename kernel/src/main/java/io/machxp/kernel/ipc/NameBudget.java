package io.machxp.kernel.ipc;

import io.machxp.kernel.share.PeerShares;

/**
 * The port names of every task of one kernel together, bounded: each name holds an entry, and a
 * receive right or port set a port object with its queue, so names are what a client's tasks make
 * the kernel keep. One task may hold {@link IpcSpace#MAX_NAMES}; without a bound for the kernel,
 * a client that made 65,536 tasks of 65,536 names each could ask for four billion, far past any
 * heap, and every other client of the kernel would fail with it. At the bound a call that would
 * make a name fails with KERN_RESOURCE_SHORTAGE (GNU Mach's answer when a kernel zone is
 * exhausted) and a right arriving in a message that needs one is destroyed as in a full space
 * (MACH_MSG_IPC_SPACE); names freed anywhere make room.
 *
 * <p>Two pools. Tasks created for a client of the kernel's gRPC server (an owner: one connection,
 * of one {@link NameOwner#peer}, its host and TLS certificate) together hold at most the remote
 * pool, {@link #pool}: all but a {@link #RESERVE_SHARES}th of the budget. The rest is a reserve
 * that names in remote clients' own tasks never take: tasks without an owner (in-process tasks,
 * the simulator's) make names while any of the budget is free. A name counts to the owner of the
 * task it is made in; in a task without an owner, a name made for a right that another sent
 * counts to that right's payer ({@link Carried#payer}): the client that sent it - also when an
 * in-process task moves it on; a copy (COPY_SEND) an in-process task makes is its own, like
 * MAKE_SEND - also through another kernel (the link carries the client's peer: {@link LinkedPeer},
 * counted as that peer's), or for a right other kernels' tasks without an owner made, the kernel
 * whose IPC link brought it ({@link LinkedKernel}), until the name is
 * freed (deallocated, destroyed, moved on or used, the task's end); a receive right a
 * port-destroyed request sends to an in-process backup counts to whoever made the request. So a client's rights kept by an in-process receiver (say the reply rights of
 * requests it has not answered) count in the client's share, not in the reserve: a send whose
 * names its payer cannot pay for is MACH_SEND_NO_BUFFER ({@link UnpaidNames}), and such rights
 * arriving anyway are destroyed as in a full space. Before, they counted to nobody, and one
 * client filled the reserve and then the pool through such a receiver (review late4 B2).
 * Linked kernels' names are not in the remote pool (clients using it up must not cut in-process
 * tasks off from other kernels, review late11 MED-N2): all linked kernels together may be charged
 * at most {@link #linkPool} (half the reserve), so in-process tasks can hold at least half the
 * reserve together whatever remote clients and other kernels do; only what in-process tasks make
 * or copy themselves, or pass on among themselves from rights of their own, takes it. Within the
 * link pool, one linked kernel may be charged a name only while it holds fewer than
 * {@link #linkMax} (a {@link #LINK_SHARES}th of the link pool) and fewer than the names still
 * free to linked kernels ({@link #linkFree}): the peers' rule below, with the same arithmetic, so
 * beside k &lt;= LINK_SHARES - 2 linked kernels that take all they can, a kernel holding nothing
 * still gets its whole share (review late13 MED-1: with a quarter of the link pool each and no
 * second bound, four greedy kernels left every other kernel nothing here).
 * One in-process task's own {@link IpcSpace#MAX_NAMES} is smaller than a peer's share by default:
 * a receiver that keeps all a client sends can still be filled, as in Mach.
 *
 * <p>Within the remote pool, the connections of one peer together may make a name only while
 * they hold fewer than {@link #peerMax} (a {@link #PEER_SHARES}th of the pool) and fewer than
 * the names still free to remote tasks. The first bound is fixed, so k peers that take all they
 * can hold at most k/PEER_SHARES of the pool; the second keeps a client holding fewer names than
 * are free able to make one (a new client, an honest server) until the pool is used up. So with
 * k greedy peers a peer holding nothing can take min(peerMax, (PEER_SHARES - k) * peerMax / 2):
 * all of its share for k up to PEER_SHARES - 2, half of it for PEER_SHARES - 1 (review late3 A1:
 * the second bound alone, as before, let free names halve with each greedy peer, and 22 took all
 * 2^20). Nothing is promised to remote clients beyond that: PEER_SHARES or more greedy peers
 * (without mutual TLS, a client with that many source addresses) can use up the remote pool, and
 * then only in-process tasks make names. The rule's arithmetic is {@link PeerShares}', which
 * bounds tasks, threads and mappings per peer alike. Core thread only.
 */
final class NameBudget {
    /** Names of all tasks together, by default: about 300 MB of entries and ports at the bound. */
    static final int DEFAULT_MAX = 1 << 20;

    /** This fraction of the budget is kept for tasks without an owner; remote tasks share the rest. */
    static final int RESERVE_SHARES = PeerShares.RESERVE_SHARES;

    /** One peer's tasks together may hold at most this fraction of the remote pool. */
    static final int PEER_SHARES = PeerShares.PEER_SHARES;

    /**
     * Names counted to one linked kernel ({@link LinkedKernel}) may be at most this fraction of the
     * link pool, half the reserve (review late11 MED-N2, late13 MED-1): 8,192 names by default.
     * Eight, as for peers, so six kernels that take all they can still leave a seventh its whole
     * share; a larger share (a quarter, 16,384, before) would let fewer greedy kernels, say one
     * client reaching several kernels (review late11 LOW-N6), squeeze out every other.
     */
    static final int LINK_SHARES = 8;

    private int max = DEFAULT_MAX;
    private int used;
    /** Names held by tasks with an owner (remote clients'), all together. */
    private int remote;
    /** Names counted to linked kernels, all together (in the reserve, not in {@link #remote}). */
    private int linked;
    /** Names held per peer of the owners (only peers holding some). */
    private final java.util.Map<Object, Integer> byPeer = new java.util.HashMap<>();

    void limit(int names) {
        if (names < 1) {
            throw new IllegalArgumentException("a kernel's budget of port names is 1 or more, not " + names);
        }
        max = names;
    }

    /**
     * Whether a task of {@code owner} (null: none) can make no name: the kernel's bound; for an
     * owner also the remote pool, or its peer's share of it (fewer than a PEER_SHARES-th of the
     * pool and than the names still free to remote tasks); for a linked kernel its share of the
     * link pool alike (fewer than a LINK_SHARES-th of it and than the names still free to linked
     * kernels).
     */
    boolean exhausted(Object owner) {
        if (used >= max) {
            return true;
        }
        if (owner == null) {
            return false;
        }
        int held = byPeer.getOrDefault(peerOf(owner), 0);
        if (owner instanceof LinkedKernel) {
            return PeerShares.atShare(held, linkMax(), linkFree());
        }
        return PeerShares.atShare(held, peerMax(), remoteFree());
    }

    /** The reserve: the part of the budget that names in remote clients' own tasks never take. */
    int reserve() {
        return max / RESERVE_SHARES;
    }

    /** The most names all linked kernels together may be charged: half the reserve. */
    int linkPool() {
        return Math.max(1, reserve() / 2);
    }

    /** The most names one linked kernel may be charged: a LINK_SHARES-th of the link pool. */
    int linkMax() {
        return PeerShares.share(linkPool(), LINK_SHARES);
    }

    /** Names a linked kernel could still be charged, as far as the link pool and the budget go. */
    int linkFree() {
        return Math.max(0, Math.min(linkPool() - linked, max - used));
    }

    /**
     * As {@link #exhausted}, once a name counted to {@code freed} (null: none) has been given back:
     * whether a name for {@code owner} still finds no room when a call frees one as it makes one.
     */
    boolean exhaustedOnceGiven(Object owner, Object freed) {
        given(freed);
        try {
            return exhausted(owner);
        } finally {
            taken(freed);
        }
    }

    private static Object peerOf(Object owner) {
        return owner instanceof NameOwner o ? o.peer() : owner;
    }

    /** The most names the tasks of all owners together may hold: the budget less its reserve. */
    int pool() {
        return PeerShares.pool(max);
    }

    /** The most names the tasks of one peer's connections may hold together. */
    int peerMax() {
        return PeerShares.share(pool(), PEER_SHARES);
    }

    /** Names a task with an owner could still make, as far as the pool and the budget go. */
    int remoteFree() {
        return Math.max(0, Math.min(pool() - remote, max - used));
    }

    /** Names the tasks of {@code owner}'s peer hold now. */
    int usedByPeerOf(Object owner) {
        return byPeer.getOrDefault(peerOf(owner), 0);
    }

    void taken(Object owner) {
        used++;
        if (owner instanceof LinkedKernel) {
            linked++;
            byPeer.merge(owner, 1, Integer::sum);
        } else if (owner != null) {
            remote++;
            byPeer.merge(peerOf(owner), 1, Integer::sum);
        }
    }

    void given(Object owner) {
        used--;
        if (owner instanceof LinkedKernel) {
            linked--;
            byPeer.computeIfPresent(owner, (o, n) -> n == 1 ? null : n - 1);
        } else if (owner != null) {
            remote--;
            byPeer.computeIfPresent(peerOf(owner), (o, n) -> n == 1 ? null : n - 1);
        }
    }

    int used() {
        return used;
    }

    /** Names the tasks of all owners hold now. */
    int remoteUsed() {
        return remote;
    }

    /** Names counted to linked kernels now. */
    int linkedUsed() {
        return linked;
    }

    int max() {
        return max;
    }
}
