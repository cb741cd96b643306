package io.machxp.demo.ipc;

import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.KernReturnException;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgItem;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import java.util.Locale;

/**
 * A client task of the IPC demo, on a kernel other than the servers': bootstrapped with a send
 * right to the name server, it looks the adder up, asks for a dead-name notification on the right
 * it got, calls it, and sees it die.
 */
final class Client {
    private static final int RCV = Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT;

    private final IpcDemo demo;
    private final String name;
    private final TaskClient task;
    private final ThreadClient thread;
    private final int reply;
    private final int notify;
    /** The adder's send right here, from the name server. */
    private final int adder;

    Client(IpcDemo demo, KernelClient kernel, NameServer names) throws InterruptedException {
        this.demo = demo;
        String kernelName = kernel.statistics().getKernelName();
        this.name = "client-" + kernelName;
        this.task = kernel.taskCreate(name);
        this.thread = task.threadCreate();
        names.task.machPortInsertRemote(names.port, MsgType.MAKE_SEND, task, IpcDemo.BOOTSTRAP);
        long deadline = System.nanoTime() + IpcDemo.WAIT.toNanos();
        while (!holds(IpcDemo.BOOTSTRAP, PortRight.SEND)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(name + ": the name server's send right did not arrive within "
                        + IpcDemo.WAIT.toSeconds() + " s; are the kernels' IPC links up (see their logs)?");
            }
            Thread.onSpinWait();
        }
        demo.log(String.format(Locale.ROOT, "bootstrap: a send right to the name server inserted into %s on kernel %s as 0x%x,"
                + " across the link", name, kernelName, IpcDemo.BOOTSTRAP));
        this.reply = task.machPortAllocate(PortRight.RECEIVE);
        this.notify = task.machPortAllocate(PortRight.RECEIVE);
        MsgReturn found = thread.machMsg(NameServer.lookup(IpcDemo.BOOTSTRAP, "adder", reply),
                Mach.MACH_SEND_MSG | RCV, 1 << 16, reply, IpcDemo.WAIT.toMillis());
        if (found.code() != KernReturn.MACH_MSG_SUCCESS || found.message().body().isEmpty()) {
            throw new IllegalStateException(name + ": the lookup of 'adder' failed: " + found.code());
        }
        this.adder = ((MsgItem.Port) found.message().body().get(0)).name();
        demo.log(String.format(Locale.ROOT, "%s: looked up 'adder': a send right 0x%x (adder -> name-server -> here)", name, adder));
        task.machPortRequestNotification(adder, Mach.MACH_NOTIFY_DEAD_NAME, 0, notify, MsgType.MAKE_SEND_ONCE);
    }

    private boolean holds(int right, PortRight type) {
        try {
            return task.machPortType(right) == type.typeBit();
        } catch (KernReturnException e) {
            return false;
        }
    }

    private MsgReturn add(int a, int b) {
        return thread.machMsg(MachMessage.to(adder, MsgType.COPY_SEND, AdderServer.ADD)
                .withReply(reply, MsgType.MAKE_SEND_ONCE).withBody(MachMessage.int32(a), MachMessage.int32(b)),
                Mach.MACH_SEND_MSG | RCV, 1 << 16, reply, IpcDemo.WAIT.toMillis());
    }

    /** {@code calls} RPCs to the adder: {answered, wrong}. */
    long[] call(int calls) {
        long answered = 0;
        long wrong = 0;
        for (int i = 0; i < calls; i++) {
            MsgReturn r = add(i, 1000);
            if (r.code() == KernReturn.MACH_MSG_SUCCESS && r.message().id() == AdderServer.ADD_REPLY) {
                answered++;
                wrong += r.message().intItem(0) == i + 1000 ? 0 : 1;
            } else {
                wrong++;
            }
        }
        demo.log(String.format(Locale.ROOT, "%s: %d calls to the adder answered (%d wrong)", name, answered, wrong));
        return new long[] {answered, wrong};
    }

    /** Waits for the dead-name notification of the adder's right; true if it came. */
    boolean awaitDeadName() {
        MsgReturn n = thread.machMsg(null, RCV, 1 << 16, notify, IpcDemo.WAIT.toMillis());
        boolean ok = n.code() == KernReturn.MACH_MSG_SUCCESS && n.message().id() == Mach.MACH_NOTIFY_DEAD_NAME
                && ((MsgItem.Port) n.message().body().get(0)).name() == adder;
        demo.log(String.format(Locale.ROOT, "%s: %s", name, ok ? "MACH_NOTIFY_DEAD_NAME for 0x" + Integer.toHexString(adder)
                : "no dead-name notification: " + n.code()));
        return ok;
    }

    boolean holdsDeadName() {
        return holds(adder, PortRight.DEAD_NAME);
    }

    /** One more call to the dead server: its code. */
    KernReturn callAfterDeath() {
        KernReturn code = add(1, 1).code();
        demo.log(String.format(Locale.ROOT, "%s: 0x%x is a dead name now; a call to it: %s", name, adder, code));
        return code;
    }

    void terminate() {
        task.terminate();
    }
}
