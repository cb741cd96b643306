package io.machxp.pager.replica;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * What a replicated pager's leader has appended of its kernels' messages and not yet seen applied,
 * group-wide and by peer, shared by every stream's {@link AppendWindow}: a message is appended only
 * while its peer ({@link io.machxp.pager.net.CallerPeer}: one host, or one certificate) has fewer
 * than {@link #PEER_IN_FLIGHT} messages and {@link #PEER_BYTES} bytes pending, and the group's
 * pending entries and bytes stay under Ratis's limits ({@link #GROUP_ENTRIES}, {@link #GROUP_BYTES});
 * else it is held (one per stream: nothing more is asked of the stream) until an append
 * completes and makes room. Before, only each stream was bounded: 45-64 kernels flushing 4 MiB
 * data_returns at once reached Ratis's 256 MiB of pending writes, Ratis refused the appends past it,
 * and the streams ended as if the leader had stopped leading, so the kernels resumed and sent them
 * again into the same overload (review late10 M2); and one host with k sessions had k windows in the
 * log ahead of another kernel's keepalive (review burst M2).
 *
 * <h2>Overview</h2>
 * <pre>
 *  a message arrives, its peer has    counted (stream, peer, group) and appended now
 *    room, the group too, none held     (a peer alone in the group has a window per open stream
 *                                       of room, if more than its bound: work-conserving; at most
 *                                       half the group's bounds, so another peer finds room)
 *  otherwise                          held; its stream joins its peer's line, the peer the waiting
 *                                       line (once); nothing more is requested of the stream
 *  an append completes                uncounted; then the waiting peers in line order: each one's
 *                                       held messages, in its line's order (round-robin among its
 *                                       streams), counted and appended while it has room and the
 *                                       group too; the first that the group has no room for stops
 *                                       it (first come, first served: a large message is not passed
 *                                       for ever by small ones), a peer without room waits for its own
 *  a peer's last stream ends and      forgotten
 *    nothing of it is pending
 * </pre>
 * A held message is appended on {@code heldAppends} (not on the thread that completed an append,
 * Ratis's). Nothing is lost while held: the stream's end waits for it ({@link AppendWindow#close}).
 * Every held message is appended in the end: something is pending whenever one is held (an empty
 * group and an empty peer have room for the largest message), and every append completes.
 *
 * <p>Thread-safe: one lock, this object's, for the budget and every window.
 */
final class AppendBudget {
    /** A kernel message's entry is larger than the message by its session id, index, clock and term: less than this. */
    static final int ENTRY_OVERHEAD = 128;
    /**
     * Pending entries of kernel messages, group-wide: Ratis's limit ({@link RaftSettings#PENDING_WRITES})
     * less room for the entries not counted here (session_opened, session_closed, the ticker's).
     */
    static final int GROUP_ENTRIES = RaftSettings.PENDING_WRITES - 4096;
    /**
     * Pending bytes of kernel messages, group-wide: Ratis's limit ({@link RaftSettings#PENDING_WRITE_BYTES},
     * which it counts in whole MiB: a request takes its size rounded up, 5 MiB for a largest entry,
     * while the total is rounded up too) less two largest entries, so that an append counted here
     * is never refused for bytes, with the uncounted entries beside it.
     */
    static final long GROUP_BYTES = RaftSettings.PENDING_WRITE_BYTES - 2L * RaftSettings.MAX_ENTRY_BYTES;
    /** Messages of one peer's streams appended and not applied: 16 streams' windows. */
    static final int PEER_IN_FLIGHT = 16 * AppendWindow.DEFAULT_IN_FLIGHT;
    /** Bytes of one peer's messages appended and not applied past which none more is appended: 16 streams' windows. */
    static final long PEER_BYTES = 16L * AppendWindow.MAX_BYTES;
    /**
     * A peer alone in the group (no other peer has anything pending or held) may have this many
     * messages pending per open stream, if more than {@link #PEER_IN_FLIGHT}: a stream's window, as
     * before the peer bound, so one host (all kernels on loopback, one NAT address, one IPv6 /64)
     * is not held to 1,024 while the group is idle (review tb MED-1).
     */
    static final int STREAM_IN_FLIGHT = AppendWindow.DEFAULT_IN_FLIGHT;
    /** The same per open stream for bytes, if more than {@link #PEER_BYTES}. */
    static final long STREAM_BYTES = AppendWindow.MAX_BYTES;
    /**
     * A peer alone in the group has at most 1/ALONE_SHARE of the group's entries and bytes pending
     * (its windows per stream capped there, never below its peer bound): a kernel of another peer
     * that then speaks finds room in the group at once, behind at most half of the group's window.
     * Before, a peer alone with 960 streams (one IPv6 /64 or NAT address of many kernels), or 128
     * streams sending 2 MiB data_returns, could have all 61,440 entries / 256 MiB pending, and a
     * newcomer's first keepalive waited behind all of it, against its lease (review late13 LOW-3).
     */
    static final int ALONE_SHARE = 2;

    private final int groupEntries;
    private final long groupBytes;
    private final int peerInFlight;
    private final long peerBytes;
    private final int streamInFlight;
    private final long streamBytes;
    /** What a peer alone in the group may have pending at most, if more than its peer bound. */
    private final int aloneEntries;
    private final long aloneBytes;
    private final Executor heldAppends;
    private final Map<Object, Peer> peers = new HashMap<>();
    /** Peers with held messages, in the order they came to wait. */
    private final ArrayDeque<Peer> waiting = new ArrayDeque<>();
    private int entries;
    private long bytes;
    /** The first held message in line found no room in the group: none passes it. */
    private boolean groupBlocked;

    AppendBudget(Executor heldAppends) {
        this(GROUP_ENTRIES, GROUP_BYTES, PEER_IN_FLIGHT, PEER_BYTES, STREAM_IN_FLIGHT, STREAM_BYTES, heldAppends);
    }

    /** With the bounds given (a test's), a peer alone in the group bounded as any other. */
    AppendBudget(int groupEntries, long groupBytes, int peerInFlight, long peerBytes, Executor heldAppends) {
        this(groupEntries, groupBytes, peerInFlight, peerBytes, 0, 0, heldAppends);
    }

    /** With the bounds given, a peer alone in the group allowed {@code streamInFlight}/{@code streamBytes} per open stream. */
    AppendBudget(int groupEntries, long groupBytes, int peerInFlight, long peerBytes, int streamInFlight,
            long streamBytes, Executor heldAppends) {
        this.groupEntries = groupEntries;
        this.groupBytes = groupBytes;
        this.peerInFlight = peerInFlight;
        this.peerBytes = peerBytes;
        this.streamInFlight = streamInFlight;
        this.streamBytes = streamBytes;
        this.aloneEntries = groupEntries / ALONE_SHARE;
        this.aloneBytes = groupBytes / ALONE_SHARE;
        this.heldAppends = heldAppends;
    }

    /**
     * The executor for held messages: one daemon thread, started when a message is held and ended a
     * second after the last, so held messages are appended in the order they were let go and a
     * replica that is never closed leaves no thread behind. Not the common fork-join pool: an append
     * may wait for the division's lock, and on 2 CPUs that pool has one worker.
     */
    static Executor heldAppendsThread() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(0, 1, 1, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "replica-held-appends");
            t.setDaemon(true);
            return t;
        });
        return pool;
    }

    /** Entries and bytes of kernel messages appended and not applied now, group-wide. */
    synchronized long[] pending() {
        return new long[] {entries, bytes};
    }

    /** Peers with a stream open or something pending now. */
    synchronized int peers() {
        return peers.size();
    }

    /** Under the lock: a new stream's peer (null key: a peer of its own). */
    Peer join(Object key) {
        Peer p = key == null ? new Peer(null) : peers.computeIfAbsent(key, Peer::new);
        p.streams++;
        return p;
    }

    /** Under the lock: whether a message of {@code size} bytes of {@code p} is appended now (and counted) or held. */
    boolean admit(Peer p, int size) {
        if (!groupBlocked && p.line.isEmpty() && p.hasRoom() && groupFits(size)) {
            count(p, size);
            return true;
        }
        return false;
    }

    /** Under the lock: {@code w}'s message waits in its peer's line. */
    void hold(AppendWindow w) {
        Peer p = w.peer;
        p.line.add(w);
        if (!p.queued) {
            p.queued = true;
            waiting.add(p);
        }
        if (p.hasRoom() && !groupFits(w.heldSize())) {
            groupBlocked = true;
        }
    }

    /** Under the lock: a message of {@code size} bytes of {@code p} is no longer pending. */
    void release(Peer p, int size) {
        entries--;
        bytes -= cost(size);
        p.inFlight--;
        p.bytes -= cost(size);
        forgetIfDone(p);
    }

    /** Under the lock: a stream of {@code p} ended. */
    void leave(Peer p) {
        p.streams--;
        forgetIfDone(p);
    }

    /**
     * After a release (outside the lock): the held messages that now have room are counted and
     * appended, on {@code heldAppends}.
     */
    void serve() {
        List<AppendWindow> served = null;
        synchronized (this) {
            groupBlocked = false;
            for (int n = waiting.size(); n > 0; n--) {
                Peer p = waiting.peekFirst();
                while (!p.line.isEmpty() && p.hasRoom()) {
                    AppendWindow w = p.line.peekFirst();
                    if (!groupFits(w.heldSize())) {
                        groupBlocked = true;
                        break;
                    }
                    p.line.pollFirst();
                    count(p, w.heldSize());
                    if (served == null) {
                        served = new ArrayList<>();
                    }
                    served.add(w);
                }
                if (groupBlocked) {
                    break; // first come, first served: it stays first in line
                }
                waiting.pollFirst();
                if (p.line.isEmpty()) {
                    p.queued = false;
                    forgetIfDone(p);
                } else {
                    waiting.addLast(p); // it waits for its own appends to complete
                }
            }
        }
        if (served != null) {
            for (AppendWindow w : served) {
                heldAppends.execute(w::appendHeld);
            }
        }
    }

    private boolean groupFits(int size) {
        return entries == 0 || (entries < groupEntries && bytes + cost(size) <= groupBytes);
    }

    private void count(Peer p, int size) {
        entries++;
        bytes += cost(size);
        p.inFlight++;
        p.bytes += cost(size);
    }

    private static long cost(int size) {
        return (long) size + ENTRY_OVERHEAD;
    }

    private void forgetIfDone(Peer p) {
        if (p.streams == 0 && p.inFlight == 0 && !p.queued && p.key != null && peers.get(p.key) == p) {
            peers.remove(p.key);
        }
    }

    /** One peer's pending messages and its streams holding one, in line. */
    final class Peer {
        private final Object key;
        private final ArrayDeque<AppendWindow> line = new ArrayDeque<>();
        private int streams;
        private int inFlight;
        private long bytes;
        private boolean queued;

        private Peer(Object key) {
            this.key = key;
        }

        /**
         * Under the lock: room for one more message. The peer bound holds while another peer has
         * something pending or held; a peer alone in the group may have a window per open stream
         * (work-conserving: one host is not capped while the group is idle), up to half the
         * group's bounds ({@link #ALONE_SHARE}), so that a peer that comes later finds room.
         */
        private boolean hasRoom() {
            if (inFlight == 0) {
                return true;
            }
            boolean alone = entries == inFlight && waiting.size() == (queued ? 1 : 0);
            long maxInFlight = alone
                    ? Math.max(peerInFlight, Math.min((long) streams * streamInFlight, aloneEntries))
                    : peerInFlight;
            long maxBytes = alone ? Math.max(peerBytes, Math.min(streams * streamBytes, aloneBytes)) : peerBytes;
            return inFlight < maxInFlight && bytes < maxBytes;
        }
    }
}
