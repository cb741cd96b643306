package io.machxp.kernel.net;

import io.machxp.kernel.ipc.NameOwner;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The create tokens a kernel remembers (task.proto's {@code create_token}): what a TaskCreate or
 * ThreadCreate with a client-chosen token made, so that a client that gave up on the call before
 * its answer reached it can settle it afterwards, as a given-up lock is settled by its
 * {@code lock_seq} (review rv59 MED-1a: a reply on its way when the client's deadline passed left
 * a task nobody could name; the server, having answered OK, saw no cancel).
 *
 * <pre>
 *   (unknown) --create with token--> MADE(handle | tid)     --retry with token--> the same answer, nothing made
 *   (unknown) --abandon token------> ABANDONED               --create with token--> EINTR, nothing made
 *   MADE      --abandon token------> ABANDONED (the caller ends what was made)
 *   MADE      --its call cancelled--> (forgotten: GivenUpCreates ended it; a retry makes anew)
 *   any       --past the bound-----> (forgotten: a retry makes anew, an abandon finds nothing)
 * </pre>
 *
 * A token is scoped by the peer of the caller's connection (its host and certificate: a reconnect
 * keeps it, another host cannot use it) and, for a thread, by the task's handle. The bound: the
 * {@link #PER_PEER} most recent tokens of each peer and {@link #ALL_PEERS} of all peers together
 * (the least recently active peer's oldest go first), about 100 bytes each. Every transition runs
 * on the kernel's core thread (creates and abandons alike), so a create and its abandon are
 * ordered; the lock guards the maps all the same.
 */
final class CreateTokens {
    /** Tokens remembered per peer. */
    static final int PER_PEER = 4096;
    /** Tokens remembered over all peers. */
    static final int ALL_PEERS = 1 << 16;

    /** What a token made: a task's handle or a thread's TID; 0 with {@code abandoned}: nothing (yet). */
    record Made(long made, boolean abandoned) {}

    private record Key(long task, long token) {}

    /** peer -> its tokens, oldest first; the peers in order of their last new token. */
    private final LinkedHashMap<Object, LinkedHashMap<Key, Made>> peers = new LinkedHashMap<>(16, 0.75f, true);
    private int size;

    /** The peer a caller ({@link CallerConnection#current}, null: in process) counts to. */
    static Object peerOf(Object caller) {
        return caller instanceof NameOwner o ? o.peer() : caller == null ? "in-process" : caller;
    }

    /** What {@code token} of {@code peer} made in task {@code task} (0: a task create), or null if not remembered. */
    synchronized Made find(Object peer, long task, long token) {
        Map<Key, Made> mine = peers.get(peer);
        return mine == null ? null : mine.get(new Key(task, token));
    }

    /** Remembers that {@code token} made {@code made} (a handle or TID). */
    synchronized void made(Object peer, long task, long token, long made) {
        put(peer, new Key(task, token), new Made(made, false));
    }

    /**
     * The caller gave up on {@code token}: remembered as abandoned from now on; returns what it
     * had made (for the caller to end), or 0.
     */
    synchronized long abandon(Object peer, long task, long token) {
        Made before = find(peer, task, token);
        put(peer, new Key(task, token), new Made(0, true));
        return before == null || before.abandoned() ? 0 : before.made();
    }

    /** Forgets {@code token} (what it made was undone without an abandon: a retry makes anew). */
    synchronized void forget(Object peer, long task, long token) {
        Map<Key, Made> mine = peers.get(peer);
        if (mine != null && mine.remove(new Key(task, token)) != null) {
            size--;
            if (mine.isEmpty()) {
                peers.remove(peer);
            }
        }
    }

    /** Tokens remembered now. */
    synchronized int size() {
        return size;
    }

    private void put(Object peer, Key key, Made made) {
        LinkedHashMap<Key, Made> mine = peers.computeIfAbsent(peer, p -> new LinkedHashMap<>());
        if (mine.remove(key) == null) {
            size++;
        }
        mine.put(key, made);
        if (mine.size() > PER_PEER) {
            dropOldest(mine);
        }
        while (size > ALL_PEERS) {
            Iterator<Map.Entry<Object, LinkedHashMap<Key, Made>>> it = peers.entrySet().iterator();
            Map.Entry<Object, LinkedHashMap<Key, Made>> idlest = it.next();
            dropOldest(idlest.getValue());
            if (idlest.getValue().isEmpty()) {
                it.remove();
            }
        }
    }

    private void dropOldest(LinkedHashMap<Key, Made> tokens) {
        Iterator<Key> it = tokens.keySet().iterator();
        it.next();
        it.remove();
        size--;
    }
}
