package io.machxp.kernel.ipc;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Mach IPC on one kernel as a single-threaded state machine: per-task port name spaces, rights
 * with user references, message queues, mach_msg and notifications. No I/O, clock or thread
 * inside: inputs are calls on the core thread (a task's mach_port_* or mach_msg, a timer firing,
 * a task or thread ending), outputs are return codes and answers to blocked mach_msg calls
 * (through {@link Consumer}s), and timers through {@link IpcEnv}. The kernel core drives it from
 * its event loop, as it does the futex and VM parts; the simulator drives it in virtual time.
 *
 * <h2>Overview</h2>
 * This class is the facade: it finds the task's name space ({@link IpcSpace}; KERN_INVALID_TASK
 * if none) and hands the call to the part that owns it:
 * <ul>
 *   <li>{@link PortCalls}: mach_port_allocate, deallocate, destroy, mod_refs, insert_right,
 *       extract_right, move_member, rename, names, get_set_status, set_qlimit / set_seqno / set_mscount /
 *       get_receive_status / get/set_attributes;
 *       {@link NotifyRequests}: mach_port_request_notification;
 *   <li>{@link MsgSend} (copyin, queue limits) and {@link Delivery} (queues, receivers, the
 *       receive half): mach_msg;
 *   <li>{@link Rights}: copyin, copyout and the end of rights; {@link PortDeath}: a receive right
 *       dying; {@link Notifications}: the kernel's messages about it all.
 * </ul>
 * Threads: a thread blocked in mach_msg is remembered by its TID ({@link #waiting}), so that its
 * death ({@link #threadEnded}) takes it out of the queue it waits in. A task's death
 * ({@link #spaceDestroy}) ends every right in its space.
 *
 * <p>Across kernels ({@link IpcRemote}, through an {@link IpcNet}): a port whose receive right
 * lives on another kernel is a proxy here ({@link Port#remote}); messages enqueued on it are
 * carried there, rights are exported and imported ({@link RemoteRights}), send rights are
 * counted across kernels for no-senders ({@link RemoteRefs}), and a message carried out stays
 * charged to its sender's budget of queued bytes until the other kernel is done with it
 * ({@link InFlight}).
 */
public final class IpcCore {
    final IpcEnv env;
    final Rights rights = new Rights(this);
    final PortDeath death = new PortDeath(this);
    final Notifications notifications = new Notifications(this);
    final Delivery delivery = new Delivery(this);
    private final MsgSend send = new MsgSend(this);
    private final PortCalls ports = new PortCalls(this);
    private final NotifyRequests requests = new NotifyRequests(this);
    final RemoteRefs refs = new RemoteRefs(this);
    final SendOnceRefs soRefs = new SendOnceRefs(this);
    final RemoteRights remoteRights = new RemoteRights(this);
    final IpcRemote remote = new IpcRemote(this);
    final InFlight inFlight = new InFlight(this);
    IpcNet net = IpcNet.NONE;
    IpcSched sched = IpcSched.NONE;
    IpcPlants plants = IpcPlants.NONE;
    /** Steps of the core's searches, counted for tests ({@link IpcWork}). */
    final IpcWork work = new IpcWork();
    /** Chains of receive rights in transit: the cycle check and its bound ({@link TransitChains}). */
    final TransitChains transit = new TransitChains(work);
    /**
     * The most bytes of messages sent by tasks that may be queued on this kernel's ports at once
     * (see {@link MsgSend#cost}): what bounds the memory tasks can make the kernel keep in queues,
     * which qlimit alone does not (a message to a send-once right ignores it). Beyond it a send is
     * MACH_SEND_NO_BUFFER, as in GNU Mach when no kernel message buffer can be allocated.
     */
    public static final long DEFAULT_QUEUED_BYTES = 128L << 20;
    /**
     * One task's messages may take at most this fraction of the budget, so that a task queueing
     * without end is refused while the others still send (it takes several such tasks to fill it).
     */
    static final int TASK_SHARES = 4;

    long queuedBytesLimit = DEFAULT_QUEUED_BYTES;
    private final Map<Long, IpcSpace> spaces = new HashMap<>();
    /** Port names of all tasks together ({@link NameBudget}). */
    private final NameBudget names = new NameBudget();
    /** Threads blocked in mach_msg: a ReceiveWait or SendWait by TID. */
    private final Map<Integer, Object> waits = new HashMap<>();
    /** Kernels whose death this core has processed, in this session, until they revive ({@link #deadHere}). */
    private final java.util.Set<Integer> deathsHeard = new java.util.HashSet<>();
    /**
     * The latest IPC session of each other kernel this core heard of, from its frames and its
     * revival, in order with the frames ({@link #earlierSession}): send-once reports and counts
     * name a session, and an earlier one's are a dead kernel's (review late1 A3).
     */
    private final Map<Integer, Integer> sessionsHeard = new HashMap<>();
    /** The IPC session of the frame {@link #linkReceive} is receiving, and the kernel it is from; null between frames. */
    private Integer receivingSession;
    private int receivingFrom;
    private long nextObjectId = 1;

    public IpcCore(IpcEnv env) {
        this.env = env;
    }

    /** Connects this core to other kernels' (before the first call). */
    public void attachNet(IpcNet net) {
        this.net = net;
    }

    /** Plants bugs in this core's logic (tests of the IPC chaos checker only). */
    public void plant(IpcPlants plants) {
        this.plants = plants;
    }

    /** Sets the budget of port names of all tasks together ({@link NameBudget#DEFAULT_MAX} unless set; tests use less). */
    public void limitNames(int count) {
        names.limit(count);
    }

    /** Port names all tasks hold now. */
    public int namesInUse() {
        return names.used();
    }

    /** Port names that count to {@code owner}'s peer now (its tasks', and those made for its rights in in-process tasks). */
    public int namesOfPeerOf(Object owner) {
        return names.usedByPeerOf(owner);
    }

    /** The kernel's budget of port names. */
    NameBudget names() {
        return names;
    }

    /** Sets the budget of queued message bytes ({@link #DEFAULT_QUEUED_BYTES} unless set; tests use less). */
    public void limitQueuedBytes(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("a queued-bytes budget is 0 or more, not " + bytes);
        }
        queuedBytesLimit = bytes;
    }

    /**
     * Bytes of the messages this kernel's tasks sent that are queued now: on its ports, or on
     * another kernel's after being carried there ({@link #inFlightBytes}).
     */
    public long queuedBytes() {
        return delivery.queuedBytes;
    }

    /** Of {@link #queuedBytes}, the bytes counted to {@code owner}'s client peer ({@link QueuedShares}). */
    public long queuedBytesOfPeerOf(Object owner) {
        return delivery.peers.usedBy(owner instanceof NameOwner o ? o.peer() : owner);
    }

    /** Of {@link #queuedBytes}, the bytes counted to client peers, all together ({@link QueuedShares}). */
    public long queuedBytesOfPeers() {
        return delivery.peers.remoteUsed();
    }

    /** Of {@link #queuedBytes}, the bytes carried to other kernels that they have not finished with yet. */
    public long inFlightBytes() {
        return inFlight.bytes;
    }

    /** Messages carried to other kernels (made here or passed on) that they have not finished with yet. */
    public int inFlightMessages() {
        return inFlight.size();
    }

    /** Priority donation through RPC (not attached, or --no-pi: none). */
    public void attachSched(IpcSched sched) {
        this.sched = sched;
    }

    IpcSpace space(long taskId) {
        return spaces.get(taskId);
    }

    // ---- other kernels ------------------------------------------------------------------------

    /** A frame from kernel {@code from}'s IPC core, in the order it sent them. */
    public void linkReceive(int from, io.machxp.proto.link.LinkFrame frame) {
        remote.receive(from, frame);
    }

    /** As {@link #linkReceive(int, io.machxp.proto.link.LinkFrame)}, from that kernel's IPC session {@code session}. */
    public void linkReceive(int from, int session, io.machxp.proto.link.LinkFrame frame) {
        sessionsHeard.merge(from, session, Math::max);
        Integer was = receivingSession;
        int wasFrom = receivingFrom;
        receivingSession = session;
        receivingFrom = from;
        try {
            remote.receive(from, frame);
        } finally {
            receivingSession = was;
            receivingFrom = wasFrom;
        }
    }

    /**
     * The IPC session of {@code kernel} that a right from it came in: the session of the frame
     * being received, if it is that kernel's; else the latest heard of (review late3 A3: the latest
     * heard may be a later session than the frame's, when the kernel rejoined again meanwhile).
     */
    Integer sessionOfFrom(int kernel) {
        return receivingSession != null && receivingFrom == kernel ? receivingSession : sessionsHeard.get(kernel);
    }

    /** Kernel {@code kernel} died (its lease ran out): rights to its ports become dead names here. */
    public void kernelDied(int kernel) {
        deathsHeard.add(kernel);
        remote.kernelDied(kernel);
        inFlight.kernelDied(kernel);
    }

    /**
     * This kernel renewed its IPC session while alive: every other kernel was declared dead here
     * first ({@link #kernelDied}), and {@link #attachNet} gave the new session's links. The uids of
     * the earlier session are forgotten: local ports are exported afresh, the others' ports arrive
     * again as new proxies (docs/mach-ipc.md, "Rejoining while alive").
     */
    public void renewSession() {
        deathsHeard.clear();
        remoteRights.renew();
    }

    /**
     * Kernel {@code kernel}, declared dead here ({@link #kernelDied}), rejoined with a later session
     * and is alive again for this core: its next death counts anew ({@link #deadHere}).
     */
    public void kernelRevived(int kernel) {
        deathsHeard.remove(kernel);
    }

    /** As {@link #kernelRevived(int)}, with its IPC session {@code session}: the earlier ones are dead ({@link #earlierSession}). */
    public void kernelRevived(int kernel, int session) {
        kernelRevived(kernel);
        sessionsHeard.merge(kernel, session, Math::max);
    }

    /** The latest IPC session of {@code kernel} this core heard of (its frames, its revival); null if none. */
    Integer sessionHeard(int kernel) {
        return sessionsHeard.get(kernel);
    }

    /**
     * Whether {@code session} of {@code kernel} is earlier than one this core heard of, in order
     * with the frames: that session is dead, whatever {@link #deadHere} says of the kernel now.
     */
    boolean earlierSession(int kernel, int session) {
        Integer heard = sessionsHeard.get(kernel);
        return heard != null && session < heard;
    }

    /**
     * Whether this core has processed kernel {@code kernel}'s death ({@link #kernelDied}) and the
     * links still call it dead: the view of the core thread, in order with the frames. The links
     * ({@link IpcNet#dead}) call a kernel dead at once, while its death reaches the core behind the
     * frames it sent before; accounting that a death settles (send-once counts, send-right halves)
     * must judge by this, or a frame processed between the two is counted neither way.
     */
    boolean deadHere(int kernel) {
        return deathsHeard.contains(kernel) && net.dead(kernel);
    }

    /**
     * mach_port_insert_right across kernels: the right task {@code taskId} names {@code name}
     * (with {@code disposition}), into task {@code toTask} of kernel {@code kernel} under
     * {@code toName}. The insertion happens when the frame arrives; if the task is gone or the
     * name taken there, the right ends (as one in a message destroyed would).
     */
    public KernReturn machPortInsertRemote(long taskId, int name, MsgType disposition, int kernel, long toTask,
            int toName) {
        return machPortInsertRemote(taskId, name, disposition, kernel, toTask, false, toName);
    }

    /**
     * As {@link #machPortInsertRemote(long, int, MsgType, int, long, int)}; with {@code toTaskIsHandle}
     * the target task is named by a task handle that kernel gave a gRPC client, translated there.
     */
    public KernReturn machPortInsertRemote(long taskId, int name, MsgType disposition, int kernel, long toTask,
            boolean toTaskIsHandle, int toName) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? KernReturn.KERN_INVALID_TASK
                : remote.insertRight(s, name, disposition, kernel, toTask, toTaskIsHandle, toName);
    }

    long nextObjectId() {
        return nextObjectId++;
    }

    // ---- tasks and threads --------------------------------------------------------------------

    /**
     * A new task gets an empty name space, the names it makes counted in the kernel's budget alone
     * (those made for others' rights count to the rights' payers, {@link Carried#payer}).
     */
    public void spaceCreate(long taskId) {
        spaceCreate(taskId, null);
    }

    /**
     * A new task of the client {@code owner} (compared with equals; null: none) gets an empty name
     * space; its names count in that client's part of the kernel's budget ({@link NameBudget}).
     */
    public void spaceCreate(long taskId, Object owner) {
        spaces.put(taskId, new IpcSpace(taskId, names, owner));
    }

    /** The task ended: every right in its space ends as with mach_port_destroy. */
    public void spaceDestroy(long taskId) {
        IpcSpace space = spaces.remove(taskId);
        if (space == null) {
            return;
        }
        space.active = false;
        for (IpcEntry e : space.all()) {
            if (space.lookup(e.name) != null) {
                rights.destroyEntry(space, e);
            }
        }
    }

    /** The thread ended while blocked in mach_msg: it leaves the queue it waited in; its message, if any, is destroyed. */
    public void threadEnded(int tid) {
        Object w = waits.remove(tid);
        if (w instanceof ReceiveWait r) {
            cancel(r.cancelTimer);
            Delivery.queueOf(r).remove(r);
        } else if (w instanceof SendWait s) {
            cancel(s.cancelTimer);
            delivery.unblock(s.msg.dest.port(), s);
            delivery.destroy(s.msg);
        }
    }

    /**
     * The caller of a blocked mach_msg gave up: a blocked send is pseudo-received (the message's
     * rights go back to the sender) and returns MACH_SEND_INTERRUPTED; a blocked receive returns
     * MACH_RCV_INTERRUPTED. Null if the thread was not blocked here. The call's own answer is not
     * given: the caller answers with the code returned.
     */
    public KernReturn interrupt(int tid) {
        Object w = waits.get(tid);
        if (w instanceof SendWait s) {
            waits.remove(tid);
            cancel(s.cancelTimer);
            delivery.unblock(s.msg.dest.port(), s);
            return send.pseudoReceive(s.space, s.msg, KernReturn.MACH_SEND_INTERRUPTED);
        }
        if (w != null) {
            threadEnded(tid);
            return KernReturn.MACH_RCV_INTERRUPTED;
        }
        return null;
    }

    /** Whether the thread is blocked in mach_msg. */
    public boolean waiting(int tid) {
        return waits.containsKey(tid);
    }

    void startWait(int tid, Object wait) {
        waits.put(tid, wait);
    }

    void endWait(int tid, Runnable cancelTimer) {
        waits.remove(tid);
        cancel(cancelTimer);
    }

    private static void cancel(Runnable timer) {
        if (timer != null) {
            timer.run();
        }
    }

    // ---- mach_msg -----------------------------------------------------------------------------

    /**
     * mach_msg: with MACH_SEND_MSG sends {@code msg}; then, if that succeeded, with MACH_RCV_MSG
     * receives on {@code rcvName} a message of at most {@code rcvSize} bytes. {@code timeoutMs}
     * applies to each half whose *_TIMEOUT option is set (0: do not wait). {@code done} is called
     * once, now or when the thread is woken; never after {@link #threadEnded}.
     */
    public void machMsg(long taskId, int tid, MachMessage msg, int option, int rcvSize, int rcvName, long timeoutMs,
            Consumer<MsgReturn> done) {
        machMsg(taskId, tid, msg, option, rcvSize, rcvName, timeoutMs, ReceiveGate.NONE, done);
    }

    /** {@link #machMsg}, a message received only as {@code gate} allows (a network caller's). */
    public void machMsg(long taskId, int tid, MachMessage msg, int option, int rcvSize, int rcvName, long timeoutMs,
            ReceiveGate gate, Consumer<MsgReturn> done) {
        IpcSpace space = spaces.get(taskId);
        if (space == null) {
            done.accept(MsgReturn.of(KernReturn.KERN_INVALID_TASK));
            return;
        }
        long sendTimeout = (option & Mach.MACH_SEND_TIMEOUT) != 0 ? timeoutMs * 1_000_000 : -1;
        long rcvTimeout = (option & Mach.MACH_RCV_TIMEOUT) != 0 ? timeoutMs * 1_000_000 : -1;
        boolean receive = (option & Mach.MACH_RCV_MSG) != 0;
        boolean large = (option & Mach.MACH_RCV_LARGE) != 0;
        Runnable rcv = () -> delivery.receive(space, tid, rcvName, rcvSize, large, rcvTimeout, gate, done);
        if ((option & Mach.MACH_SEND_MSG) != 0 && msg == null) {
            done.accept(MsgReturn.of(KernReturn.MACH_SEND_MSG_TOO_SMALL)); // no header at all
            return;
        }
        if ((option & Mach.MACH_SEND_MSG) == 0) {
            if (receive) {
                rcv.run();
            } else {
                done.accept(MsgReturn.of(KernReturn.MACH_MSG_SUCCESS));
            }
            return;
        }
        // the RPC idiom: the reply right is made send-once from the port this call then receives on
        int donation = receive && msg.localPort() == rcvName && msg.localType() == MsgType.MAKE_SEND_ONCE
                ? sched.priority(tid) : -1;
        send.send(space, tid, msg, sendTimeout, donation, code -> {
            if (code == KernReturn.MACH_SEND_NO_BUFFER) {
                // refused at once, before anything changed: the budget that refused it says why (null: another cause)
                done.accept(new MsgReturn(code, null, 0, delivery.overBudgetDetail(space, MsgSend.cost(msg))));
            } else if (!code.ok() || !receive) {
                done.accept(MsgReturn.of(code));
            } else if (space.active) {
                rcv.run();
            }
        });
    }

    /**
     * A streamed receive on {@code rcvName} between two messages (the network layer waits for its
     * client to read): thread {@code tid} stays blocked in mach_msg, taking no message, and
     * {@code done} gets what a receive waiting on the name would get when the right leaves the
     * task (MACH_RCV_PORT_DIED), the port joins a set (MACH_RCV_PORT_CHANGED) or the set dies - at
     * once if the name is no longer one to receive on. {@link #releaseHold} ends it quietly;
     * {@link #interrupt} and {@link #threadEnded} as they end a receive.
     */
    public void holdReceive(long taskId, int tid, int rcvName, Consumer<MsgReturn> done) {
        IpcSpace space = spaces.get(taskId);
        if (space == null) {
            done.accept(MsgReturn.of(KernReturn.KERN_INVALID_TASK));
            return;
        }
        delivery.hold(space, tid, rcvName, done);
    }

    /**
     * Ends a {@link #holdReceive} without an answer: the name the held port or set has now in its
     * task (mach_port_rename may have changed it; the next receive uses it), or MACH_PORT_NULL if
     * the thread was not held.
     */
    public int releaseHold(int tid) {
        if (waits.get(tid) instanceof ReceiveWait r && r.held) {
            threadEnded(tid);
            if (r.on instanceof PortSet set) {
                return set.name;
            }
            IpcEntry e = r.space.nameOf((Port) r.on);
            return e == null ? Mach.MACH_PORT_NULL : e.name;
        }
        return Mach.MACH_PORT_NULL;
    }

    // ---- mach_port_* --------------------------------------------------------------------------

    public IpcResult<Integer> machPortAllocate(long taskId, int right) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? noTask() : ports.allocate(s, right);
    }

    public IpcResult<Integer> machPortAllocateName(long taskId, int right, int name) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? noTask() : ports.allocateName(s, right, name);
    }

    public KernReturn machPortDeallocate(long taskId, int name) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? KernReturn.KERN_INVALID_TASK : ports.deallocate(s, name);
    }

    public KernReturn machPortDestroy(long taskId, int name) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? KernReturn.KERN_INVALID_TASK : ports.destroy(s, name);
    }

    public KernReturn machPortModRefs(long taskId, int name, int right, int delta) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? KernReturn.KERN_INVALID_TASK : ports.modRefs(s, name, right, delta);
    }

    public IpcResult<Integer> machPortGetRefs(long taskId, int name, int right) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? noTask() : ports.getRefs(s, name, right);
    }

    /** mach_port_type: the MACH_PORT_TYPE_* bits of a name. */
    public IpcResult<Integer> machPortType(long taskId, int name) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? noTask() : ports.type(s, name);
    }

    /** mach_port_insert_right into task {@code taskId} under {@code name}: the right task {@code fromTask} names {@code fromName}. */
    public KernReturn machPortInsertRight(long taskId, int name, long fromTask, int fromName, MsgType disposition) {
        IpcSpace s = spaces.get(taskId);
        IpcSpace from = spaces.get(fromTask);
        return s == null || from == null ? KernReturn.KERN_INVALID_TASK
                : ports.insertRight(s, name, from, fromName, disposition);
    }

    /** mach_port_extract_right from task {@code taskId} into task {@code toTask}: the new name there and the right's type. */
    public IpcResult<MsgItem.Port> machPortExtractRight(long taskId, int name, MsgType disposition, long toTask) {
        IpcSpace s = spaces.get(taskId);
        IpcSpace to = spaces.get(toTask);
        return s == null || to == null ? noTask() : ports.extractRight(s, name, disposition, to);
    }

    public KernReturn machPortMoveMember(long taskId, int member, int after) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? KernReturn.KERN_INVALID_TASK : ports.moveMember(s, member, after);
    }

    public KernReturn machPortSetQlimit(long taskId, int name, int qlimit) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? KernReturn.KERN_INVALID_TASK : ports.setQlimit(s, name, qlimit);
    }

    /** mach_port_rename: the rights under {@code oname} move to the unused name {@code nname}. */
    public KernReturn machPortRename(long taskId, int oname, int nname) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? KernReturn.KERN_INVALID_TASK : ports.rename(s, oname, nname);
    }

    /** mach_port_names: the task's names and their types. */
    public IpcResult<PortNames> machPortNames(long taskId) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? noTask() : ports.names(s);
    }

    /** mach_port_get_set_status: the names of a port set's members. */
    public IpcResult<int[]> machPortGetSetStatus(long taskId, int name) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? noTask() : ports.getSetStatus(s, name);
    }

    /** mach_port_set_seqno: the sequence number of the next message received through the port. */
    public KernReturn machPortSetSeqno(long taskId, int name, int seqno) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? KernReturn.KERN_INVALID_TASK : ports.setSeqno(s, name, seqno);
    }

    /** mach_port_set_mscount: the port's make-send count. */
    public KernReturn machPortSetMscount(long taskId, int name, int mscount) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? KernReturn.KERN_INVALID_TASK : ports.setMscount(s, name, mscount);
    }

    public IpcResult<ReceiveStatus> machPortGetReceiveStatus(long taskId, int name) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? noTask() : ports.getReceiveStatus(s, name);
    }

    public IpcResult<int[]> machPortGetAttributes(long taskId, int name, int flavor) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? noTask() : ports.getAttributes(s, name, flavor);
    }

    public KernReturn machPortSetAttributes(long taskId, int name, int flavor, int[] info) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? KernReturn.KERN_INVALID_TASK : ports.setAttributes(s, name, flavor, info);
    }

    /** mach_port_request_notification; returns the previous request's send-once right (a name, or MACH_PORT_NULL). */
    public IpcResult<Integer> machPortRequestNotification(long taskId, int name, int variant, int sync, int notify,
            MsgType notifyDisposition) {
        IpcSpace s = spaces.get(taskId);
        return s == null ? noTask() : requests.request(s, name, variant, sync, notify, notifyDisposition);
    }

    private static <T> IpcResult<T> noTask() {
        return IpcResult.fail(KernReturn.KERN_INVALID_TASK);
    }
}
