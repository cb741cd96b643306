package io.machxp.kernel.ipc;

import java.util.function.Consumer;

/** A thread blocked in the send half of mach_msg: its message is copied in and waits for room in the queue. */
final class SendWait {
    final IpcSpace space;
    final int tid;
    final KMsg msg;
    final Consumer<KernReturn> done;
    Runnable cancelTimer;

    SendWait(IpcSpace space, int tid, KMsg msg, Consumer<KernReturn> done) {
        this.space = space;
        this.tid = tid;
        this.msg = msg;
        this.done = done;
    }
}
