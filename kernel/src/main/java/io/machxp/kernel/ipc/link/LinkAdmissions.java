package io.machxp.kernel.ipc.link;

import io.machxp.proto.link.LinkFrame;
import io.netty.channel.Channel;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The accepted side of {@link IpcLinks}: which connection another kernel dialled is taken as its
 * link here, and the frames that reach the core from it.
 *
 * <h2>Overview</h2>
 * <pre>
 *  an accepted connection: hello within a lease of connecting (with TLS at least 10 s), frames of
 *        at most 1 KiB until then ({@link LinkFrames}); refused, with the reason logged, if it is
 *        not a hello, claims id 0 or this kernel's, is of a kernel dead here, or claims the id of
 *        a kernel whose link here is open and alive (one connection per kernel: another process
 *        cannot end a live kernel by claiming its id; a restarted kernel's old process, if its
 *        link lingers, is dead within a lease anyway)
 *  its hello ({@link Hellos}):
 *        ADMIT      the kernel's link here ({@code inbound}): its frames reach the core
 *        REJOIN     a later session of a kernel: its earlier session is dead (the core hears it
 *                   first), then it is alive again and dialled anew ({@link LinkDeaths#revive})
 *        RESTARTED  a new process under a known id: the old one is dead, the new one refused
 *        DEAD       a kernel dead here stays dead: refused
 *  admitted: silent for the lease its hello names (at most {@link #MAX_PEER_LEASE_FACTOR} times
 *        this kernel's), closed, out of sequence: the kernel is dead, if that is still its current
 *        session and this kernel's session is the one it was admitted in ({@link LinkDeaths#diedIn})
 *  frames: taken only from the connection admitted for that kernel now, of its current session,
 *        while this kernel has not left: one task on the core per read ({@code deliver})
 * </pre>
 * A probe's hello is answered by {@link LinkProbes} and never admitted. Everything here is
 * guarded by the lock of its {@link IpcLinks}.
 */
final class LinkAdmissions {
    private static final Logger log = LoggerFactory.getLogger(IpcLinks.class);

    private final IpcLinks links;

    LinkAdmissions(IpcLinks links) {
        this.links = links;
    }

    /** The admitted connection of each kernel that dialled this one (the latest). Guarded by the links' lock. */
    final Map<Integer, Channel> inbound = new java.util.HashMap<>();

    /**
     * Frames taken in order from session {@code session} of kernel {@code from} in one read: to
     * the core, in one task. An earlier session's late frames are dropped: it is dead.
     */
    void deliver(int from, int session, Channel ch, java.util.List<LinkFrame> frames) {
        synchronized (links) {
            // only from the connection admitted for that kernel now: not one of a kernel declared dead
            // since (its death closed it) nor of the session this kernel renewed away from
            if (links.hellos.current(from, session) && !links.left && inbound.get(from) == ch) {
                links.core.execute(() -> frames.forEach(f -> links.listener.frame(from, session, f)));
            }
        }
    }

    /**
     * A connection's hello: whether to take its frames. A peer back with a later session is
     * declared dead first (if it was not yet), then alive again once the core has heard of it.
     * A refusal is logged with its reason; the caller closes the connection.
     *
     * @return this kernel's IPC session at the admission, read under the same lock (the
     *     connection's close or silence counts only in that session, {@link LinkDeaths#diedIn(int, int,
     *     int, String)}), or {@link #REFUSED}
     */
    int admit(int kernel, long incarnation, int session, Channel ch) {
        synchronized (links) {
            return take(kernel, incarnation, session, ch) ? links.session : REFUSED;
        }
    }

    /** {@link #admit}'s answer for a refused hello (IPC sessions are 0 or more). */
    static final int REFUSED = -1;

    private boolean take(int kernel, long incarnation, int session, Channel ch) {
        if (links.closing || links.left) {
            return false;
        }
        if (kernel < 1 || kernel == links.self) {
            refused(ch, "its hello claims IPC id " + kernel + (kernel == links.self ? ", this kernel's own"
                    : "; IPC ids are 1 or more"));
            return false;
        }
        Channel open = inbound.get(kernel);
        if (open != null && open != ch && open.isActive() && !links.hellos.rejoins(kernel, incarnation, session)) {
            // a live kernel's id: a second connection of it, or another process (a restarted kernel
            // whose old process still holds its link is dead within a lease anyway)
            refused(ch, "its hello claims IPC id " + kernel + ", whose link from " + open.remoteAddress()
                    + " is open and alive: one connection per kernel; is another process using that --ipc-id?");
            return false;
        }
        switch (links.hellos.hello(kernel, incarnation, session, links.dead.contains(kernel))) {
            case ADMIT:
                inbound.put(kernel, ch);
                return true;
            case RESTARTED:
                links.deaths.died(kernel, "a new process took its IPC id; a restarted kernel takes a new id");
                refused(ch, "a new process claims IPC id " + kernel + "; a restarted kernel takes a new --ipc-id");
                return false;
            case REJOIN:
                links.deaths.died(kernel, "it lost its session and rejoins as IPC session " + session);
                links.deaths.reviving.put(kernel, session);
                inbound.put(kernel, ch);
                links.core.execute(() -> links.deaths.revive(kernel, session));
                return true;
            default:
                refused(ch, "kernel " + kernel + " (session " + session + ") is dead here: a dead kernel stays dead"
                        + " unless it rejoins with a later IPC session");
                return false;
        }
    }

    /** A connection from {@code ch}'s address was refused before it was a kernel's link, for {@code why}. */
    void refused(Channel ch, String why) {
        log.warn("kernel {}: IPC link from {} refused: {}", links.self, ch.remoteAddress(), why);
    }

    /**
     * How long kernel's link may be silent before the kernel is dead, given the {@code lease_millis}
     * of its hello: that (ipc_link.proto: the sender says how long the receiver may hear nothing),
     * 0 meaning this kernel's own lease, and at most {@link #MAX_PEER_LEASE_FACTOR} times this
     * kernel's own, so that a peer cannot keep its ports alive for ever by claiming a huge lease and
     * then falling silent. (Each side sends keepalives every third of its own lease at most.)
     */
    long silenceMillis(long helloLeaseMillis) {
        if (helloLeaseMillis <= 0) {
            return links.leaseMillis;
        }
        return Math.min(helloLeaseMillis, MAX_PEER_LEASE_FACTOR * links.leaseMillis);
    }

    /** A peer's lease may be at most this many times this kernel's ({@link #silenceMillis}). */
    static final long MAX_PEER_LEASE_FACTOR = 10;

    /** The admitted connection of {@code kernel} (tests). */
    Channel inbound(int kernel) {
        synchronized (links) {
            return inbound.get(kernel);
        }
    }

    /** How long a connection may take to say hello: a lease, and with TLS at least 10 s (its handshake comes first). */
    long helloDeadlineMillis() {
        return links.tls == null ? links.leaseMillis : Math.max(links.leaseMillis, 10_000);
    }

    /** The connection {@code ch} of {@code kernel} closed: it no longer holds that kernel's place. */
    void closedIn(int kernel, Channel ch) {
        synchronized (links) {
            inbound.remove(kernel, ch);
        }
    }
}
