package io.machxp.kernel.ipc;

import java.util.function.Consumer;

/** A thread blocked in the receive half of mach_msg, on a port or a port set. */
final class ReceiveWait {
    final IpcSpace space;
    final int tid;
    final int rcvSize;
    final boolean large;
    final Consumer<MsgReturn> done;
    /** The Port or PortSet waited on. */
    final Object on;
    Runnable cancelTimer;

    ReceiveWait(IpcSpace space, int tid, int rcvSize, boolean large, Object on, Consumer<MsgReturn> done) {
        this.space = space;
        this.tid = tid;
        this.rcvSize = rcvSize;
        this.large = large;
        this.on = on;
        this.done = done;
    }
}
