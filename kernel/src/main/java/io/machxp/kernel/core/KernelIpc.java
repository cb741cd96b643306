package io.machxp.kernel.core;

import io.machxp.kernel.ipc.IpcCore;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.task.MachThread;
import io.machxp.proto.task.Errno;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Mach IPC requests of the kernel's tasks, checked the way every request is (the task and thread
 * exist: ESRCH; a thread makes one call at a time: EBUSY) and handed to the {@link IpcCore}.
 * Mach's own outcomes (KERN_*, MACH_SEND_*, MACH_RCV_*) are the answers' values, not errors. Part
 * of the kernel core: core thread only.
 *
 * <p>A thread blocked in mach_msg is blocked like one in a futex wait: its death answers the call
 * with ESRCH (the IPC core forgets the wait and destroys a message still waiting to be queued),
 * and a caller that gives up ({@link #abort}) gets MACH_SEND_INTERRUPTED (the message's rights
 * back in its space) or MACH_RCV_INTERRUPTED.
 */
public final class KernelIpc {
    private final KernelCore core;
    private final IpcCore ipc;

    KernelIpc(KernelCore core, IpcCore ipc) {
        this.core = core;
        this.ipc = ipc;
    }

    /** A mach_port_* routine on task {@code taskId}: {@code routine} gets the IPC core and returns the routine's result. */
    public <T> void port(long taskId, Function<IpcCore, T> routine, Reply<T> reply) {
        core.checkThread();
        if (core.tasks.connectedTask(taskId, reply) != null) {
            reply.complete(routine.apply(ipc));
        }
    }

    /**
     * mach_msg by thread {@code tid}: see {@link IpcCore#machMsg}. The reply comes when the call
     * is done - at once, or when the blocked thread is woken.
     */
    public void machMsg(long taskId, int tid, MachMessage msg, int option, int rcvSize, int rcvName, long timeoutMs,
            Reply<MsgReturn> reply) {
        machMsg(taskId, tid, msg, option, rcvSize, rcvName, timeoutMs, io.machxp.kernel.ipc.ReceiveGate.NONE, reply);
    }

    /** {@link #machMsg}, a message received only as {@code gate} allows (the network caller's liveness and size bound). */
    public void machMsg(long taskId, int tid, MachMessage msg, int option, int rcvSize, int rcvName, long timeoutMs,
            io.machxp.kernel.ipc.ReceiveGate gate, Reply<MsgReturn> reply) {
        core.checkThread();
        MachThread t = core.tasks.thread(taskId, tid, reply);
        if (t == null || KernelTasks.busy(t, reply)) {
            return;
        }
        if (timeoutMs < 0) {
            reply.fail(KernelError.of(Errno.EINVAL, "mach_msg timeout of %d ms: give 0 or more", timeoutMs));
            return;
        }
        ipc.machMsg(taskId, tid, msg, option, rcvSize, rcvName, timeoutMs, gate, blockedInMachMsg(t, reply));
    }

    /** Thread {@code t} is blocked in mach_msg until {@code reply} is answered: what answers it. */
    private static Consumer<MsgReturn> blockedInMachMsg(MachThread t, Reply<MsgReturn> reply) {
        t.blockedIn = "mach_msg";
        t.blockedReply = reply;
        return result -> {
            if (t.blockedReply == reply) {
                t.blockedIn = null;
                t.blockedReply = null;
            }
            reply.complete(result);
        };
    }

    /**
     * A streamed receive on {@code rcvName} between two messages, waiting for its client to read
     * (the network layer's flow control): the thread stays inside its call, blocked in mach_msg
     * (its other calls are EBUSY) and still a receiver of the name, taking no message: what ends
     * a waiting receive completes {@code holder} with the same code (the port's death
     * MACH_RCV_PORT_DIED, its joining a set MACH_RCV_PORT_CHANGED; see {@link IpcCore#holdReceive});
     * the thread's death fails it (ESRCH); {@link #abort} or {@link #release} ends the hold.
     */
    public void hold(long taskId, int tid, int rcvName, Reply<MsgReturn> holder) {
        core.checkThread();
        MachThread t = core.tasks.thread(taskId, tid, holder);
        if (t == null || KernelTasks.busy(t, holder)) {
            return;
        }
        ipc.holdReceive(taskId, tid, rcvName, blockedInMachMsg(t, holder));
    }

    /**
     * Ends a {@link #hold} that has not ended otherwise (the holder answered, the thread ended or
     * was aborted): the name to receive on next, the held port's or set's name now (a
     * mach_port_rename meanwhile changes it), or MACH_PORT_NULL if {@code holder} no longer holds
     * the thread.
     */
    public int release(long taskId, int tid, Reply<MsgReturn> holder) {
        core.checkThread();
        var task = core.tasks.task(taskId);
        MachThread t = task == null ? null : task.thread(tid);
        if (t == null || t.blockedReply != holder) {
            return Mach.MACH_PORT_NULL;
        }
        int name = ipc.releaseHold(tid); // MACH_PORT_NULL only if the IPC core lost the hold: the stream then ends
        t.blockedIn = null;
        t.blockedReply = null;
        return name;
    }

    /** The caller of a blocked mach_msg gave up: it is answered MACH_SEND_INTERRUPTED or MACH_RCV_INTERRUPTED. */
    public void abort(long taskId, int tid, Reply<MsgReturn> call) {
        core.checkThread();
        var task = core.tasks.task(taskId);
        MachThread t = task == null ? null : task.thread(tid);
        if (t == null || t.blockedReply != call) {
            return;
        }
        KernReturn why = ipc.interrupt(tid);
        t.blockedIn = null;
        t.blockedReply = null;
        if (why != null) {
            call.complete(MsgReturn.of(why));
        }
    }
}
