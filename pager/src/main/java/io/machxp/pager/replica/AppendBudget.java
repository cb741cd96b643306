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
import java.util.function.LongSupplier;

/**
 * What a replicated pager's leader has appended of its kernels' messages and not yet seen applied,
 * group-wide and by peer, shared by every stream's {@link AppendWindow}: a message is appended only
 * while its peer ({@link io.machxp.pager.net.CallerPeer}: one host, or one certificate) has fewer
 * than {@link #PEER_IN_FLIGHT} messages and {@link #PEER_BYTES} bytes pending, and the group's
 * pending entries and bytes stay under Ratis's limits ({@link #GROUP_ENTRIES}, {@link #GROUP_BYTES});
 * else it is held (one per stream: nothing more is asked of the stream) until an append
 * completes and makes room. A peer may go past its bound only while no other peer waits and what the
 * group has pending drains within {@link #LEASE_PARTS a twelfth of the lease} at the rate the group
 * applies ({@link DrainRate}). Before, only each stream was bounded: 45-64 kernels flushing 4 MiB
 * data_returns at once reached Ratis's 256 MiB of pending writes, Ratis refused the appends past it,
 * and the streams ended as if the leader had stopped leading, so the kernels resumed and sent them
 * again into the same overload (review late10 M2); and one host with k sessions had k windows in the
 * log ahead of another kernel's keepalive (review burst M2).
 *
 * <h2>Overview</h2>
 * <pre>
 *  a message arrives, its peer has    counted (stream, peer, group) and appended now (past its
 *    room, the group too, none held     bound a peer has room, up to a window per open stream,
 *                                       while no other peer waits and the group's pending drains
 *                                       within L/12 at the measured rate, at most half the group's
 *                                       bounds: work-conserving, and another peer's message finds
 *                                       room and is applied within about L/12)
 *  otherwise                          held; its stream joins its peer's line, the peer the waiting
 *                                       line (once); nothing more is requested of the stream
 *  an append completes                uncounted (applied: counted in the group's apply rate,
 *                                       {@link DrainRate}); then the waiting peers in line order: each one's
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
     * A peer while no other peer waits may have this many messages pending per open stream, if
     * more than {@link #PEER_IN_FLIGHT} and the group's pending drains within the target
     * ({@link #LEASE_PARTS}): a stream's window, as before the peer bound, so one host (all kernels
     * on loopback, one NAT address, one IPv6 /64) is not held to 1,024 while the group could take
     * more (review tb MED-1).
     */
    static final int STREAM_IN_FLIGHT = AppendWindow.DEFAULT_IN_FLIGHT;
    /** The same per open stream for bytes, if more than {@link #PEER_BYTES}. */
    static final long STREAM_BYTES = AppendWindow.MAX_BYTES;
    /**
     * A peer past its bound keeps the group's pending under 1/ALONE_SHARE of the group's entries
     * and bytes whatever the rate (never below its own bound): a kernel of another peer that then
     * speaks finds room in the group at once. Before, a peer alone with 960 streams (one IPv6 /64
     * or NAT address of many kernels), or 128 streams sending 2 MiB data_returns, could have all
     * 61,440 entries / 256 MiB pending, and a newcomer's first keepalive waited behind all of it,
     * against its lease (review late13 LOW-3).
     */
    static final int ALONE_SHARE = 2;
    /**
     * A peer goes past its bound only while the group's pending kernel messages drain, at the rate
     * the group applies them ({@link DrainRate}), within 1/LEASE_PARTS of the lease: half of the
     * L/6 for which a kernel waits for its keepalive's answer before it counts its stream stalled
     * (xp-spec 4.7), so a kernel of another peer that speaks while one host is busy is answered
     * within about L/12 (its own message's round and the other peers' bounds aside; a peer's own
     * bound is the floor, so a group applying fewer than {@link #PEER_IN_FLIGHT} in L/12 takes
     * longer). Before, a lone
     * peer could have half the group's window pending, 30,720 entries or 124 MiB, about a second by
     * the review's estimate and more than L/6 at the default 5 s lease, ahead of every keepalive of a
     * quiet peer (review halfwin LOW-1). While the rate is not known yet (no sample of busy time), a peer
     * is held to its bound.
     */
    static final int LEASE_PARTS = 12;

    private final int groupEntries;
    private final long groupBytes;
    private final int peerInFlight;
    private final long peerBytes;
    private final int streamInFlight;
    private final long streamBytes;
    /** What the group may have pending at most while a peer is past its bound. */
    private final int aloneEntries;
    private final long aloneBytes;
    /** How fast the group applies, and how long what is pending may take to drain while a peer is past its bound. */
    private final DrainRate drain;
    private final long targetNanos;
    private final Executor heldAppends;
    private final Map<Object, Peer> peers = new HashMap<>();
    /** Peers with held messages, in the order they came to wait. */
    private final ArrayDeque<Peer> waiting = new ArrayDeque<>();
    private int entries;
    private long bytes;
    /** The first held message in line found no room in the group: none passes it. */
    private boolean groupBlocked;

    /**
     * A replica's, for kernels with a lease of {@code leaseNanos} (0: none, taken as
     * {@link io.machxp.pager.PagerConfig#DEFAULT_LEASE}), the drain rate measured on {@code clock}.
     */
    AppendBudget(long leaseNanos, LongSupplier clock, Executor heldAppends) {
        this(GROUP_ENTRIES, GROUP_BYTES, PEER_IN_FLIGHT, PEER_BYTES, STREAM_IN_FLIGHT, STREAM_BYTES,
                new DrainRate(clock), targetNanos(leaseNanos), heldAppends);
    }

    /** With the bounds given (a test's), a peer never past its bound. */
    AppendBudget(int groupEntries, long groupBytes, int peerInFlight, long peerBytes, Executor heldAppends) {
        this(groupEntries, groupBytes, peerInFlight, peerBytes, 0, 0, new DrainRate(() -> 0L), 0, heldAppends);
    }

    /**
     * With the bounds given, a peer past its bound up to {@code streamInFlight}/{@code streamBytes}
     * per open stream while the group's pending drains within {@code targetNanos} at {@code drain}'s rate.
     */
    AppendBudget(int groupEntries, long groupBytes, int peerInFlight, long peerBytes, int streamInFlight,
            long streamBytes, DrainRate drain, long targetNanos, Executor heldAppends) {
        this.groupEntries = groupEntries;
        this.groupBytes = groupBytes;
        this.peerInFlight = peerInFlight;
        this.peerBytes = peerBytes;
        this.streamInFlight = streamInFlight;
        this.streamBytes = streamBytes;
        this.aloneEntries = groupEntries / ALONE_SHARE;
        this.aloneBytes = groupBytes / ALONE_SHARE;
        this.drain = drain;
        this.targetNanos = targetNanos;
        this.heldAppends = heldAppends;
    }

    /** How long the group's pending may take to drain while a peer is past its bound: L/{@value #LEASE_PARTS}. */
    static long targetNanos(long leaseNanos) {
        long lease = leaseNanos > 0 ? leaseNanos : io.machxp.pager.PagerConfig.DEFAULT_LEASE.toNanos();
        return lease / LEASE_PARTS;
    }

    /**
     * What the group may have pending while a peer is past its bound, in entries and in bytes: what
     * drains in the target time at the measured rate, at most half the group's bounds, never less
     * than a peer's bound (so a peer alone always has its bound's worth).
     */
    synchronized long[] spare() {
        return new long[] {spareEntries(), spareBytes()};
    }

    private long spareEntries() {
        return Math.max(peerInFlight, Math.min(aloneEntries, drain.entriesWithin(targetNanos)));
    }

    private long spareBytes() {
        return Math.max(peerBytes, Math.min(aloneBytes, drain.bytesWithin(targetNanos)));
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

    /**
     * Under the lock: a message of {@code size} bytes of {@code p} is no longer pending; {@code applied}:
     * it was (a failed or refused append does not count in the group's rate).
     */
    void release(Peer p, int size, boolean applied) {
        entries--;
        bytes -= cost(size);
        p.inFlight--;
        p.bytes -= cost(size);
        drain.released(applied ? cost(size) : -1, entries == 0);
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
        drain.busy();
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
         * Under the lock: room for one more message. Under its bound a peer has room; past it only
         * while no other peer waits (is held), up to a window per open stream, and while the
         * group's pending (every peer's) is under what drains in the target time ({@link #spare}):
         * work-conserving (one host is not capped while the group could take more), and a message
         * of another peer, which finds room at once, is behind at most that much of this one's.
         * Another peer's messages pending do not take this room away, they only count in the
         * group's pending (before, one keepalive of another peer held a lone peer to its bound until
         * it was applied: review halfwin LOW-2).
         */
        private boolean hasRoom() {
            if (inFlight == 0) {
                return true;
            }
            boolean mayPass = waiting.size() == (queued ? 1 : 0);
            boolean entriesRoom = inFlight < peerInFlight
                    || (mayPass && inFlight < (long) streams * streamInFlight && entries < spareEntries());
            boolean bytesRoom = bytes < peerBytes
                    || (mayPass && bytes < streams * streamBytes && AppendBudget.this.bytes < spareBytes());
            return entriesRoom && bytesRoom;
        }
    }
}
