package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.KernReturnException;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgItem;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import io.machxp.proto.threads.OwnThreads;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** Mach IPC through the in-process API (LocalTask, LocalThread) of a running kernel, with real threads. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // one kernel for the class: each test makes tasks of its own
class MachIpcInProcessTest {
    private static final int RPC = Mach.MACH_SEND_MSG | Mach.MACH_RCV_MSG;
    private final EmbeddedCluster cluster;

    MachIpcInProcessTest() throws Exception {
        cluster = EmbeddedCluster.start(1, true, Map.of("obj", 4096L));
    }

    @AfterAll
    void close() {
        cluster.close();
    }

    /** A server task with a service port, and a client task holding a send right to it. */
    private record Service(LocalTask server, LocalTask client, int service, int toService) {}

    private Service service() {
        Kernel kernel = cluster.kernel(0);
        LocalTask server = kernel.taskCreate("server");
        LocalTask client = kernel.taskCreate("client");
        int service = server.machPortAllocate(PortRight.RECEIVE);
        return new Service(server, client, service, server.machPortExtractRight(service, MsgType.MAKE_SEND, client).name());
    }

    /** RPCs between two tasks: each request gets its own reply through a send-once right, in order. */
    @Test
    void rpcRoundTripsBetweenTasks() throws Exception {
        Service svc = service();
        LocalTask server = svc.server();
        LocalTask client = svc.client();
        int service = svc.service();
        int toService = svc.toService();
        LocalThread serverThread = server.threadCreate();
        int requests = 200;
        CompletableFuture<Void> served = OwnThreads.run("mach-msg-server", () -> {
            for (int i = 0; i < requests; i++) {
                MachMessage req = serverThread.machMsg(null, Mach.MACH_RCV_MSG, 4096, service, 0).message();
                MachMessage reply = MachMessage.to(req.remotePort(), MsgType.MOVE_SEND_ONCE, req.id() + 1000)
                        .withBody(new MsgItem.Inline(((MsgItem.Inline) req.body().get(0)).data()));
                assertThat(serverThread.machMsg(reply, Mach.MACH_SEND_MSG, 0, 0, 0).code())
                        .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            }
        });
        LocalThread caller = client.threadCreate();
        int replyPort = client.machPortAllocate(PortRight.RECEIVE);
        for (int i = 0; i < requests; i++) {
            MachMessage req = MachMessage.to(toService, MsgType.COPY_SEND, i)
                    .withReply(replyPort, MsgType.MAKE_SEND_ONCE).withBody(new MsgItem.Inline(new byte[] {(byte) i}));
            MsgReturn r = caller.machMsg(req, RPC, 4096, replyPort, 0);
            assertThat(r.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            assertThat(r.message().id()).isEqualTo(i + 1000);
            assertThat(((MsgItem.Inline) r.message().body().get(0)).data()).containsExactly((byte) i);
        }
        served.get(30, TimeUnit.SECONDS);
        assertThat(client.machPortGetReceiveStatus(replyPort).sorights()).as("every reply right used").isZero();
    }

    /** A server task killed: its clients' send rights become dead names, with a dead-name notification where asked. */
    @Test
    void aKilledServerLeavesDeadNames() throws Exception {
        Service svc = service();
        LocalTask server = svc.server();
        LocalTask client = svc.client();
        int service = svc.service();
        int toService = svc.toService();
        int notify = client.machPortAllocate(PortRight.RECEIVE);
        assertThat(client.machPortRequestNotification(toService, Mach.MACH_NOTIFY_DEAD_NAME, 0, notify,
                MsgType.MAKE_SEND_ONCE)).isEqualTo(Mach.MACH_PORT_NULL);
        server.terminate();
        assertThat(client.machPortType(toService)).isEqualTo(PortRight.DEAD_NAME.typeBit());
        LocalThread t = client.threadCreate();
        MachMessage n = t.machMsg(null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, 4096, notify, 0).message();
        assertThat(n.id()).isEqualTo(Mach.MACH_NOTIFY_DEAD_NAME);
        assertThat(n.body()).containsExactly(new MsgItem.Port(toService, MsgType.PORT_NAME));
        assertThat(t.machMsg(MachMessage.to(toService, MsgType.COPY_SEND, 1), Mach.MACH_SEND_MSG, 0, 0, 0).code())
                .isEqualTo(KernReturn.MACH_SEND_INVALID_DEST);
        assertThatThrownBy(() -> client.machPortDeallocate(0x7777)).isInstanceOfSatisfying(KernReturnException.class,
                e -> assertThat(e.code()).isEqualTo(KernReturn.KERN_INVALID_NAME));
    }

    /** A Java thread interrupted while blocked in a receive gets MACH_RCV_INTERRUPTED, with its interrupt status set. */
    @Test
    void anInterruptedReceiveReturnsRcvInterrupted() throws Exception {
        LocalTask task = cluster.kernel(0).taskCreate("waiter");
        int p = task.machPortAllocate(PortRight.RECEIVE);
        LocalThread t = task.threadCreate();
        CompletableFuture<Object[]> result = new CompletableFuture<>();
        Thread waiter = new Thread(() -> {
            MsgReturn r = t.machMsg(null, Mach.MACH_RCV_MSG, 4096, p, 0);
            result.complete(new Object[] {r.code(), Thread.interrupted()});
        });
        waiter.start();
        // Whenever it lands, the interrupt reaches the core after the receive (one event loop, in order).
        waiter.interrupt();
        waiter.join();
        assertThat(result.get()).containsExactly(KernReturn.MACH_RCV_INTERRUPTED, true);
    }
}
