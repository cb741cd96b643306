package io.machxp.kernel.net;

import io.grpc.stub.ServerCallStreamObserver;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.proto.task.Errno;
import io.machxp.proto.task.MachMsgReply;

/**
 * One streamed receive (MachMsgReceive, MachMsgReceiveOnDemand): a mach_msg at a time on the core
 * thread, the next once its message is out, the stream can take more (gRPC's isReady) and the
 * client asked for more (its demand: unbounded for MachMsgReceive, the count of messages it
 * requested and was not yet sent for MachMsgReceiveOnDemand). A message is dequeued only by the
 * receive that sends it, as mach_msg's; so with demand a client that cancels loses none it did not
 * ask for: everything it did not request stays queued on the port. Without demand, isReady is true
 * while gRPC's buffers (tens of KiB) have room, so a cancel drops what was in them (docs/mach-ipc.md).
 * Between two messages the thread is held in its call ({@code KernelIpc.hold}): still blocked in
 * mach_msg and a receiver of the name, its other calls EBUSY; what would end a waiting receive
 * (the port's death, its joining a set) ends the stream with that code, and the thread's death
 * with ESRCH.
 * <pre>
 *   unstarted --start, demand > 0--> receiving       unstarted --request--> receiving
 *   receiving --message--> held --isReady and demand > 0 (onReady / request)--> receiving
 *   receiving --other code--> ended (the last reply)        held --port died / changed--> ended
 *   any --cancel--> ended (interrupted)   any --refuse--> ended (error)   either --thread died--> ended (ESRCH)
 * </pre>
 * Every method but the constructor and the handlers it installs runs on the core thread.
 */
final class StreamedReceive {
    /** The demand of a MachMsgReceive: as many messages as the stream can take. */
    static final long UNBOUNDED = Long.MAX_VALUE;

    private final ServedKernel kernel;
    private final ServerCallStreamObserver<MachMsgReply> out;
    private TaskHandles.Ref ref;
    private int thread;
    private int option;
    private int rcvSize;
    /** The name received on: the port's or set's, which mach_port_rename may change between two messages. */
    private int rcvName;
    private long timeout;
    /** Messages the client asked for and was not sent yet. */
    private long demand;
    /** The first receive was made. */
    private boolean begun;
    private boolean ended;
    /** The call in the core now, to interrupt on cancel: a receive or a hold. */
    private Reply<MsgReturn> current;
    /** The hold between two messages, while there is one. */
    private Reply<MsgReturn> held;
    private volatile boolean cancelled;
    /** Checked before each message is dequeued: a stream cancelled (or past its deadline) takes none. */
    private final CallGate gate;

    /** On the gRPC thread that starts the call: installs the cancel and ready handlers. */
    StreamedReceive(ServedKernel kernel, ServerCallStreamObserver<MachMsgReply> out) {
        this.kernel = kernel;
        this.out = out;
        this.gate = new CallGate(out, () -> cancelled);
        out.setOnCancelHandler(() -> kernel.execute(() -> {
            cancelled = true;
            interrupt();
        }));
        out.setOnReadyHandler(() -> kernel.execute(this::resume));
    }

    /** The receive to make, with the client's first demand; it starts now if the demand is not 0. */
    void start(TaskHandles.Ref ref, int thread, int option, int rcvSize, int rcvName, long timeout, long demand) {
        this.ref = ref;
        this.thread = thread;
        this.option = option;
        this.rcvSize = rcvSize;
        this.rcvName = rcvName;
        this.timeout = timeout;
        request(demand);
    }

    /** The client asks for {@code n} more messages. */
    void request(long n) {
        demand = demand > UNBOUNDED - n ? UNBOUNDED : demand + n;
        if (ref == null || demand == 0) {
            return;
        }
        if (!begun) {
            receive();
        } else {
            resume();
        }
    }

    /** Ends the stream with {@code error} (bad input on it); a message being received stays queued. */
    void refuse(KernelError error) {
        if (ended || cancelled) {
            return;
        }
        ended = true;
        cancelled = true; // what the interrupted call answers goes nowhere
        interrupt();
        Answers.fail(out, error);
    }

    private void interrupt() {
        if (current != null) {
            ref.core().ipc().abort(ref.id(), thread, current);
        }
    }

    /** The next receive, if the stream is held and its client can take more and asked for it. */
    private void resume() {
        Reply<MsgReturn> h = held;
        if (h == null || cancelled || demand == 0 || !out.isReady()) {
            return;
        }
        held = null;
        int name = ref.core().ipc().release(ref.id(), thread, h);
        if (name != Mach.MACH_PORT_NULL) {
            current = null;
            rcvName = name;
            receive();
        } else if (current == h) { // not expected: whatever else ends a hold answers its holder first
            current = null;
            ended = true;
            Answers.fail(out, KernelError.of(Errno.ESRCH,
                    "thread %d is no longer receiving on name 0x%x; start the receive again", thread, rcvName));
        }
    }

    /** Holds the thread in its call between two messages; resumes soon if the stream can take more. */
    private void hold() {
        Reply<MsgReturn> holder = new Reply<>() {
            @Override
            public void complete(MsgReturn m) { // what ended the receive the thread is in
                end(this);
                if (!cancelled) {
                    ended = true;
                    out.onNext(IpcMessages.toProto(m));
                    out.onCompleted();
                }
            }

            @Override
            public void fail(KernelError error) {
                end(this);
                if (!cancelled) {
                    ended = true;
                    Answers.fail(out, error);
                }
            }
        };
        current = holder;
        held = holder;
        ref.core().ipc().hold(ref.id(), thread, rcvName, holder);
        if (held == holder && demand > 0 && out.isReady()) {
            kernel.execute(this::resume); // not at once: a queue of messages would nest one receive in another
        }
    }

    private void end(Reply<MsgReturn> holder) {
        if (current == holder) {
            current = null;
        }
        if (held == holder) {
            held = null;
        }
    }

    /** One receive. */
    private void receive() {
        if (cancelled) {
            return;
        }
        begun = true;
        Reply<MsgReturn> reply = new Reply<>() {
            @Override
            public void complete(MsgReturn m) {
                current = null;
                if (cancelled) {
                    return;
                }
                // a message received with rights lost to a full name space is a message too
                if (m.code() == KernReturn.MACH_MSG_SUCCESS || m.code() == KernReturn.MACH_RCV_BODY_ERROR_IPC_SPACE) {
                    if (demand != UNBOUNDED) {
                        demand--;
                    }
                    out.onNext(IpcMessages.toProto(m));
                    hold();
                } else {
                    ended = true;
                    out.onNext(IpcMessages.toProto(m));
                    out.onCompleted();
                }
            }

            @Override
            public void fail(KernelError error) {
                current = null;
                if (!cancelled) {
                    ended = true;
                    Answers.fail(out, error);
                }
            }
        };
        current = reply;
        ref.core().ipc().machMsg(ref.id(), thread, null, option, rcvSize, rcvName, timeout, gate, reply);
    }
}
