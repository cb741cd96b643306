package io.machxp.kernel.ipc;

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
 * <p>Tasks created for a client (an owner: a kernel gives each gRPC connection its own) share
 * that client's part of the budget, {@link #OWNER_SHARES} of which fill it: one connection cannot
 * take the names every other client's tasks need (F6 of the IPC review: sixteen tasks of one
 * client took all 2^20, and every other task's allocate was KERN_RESOURCE_SHORTAGE and an honest
 * server's receive of a request MACH_RCV_HEADER_ERROR|IPC_SPACE). The connections of one peer
 * ({@link NameOwner#peer}: its host and TLS certificate) together may make a name only while the
 * kernel has more names free than they hold (review gi F4: four connections of one client took
 * all 2^20 again). So a peer alone holds at most half, k peers that take all they can leave at
 * least 1/(k+1) of the budget free, and a client holding fewer names than are free (a new one,
 * an honest server) can always make one: the free names are a reserve that grows with the
 * largest holder. Past its part, a call of one of the client's tasks fails as at the kernel's
 * bound. Tasks without an owner (in-process tasks, the simulator's) count against the kernel's
 * budget alone, and make names while any is free. Core thread only.
 */
final class NameBudget {
    /** Names of all tasks together, by default: about 300 MB of entries and ports at the bound. */
    static final int DEFAULT_MAX = 1 << 20;

    /** One connection's tasks together may hold at most this fraction of the budget. */
    static final int OWNER_SHARES = 4;

    private int max = DEFAULT_MAX;
    private int used;
    /** Names held per owner (only owners holding some). */
    private final java.util.Map<Object, Integer> byOwner = new java.util.HashMap<>();
    /** Names held per peer of the owners (only peers holding some). */
    private final java.util.Map<Object, Integer> byPeer = new java.util.HashMap<>();

    void limit(int names) {
        if (names < 1) {
            throw new IllegalArgumentException("a kernel's budget of port names is 1 or more, not " + names);
        }
        max = names;
    }

    /**
     * Whether a task of {@code owner} (null: none) can make no name: the kernel's bound, the
     * owner's part, or its peer's (no more than the names still free).
     */
    boolean exhausted(Object owner) {
        if (used >= max) {
            return true;
        }
        return owner != null && (byOwner.getOrDefault(owner, 0) >= ownerMax()
                || byPeer.getOrDefault(peerOf(owner), 0) >= max - used);
    }

    private static Object peerOf(Object owner) {
        return owner instanceof NameOwner o ? o.peer() : owner;
    }

    /** The most names one owner's tasks may hold together. */
    int ownerMax() {
        return Math.max(1, max / OWNER_SHARES);
    }

    /** Names {@code owner}'s tasks hold now. */
    int usedBy(Object owner) {
        return byOwner.getOrDefault(owner, 0);
    }

    void taken(Object owner) {
        used++;
        if (owner != null) {
            byOwner.merge(owner, 1, Integer::sum);
            byPeer.merge(peerOf(owner), 1, Integer::sum);
        }
    }

    void given(Object owner) {
        used--;
        if (owner != null) {
            byOwner.computeIfPresent(owner, (o, n) -> n == 1 ? null : n - 1);
            byPeer.computeIfPresent(peerOf(owner), (o, n) -> n == 1 ? null : n - 1);
        }
    }

    int used() {
        return used;
    }

    int max() {
        return max;
    }
}
