package io.machxp.chaos.ipc;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * What an IPC chaos run did, in virtual time order: the harness's own record of its faults and of
 * the fates of ports, every message sent and received, every right held and released, every
 * notification received. {@link IpcChecker} judges it.
 *
 * <p>Fields of an entry: {@code who} is a client ("c3"), a server ("s1"), a kernel ("k2") or a
 * port ("p0"); {@code port} the logical port (a service port's number, -1 if none); {@code a},
 * {@code b} and {@code c} (0 unless said) say what the kind says. The history knows the kernels'
 * lease ({@link #leaseNanos}), which bounds how long a frame stays on a live link.
 */
public final class IpcHistory {
    /** The kinds of entry, with what {@code a} and {@code b} mean. */
    public enum Kind {
        /**
         * A client's send returned MACH_MSG_SUCCESS: a = its seq, b = the token it carried (0: none); note "rpc" or
         * "one-way", then " via NAME" if it went through a right given after a renewal (NAME in hex), not the published one.
         */
        SENT,
        /**
         * A client called mach_msg to send a message: a = its seq. Its SENT comes when the call returns (an rpc's
         * after its receive half), maybe after a RIGHT_MAY_BE_DEAD mark made meanwhile; the checker places the
         * send here (review C1).
         */
        SENDING,
        /** A server received a client's message on the port: a = the seq, b = the client. */
        DELIVERED,
        /** A client got the reply of its rpc: a = the seq, b = the seq the reply names. */
        REPLY,
        /** A client got SEND_ONCE on the reply port of its rpc: a = the seq. */
        SEND_ONCE,
        /** A server sent the reply to a client's rpc: a = the seq, b = the client. */
        REPLIED,
        /**
         * A client's dead-name request on its name for the port (a: the name, 0 for the published one) succeeded
         * (b = 0), found it dead already (b = 1) or found no such name (b = 2: a right given never arrived).
         */
        DEAD_NAME_REQUESTED,
        /** A client got DEAD_NAME for its name for the port (a: the name, 0 for the published one). */
        DEAD_NAME,
        /** A client got NO_SENDERS for its token port: a = the make-send count it carries. */
        NO_SENDERS,
        /** A server received a send right to a client's token port: a = the token, b = the client. */
        TOKEN_HELD,
        /** A server deallocated a send right to a client's token port: a = the token, b = the client. */
        TOKEN_RELEASED,
        /** mach_port_get_refs of a server's name for a client's token port: a = what the harness expects, b = what it returned. */
        REFS,
        /** A server sent a receive right away (the port moves towards the server of port {@code b}). */
        MOVE_SENT,
        /** A server received a moving receive right. */
        MOVE_ARRIVED,
        /** The harness's record: the port died (note: why). */
        PORT_DEAD,
        /**
         * The harness's record: the port may have died, for some kernels or all (note: why). b = 1: a crash touched
         * it (a kernel it passed through, or its carrying message may pass, crashed): for good, as proxies through
         * that kernel die whatever becomes of the port. b = 0: a renewal (its carrying message, or that of the
         * port it is queued in, may pass the renewed kernel): a = when its move began; the mark lasts until its
         * next MOVE_ARRIVED (review late1 A1), for the whole run if there is none.
         */
        PORT_MAY_BE_DEAD,
        /**
         * The harness's record: a renewal of a kernel (note) may have killed the client's (who) right to the port
         * under name a (0: the published one), which crossed that kernel; the port lives on. b: the time until which
         * the renewal may still kill what is sent over the right (the other kernels declare the renewed one dead
         * within it; 0: until the mark).
         */
        RIGHT_MAY_BE_DEAD,
        /**
         * The harness's record (review C2): a renewal of a kernel (note) cut the links on which the client's (who)
         * messages to the port sent over name a (0: the published one) between times c and b may still be. b is when
         * the port's receive right arrived on the client's kernel (the harness's time, when the server received it:
         * a little later than the kernel's); c is when its last move away from the client's kernel began
         * (Long.MIN_VALUE: it was never there before). Between the two the right was remote, and a send went through
         * the client's proxy towards the kernels the right lived on since (or passed on its moves), the renewed one
         * among them or the client's own; before c the right was local and its messages moved with it. Recorded at
         * the first renewal of each such kernel after the arrival only (a later one cannot find the message on its
         * links: the first cut them). The checker exempts such a message (sent from c, before b) only within two
         * leases of the arrival, if not delivered at all, or for an rpc if its request was delivered before b (by a
         * server on another kernel, so its reply may have crossed the renewed one). The right itself, to a port on
         * its own kernel, lives (no mark: DEAD_NAME for it stays a violation), and what is sent over it from b is
         * local.
         */
        IN_FLIGHT_MAY_BE_LOST,
        /** A server gave the client (who) a new send right to the port under name a, after a renewal. */
        RIGHT_GIVEN,
        /** A kernel crashed (who = the kernel); or was paused, or renewed its IPC session (note). */
        KERNEL,
        /** A client or server is gone with its kernel. */
        GONE,
        /** A call still unanswered at the end: note says which. */
        UNANSWERED,
        /** Something the harness did not expect from the core (note says what). */
        UNEXPECTED,
        /** The quiet period starts: no faults, no new messages from now on. */
        QUIET
    }

    /** One entry. */
    public record Entry(long time, Kind kind, String who, int port, long a, long b, long c, String note) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%10.3f ms %-20s %-4s p%-3d a=%d b=%d%s %s", time / 1e6, kind, who, port, a, b,
                    c == 0 ? "" : " c=" + c, note);
        }
    }

    private final long leaseNanos;
    private final List<Entry> entries = new ArrayList<>();

    /** @param leaseNanos the kernels' lease (ns) */
    public IpcHistory(long leaseNanos) {
        this.leaseNanos = leaseNanos;
    }

    /** The kernels' lease (ns): a frame on a live link arrives within two (docs/chaos.md). */
    public long leaseNanos() {
        return leaseNanos;
    }

    void add(long time, Kind kind, String who, int port, long a, long b, String note) {
        add(time, kind, who, port, a, b, 0, note);
    }

    void add(long time, Kind kind, String who, int port, long a, long b, long c, String note) {
        entries.add(new Entry(time, kind, who, port, a, b, c, note));
    }

    public List<Entry> entries() {
        return Collections.unmodifiableList(entries);
    }
}
