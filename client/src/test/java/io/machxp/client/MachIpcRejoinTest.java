package io.machxp.client;

import static io.machxp.client.LinkedKernels.ipcAddress;
import static io.machxp.client.LinkedKernels.typeOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgItem;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import io.machxp.kernel.ipc.link.LinkConfig;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.threads.OwnThreads;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A kernel's IPC across a lost session, on the real runtime (pager, two kernels, Netty links,
 * gRPC clients): kernel A's core is paused past its pager lease while a task on B holds a send
 * right to a port of A's. When A notices, it leaves the links: on B the right becomes a dead name
 * with its dead-name notification. A opens a new session by itself and rejoins the links with a
 * later IPC session: B takes it back, and ports of the new session work across kernels both ways.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MachIpcRejoinTest {
    private static final Duration LEASE = Duration.ofMillis(2_500); // long enough for a loaded machine: only the pause must outlast it
    private static final int SERVICE = 0x600;
    private static final int SERVICE_AGAIN = 0x601;
    private static final int CALLBACK = 0x602;
    private Pager pager;
    private Kernel a;
    private Kernel b;

    @AfterEach
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {b, a, pager}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private Kernel kernel(String name, int ipcId) throws Exception {
        return Kernel.start(KernelConfig.loopback(name, pager.target())
                .withIpc(new LinkConfig(ipcId, new InetSocketAddress("127.0.0.1", 0), Map.of(), 5_000)));
    }

    @Test
    void aKernelThatLostItsSessionTurnsItsPortsIntoDeadNamesElsewhereAndItsNewPortsWorkAcrossKernels() throws Exception {
        pager = Pager.start(PagerConfig.loopback(Map.of("obj", 4096L)).withLease(LEASE));
        a = kernel("A", 1);
        b = kernel("B", 2);
        a.ipcConnect(Map.of(2, ipcAddress(b)));
        b.ipcConnect(Map.of(1, ipcAddress(a)));
        try (KernelClient onA = KernelClient.connect("127.0.0.1:" + a.port());
                KernelClient onB = KernelClient.connect("127.0.0.1:" + b.port())) {
            TaskClient server = onA.taskCreate("server");
            int port = server.machPortAllocate(PortRight.RECEIVE);
            TaskClient client = onB.taskCreate("client");
            server.machPortInsertRemote(port, MsgType.MAKE_SEND, client, SERVICE);
            await().atMost(Duration.ofSeconds(20)).until(() -> typeOf(client, SERVICE) == PortRight.SEND.typeBit());
            int notify = client.machPortAllocate(PortRight.RECEIVE);
            client.machPortRequestNotification(SERVICE, Mach.MACH_NOTIFY_DEAD_NAME, 0, notify, MsgType.MAKE_SEND_ONCE);
            ThreadClient watcher = client.threadCreate();
            CompletableFuture<MsgReturn> deadName = OwnThreads.supply("mach-msg-receive",
                    () -> watcher.machMsg(null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, 1 << 16, notify, 60_000));

            CoreBlocked.during(a, () -> await().atMost(30, TimeUnit.SECONDS)
                    .until(() -> pager.stats().kernelsDeclaredDead() == 1));

            MsgReturn died = deadName.get(60, TimeUnit.SECONDS);
            assertThat(died.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            assertThat(died.message().id()).isEqualTo(Mach.MACH_NOTIFY_DEAD_NAME);
            assertThat(((MsgItem.Port) died.message().body().get(0)).name()).isEqualTo(SERVICE);
            assertThat(typeOf(client, SERVICE)).as("the port of A's lost session is a dead name on B")
                    .isEqualTo(PortRight.DEAD_NAME.typeBit());

            await().atMost(30, TimeUnit.SECONDS).until(() -> a.sessionsOpened() == 2);
            TaskClient again = onA.taskCreate("server-again");
            int newPort = again.machPortAllocate(PortRight.RECEIVE);
            again.machPortInsertRemote(newPort, MsgType.MAKE_SEND, client, SERVICE_AGAIN);
            await().atMost(Duration.ofSeconds(20)).alias("a right to a port of A's new session reaches B")
                    .until(() -> typeOf(client, SERVICE_AGAIN) == PortRight.SEND.typeBit());

            // B -> A on the new port, carrying a send right to a port of B's; A answers through it
            int callback = client.machPortAllocate(PortRight.RECEIVE);
            ThreadClient caller = client.threadCreate();
            assertThat(caller.machMsg(MachMessage.to(SERVICE_AGAIN, MsgType.COPY_SEND, 11)
                    .withBody(MachMessage.int32(41), new MsgItem.Port(callback, MsgType.MAKE_SEND)),
                    Mach.MACH_SEND_MSG, 0, 0, 0).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            ThreadClient serverThread = again.threadCreate();
            MsgReturn request = serverThread.machMsg(null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, 1 << 16, newPort,
                    20_000);
            assertThat(request.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            assertThat(request.message().intItem(0)).isEqualTo(41);
            int toCallback = ((MsgItem.Port) request.message().body().get(1)).name();
            assertThat(serverThread.machMsg(MachMessage.to(toCallback, MsgType.MOVE_SEND, 12)
                    .withBody(MachMessage.int32(42)), Mach.MACH_SEND_MSG, 0, 0, 0).code())
                    .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            MsgReturn answer = caller.machMsg(null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, 1 << 16, callback, 20_000);
            assertThat(answer.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            assertThat(answer.message().intItem(0)).isEqualTo(42);
            assertThat(typeOf(client, SERVICE)).as("the old port stays dead").isEqualTo(PortRight.DEAD_NAME.typeBit());
        }
    }
}
