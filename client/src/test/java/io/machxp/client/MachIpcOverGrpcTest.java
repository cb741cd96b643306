package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.KernReturnException;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgItem;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.OolRegion;
import io.machxp.kernel.ipc.PortRight;
import io.machxp.proto.task.Errno;
import io.machxp.proto.task.MachMsgRequest;
import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** Mach IPC through the gRPC task interface (task.proto's MachIpc) and the client library. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // one cluster for the class: each test uses ports of its own
class MachIpcOverGrpcTest {
    private final ClusterFixture c;
    private final TaskClient server;
    private final TaskClient client;

    MachIpcOverGrpcTest() throws Exception {
        c = new ClusterFixture(1);
        server = c.tasks.get(0);
        client = c.clients.get(0).taskCreate("client");
    }

    @AfterAll
    void close() {
        c.close();
    }

    /** An RPC between two gRPC clients' tasks: request with inline and out-of-line data, reply through a send-once right. */
    @Test
    void rpcBetweenTasksOverGrpc() throws Exception {
        int service = server.machPortAllocate(PortRight.RECEIVE);
        MsgItem.Port toService = server.machPortExtractRight(service, MsgType.MAKE_SEND, client);
        assertThat(toService.type()).isEqualTo(MsgType.PORT_SEND);
        ThreadClient serverThread = server.threadCreate();
        Future<MsgReturn> request = c.pool.submit(() -> serverThread.machMsg(null, Mach.MACH_RCV_MSG, 4096, service, 0));
        int reply = client.machPortAllocate(PortRight.RECEIVE);
        ThreadClient caller = client.threadCreate();
        Future<MsgReturn> rpc = c.pool.submit(() -> caller.machMsg(MachMessage.to(toService.name(), MsgType.COPY_SEND, 7)
                .withReply(reply, MsgType.MAKE_SEND_ONCE)
                .withBody(new MsgItem.Inline(new byte[] {1}), new MsgItem.OutOfLine(OolRegion.of(new byte[] {2, 3}), false)),
                Mach.MACH_SEND_MSG | Mach.MACH_RCV_MSG, 4096, reply, 0));
        MachMessage got = request.get().message();
        assertThat(got.id()).isEqualTo(7);
        assertThat(got.localPort()).isEqualTo(service);
        assertThat(((MsgItem.OutOfLine) got.body().get(1)).region().read()).containsExactly(2, 3);
        assertThat(serverThread.machMsg(MachMessage.to(got.remotePort(), MsgType.MOVE_SEND_ONCE, 8), Mach.MACH_SEND_MSG,
                0, 0, 0).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(rpc.get().message().id()).isEqualTo(8);
        assertThat(client.machPortGetReceiveStatus(reply).getSorights()).isZero();
    }

    /** Mach's outcomes come back as codes (KernReturnException in the client library), not as gRPC errors; a bad handle is ESRCH. */
    @Test
    void machCodesAreValuesAndBadHandlesAreEsrch() {
        int p = server.machPortAllocate(PortRight.RECEIVE);
        KernReturnException e = catchThrowableOfType(KernReturnException.class, () -> server.machPortDeallocate(p));
        assertThat(e.code()).isEqualTo(KernReturn.KERN_INVALID_RIGHT);
        server.machPortSetQlimit(p, 3);
        assertThat(server.machPortGetReceiveStatus(p).getQlimit()).isEqualTo(3);
        ThreadClient t = server.threadCreate();
        assertThat(t.machMsg(null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, 4096, p, 0).code())
                .isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(t.machMsg(MachMessage.to(0x777, MsgType.COPY_SEND, 1), Mach.MACH_SEND_MSG, 0, 0, 0).code())
                .isEqualTo(KernReturn.MACH_SEND_INVALID_DEST);
        TaskClient forged = new TaskClient(c.clients.get(0), 12345);
        MachxpException esrch = catchThrowableOfType(MachxpException.class, () -> forged.machPortAllocate(PortRight.RECEIVE));
        assertThat(esrch.code()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(esrch.errno()).isEqualTo(Errno.ESRCH);
        server.machPortDestroy(p);
        assertThat(catchThrowableOfType(KernReturnException.class, () -> server.machPortType(p)).code())
                .isEqualTo(KernReturn.KERN_INVALID_NAME);
    }

    /**
     * mach_port_set_seqno, set_mscount, rename, names and get_set_status over gRPC: the next
     * message carries the seqno set, get_receive_status the mscount, the renamed port's name is
     * listed with its type, a set's members by name; a name that is no receive right is
     * KERN_INVALID_RIGHT as a value.
     */
    @Test
    void seqnoMscountRenameNamesAndSetStatusOverGrpc() {
        int p = server.machPortAllocate(PortRight.RECEIVE);
        int toP = server.machPortExtractRight(p, MsgType.MAKE_SEND, client).name();
        server.machPortSetSeqno(p, 40);
        server.machPortSetMscount(p, 7);
        assertThat(server.machPortGetReceiveStatus(p).getMscount()).isEqualTo(7);
        int renamed = 0x7000 + p;
        server.machPortRename(p, renamed);
        int set = server.machPortAllocate(PortRight.PORT_SET);
        server.machPortMoveMember(renamed, set);
        assertThat(server.machPortGetSetStatus(set)).containsExactly(renamed);
        var names = server.machPortNames();
        int at = names.getNamesList().indexOf(renamed);
        assertThat(at).isNotNegative();
        assertThat(names.getTypes(at)).isEqualTo(PortRight.RECEIVE.typeBit());
        ThreadClient sender = client.threadCreate();
        assertThat(sender.machMsg(MachMessage.to(toP, MsgType.COPY_SEND, 3), Mach.MACH_SEND_MSG, 0, 0, 0).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        MachMessage got = server.threadCreate().machMsg(null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, 4096, set, 0)
                .message();
        assertThat(got.localPort()).isEqualTo(renamed);
        assertThat(got.seqno()).isEqualTo(40);
        assertThat(catchThrowableOfType(KernReturnException.class, () -> server.machPortSetSeqno(set, 1)).code())
                .isEqualTo(KernReturn.KERN_INVALID_RIGHT);
    }

    /** A client that cancels a blocked mach_msg (here by its deadline) frees the thread: its next call is not EBUSY. */
    @Test
    void aCancelledReceiveFreesTheThread() {
        int p = server.machPortAllocate(PortRight.RECEIVE);
        ThreadClient t = server.threadCreate();
        MachMsgRequest receive = MachMsgRequest.newBuilder().setTask(server.id()).setThread(t.tid())
                .setOption(Mach.MACH_RCV_MSG).setRcvSize(4096).setRcvName(p).build();
        MachxpException e = catchThrowableOfType(MachxpException.class, () -> c.clients.get(0).call(
                () -> c.clients.get(0).ipc.withDeadlineAfter(300, TimeUnit.MILLISECONDS).machMsg(receive)));
        assertThat(e.code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        // The cancel reaches the core after the receive; until it does, the thread is still busy.
        MsgReturn r = await().atMost(Duration.ofSeconds(30)).until(() -> {
            try {
                return t.machMsg(null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, 4096, p, 0);
            } catch (MachxpException busy) {
                assertThat(busy.errno()).isEqualTo(Errno.EBUSY);
                return null;
            }
        }, java.util.Objects::nonNull);
        assertThat(r.code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
    }
}
