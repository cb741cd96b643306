package io.machxp.kernel.ipc;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A port: a message queue with one receive right. Core thread only.
 *
 * <h2>Overview</h2>
 * Where the receive right is ({@link #receiver}): in a task's name space, or in transit inside a
 * message (null; {@link #transitDestination} is the port that message is queued on, to refuse a
 * message that would close a cycle of receive rights). Across kernels a third place will be
 * "on kernel K" (a proxy here, the queue there); the routines ask a port for its receiver only
 * through this field, so that is where the proxy goes.
 * <pre>
 *  active, receiver = space  --MOVE_RECEIVE copied in--> active, in transit (receiver null)
 *  active, in transit        --copied out on receive--> active, receiver = the receiver's space
 *  active                    --receive right destroyed, port-destroyed requested--> in transit
 *                              (the right goes to the backup port in a PORT_DESTROYED notification)
 *  active                    --receive right destroyed otherwise--> dead (active false): every
 *                              send and send-once right becomes a dead name, queued messages are
 *                              destroyed, dead-name requests fire
 * </pre>
 * Counts: {@link #srights} send rights in existence (one per name space entry, whatever its user
 * references, plus one per right in transit), {@link #sorights} send-once rights, {@link #mscount}
 * send rights made (MAKE_SEND) since the receive right last moved. No-senders fires when srights
 * falls to 0.
 *
 * <p>Across kernels ({@link IpcRemote}): a port that has left this kernel once has a {@link #uid}.
 * With {@link #remote} set, the receive right is on (or on its way through) that kernel and this
 * port is a <em>proxy</em>: it has no queue, and what is enqueued on it is carried there. Its
 * {@link #srights} then count the send rights on this kernel only, and {@link #owed} the
 * registrations this kernel heldReceives in the port's distributed count. On the kernel of the receive
 * right, {@link #counts} is that distributed count ({@link RemoteRefs}).
 */
final class Port {
    final long id;
    boolean active = true;
    IpcSpace receiver;
    Port transitDestination;
    /**
     * At least the number of ports in the longest chain of receive rights in transit that ends at
     * this port, itself excluded ({@link TransitChains}): raised as rights are linked towards it,
     * kept (an upper bound) as they leave, 0 again once nothing is queued on it.
     */
    int transitHeight;
    /**
     * The share the notifications queued or held on this port count in ({@link #notificationBytes}):
     * the task holding its receive right; while the right is in transit, the task that moved it
     * (so one task cannot fill the kernel's budget through ports in transit); null, the kernel's
     * budget alone (a right that came from another kernel and no task here held yet).
     */
    IpcSpace notificationsChargedTo;
    /** Bytes of the notifications queued or held on this port, moved in one step to the next holder ({@link Notifications#receiveRightArrived}). */
    long notificationBytes;
    PortSet set;
    int qlimit = Mach.MACH_PORT_QLIMIT_DEFAULT;
    int seqno;
    int mscount;
    int srights;
    int sorights;
    /** Home: the send-once rights each other kernel holds ({@link SendOnceRefs}); null if none. */
    java.util.Map<Integer, Long> soCounts;
    final MessageQueue queue = new MessageQueue();
    /** Threads blocked receiving on this port directly, in arrival order. */
    final Deque<ReceiveWait> receivers = new ArrayDeque<>();
    /** Streamed receives on this port between two messages ({@link ReceiveWait#held}). */
    final Deque<ReceiveWait> heldReceives = new ArrayDeque<>();
    /** The no-senders request: its send-once right and make-send count threshold. */
    Carried nsRequest;
    int nsSync;
    /** The port-destroyed request's send-once right (to the backup port). */
    Carried pdRequest;
    /** Dead-name requests: per (space, name), the send-once right to notify. */
    final Map<DeadNameKey, Carried> deadNameRequests = new LinkedHashMap<>();

    /** The port's name between kernels; null until a right to it first leaves this kernel. */
    PortUid uid;
    /** The kernel the receive right went to (this port is a proxy), or {@link #LOCAL}. */
    int remote = LOCAL;
    /**
     * Proxy: the receive right was here once and moved on, so other kernels' proxies may point
     * here: kept while the port lives ({@link RemoteRights}). Any other proxy is forgotten once
     * nothing here refers to it; on a proxy {@link #sorights} counts the send-once rights here.
     */
    boolean forwards;
    /** Proxy: send-right registrations this kernel received and has not released. */
    long owed;
    /** Receive right here: send-right registrations per kernel (signed; see RemoteRefs); null if none ever. */
    java.util.Map<Integer, Long> counts;
    /**
     * Receive right here: registrations of rights passed on between two other kernels, each sent
     * in two halves (the sender's and the receiver's RefTransfer), of which only the first counts:
     * per (to, sender), the sender's halves in minus the receiver's ({@link RemoteRefs}); null if none.
     */
    java.util.Map<Long, Long> halves;

    /**
     * A receive right that arrived from kernel {@link #followersFrom}: how many of the messages
     * that were queued on it there are still to come on that link. Until they are in, other
     * messages for the port wait in {@link #held}, so that none overtakes a message sent before it
     * (counted in the budget of queued bytes as queued messages are, {@link Delivery#unhold}).
     */
    int followers;
    int followersFrom;
    /** A {@code PortFlush} this kernel sent along the old path of its proxy has not come back yet. */
    boolean flushPending;
    int flushVia;
    final Deque<KMsg> held = new ArrayDeque<>();

    static final int LOCAL = -1;

    boolean proxy() {
        return remote != LOCAL;
    }

    record DeadNameKey(IpcSpace space, int name) {}

    Port(long id) {
        this.id = id;
    }

    /** Whether the port's receive right is inside a message. */
    boolean inTransit() {
        return active && receiver == null && remote == LOCAL;
    }

    @Override
    public String toString() {
        return "port#" + id + (active ? "" : "(dead)");
    }
}
