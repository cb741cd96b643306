package io.machxp.demo.ipc;

import io.machxp.client.KernelClient;
import io.machxp.client.MachxpException;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.PortRight;
import java.util.Iterator;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A server task of the IPC demo: a receive right, one Mach thread receiving on it through a
 * streamed receive (task.proto's MachMsgReceive) and one that sends the answers (a thread makes
 * one call at a time, and the receiving one is always inside its next receive). A Java thread of
 * the demo drives it over gRPC, as any client of the kernel would.
 *
 * <pre>
 *  serving --receive ended (MACH_RCV_PORT_DIED: port destroyed; ESRCH: task terminated)--> ended
 * </pre>
 */
abstract class ServerTask {
    final String name;
    final TaskClient task;
    final int port;
    final ThreadClient sender;
    private final ThreadClient receiver;
    private final CountDownLatch ended = new CountDownLatch(1);
    private final Consumer<String> log;
    private volatile String endedWith = "";
    private int served;

    ServerTask(KernelClient kernel, String name, Consumer<String> log) {
        this.name = name;
        this.log = log;
        this.task = kernel.taskCreate(name);
        this.port = task.machPortAllocate(PortRight.RECEIVE);
        this.receiver = task.threadCreate();
        this.sender = task.threadCreate();
    }

    /** Answers one request (on the demo's serving thread; send with {@link #sender}). */
    abstract void handle(MachMessage request);

    /** Starts serving on a Java thread of its own. */
    void start() {
        Thread t = new Thread(this::serve, "ipc-demo-" + name);
        t.setDaemon(true);
        t.start();
    }

    private void serve() {
        try {
            Iterator<MsgReturn> requests = receiver.machMsgReceive(port, 1 << 16, 0);
            while (requests.hasNext()) {
                MsgReturn r = requests.next();
                if (r.code() != KernReturn.MACH_MSG_SUCCESS) {
                    endedWith = r.code().name();
                    break;
                }
                served++;
                handle(r.message());
            }
        } catch (MachxpException e) {
            endedWith = e.getMessage();
        } finally {
            ended.countDown();
        }
    }

    void log(String line) {
        log.accept(line);
    }

    int served() {
        return served;
    }

    /** Waits for the serving thread to end; why it ended. */
    String awaitEnd() throws InterruptedException {
        if (!ended.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " did not stop serving within 30 s");
        }
        return endedWith;
    }
}
