package io.machxp.kernel.ipc;

import java.util.function.Consumer;

/**
 * A thread blocked in the receive half of mach_msg, on a port or a port set; or {@link #held}:
 * inside a streamed receive between two messages, taking none, but ended as a waiting receive is
 * by the right leaving, the port joining a set or the set's death.
 */
final class ReceiveWait {
    final IpcSpace space;
    final int tid;
    final int rcvSize;
    final boolean large;
    final Consumer<MsgReturn> done;
    /** The Port or PortSet waited on. */
    final Object on;
    /** Waits in {@code heldReceives}, not {@code receivers}: no message is handed to it. */
    final boolean held;
    Runnable cancelTimer;
    /** What the network layer says of the caller, checked before a message is taken for it. */
    ReceiveGate gate = ReceiveGate.NONE;

    ReceiveWait(IpcSpace space, int tid, int rcvSize, boolean large, Object on, Consumer<MsgReturn> done) {
        this(space, tid, rcvSize, large, on, done, false);
    }

    ReceiveWait(IpcSpace space, int tid, int rcvSize, boolean large, Object on, Consumer<MsgReturn> done,
            boolean held) {
        this.held = held;
        this.space = space;
        this.tid = tid;
        this.rcvSize = rcvSize;
        this.large = large;
        this.on = on;
        this.done = done;
    }
}
