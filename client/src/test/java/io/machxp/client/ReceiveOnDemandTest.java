package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.proto.task.MachIpcGrpc;
import io.machxp.proto.task.MachMessage;
import io.machxp.proto.task.MachMsgDemand;
import io.machxp.proto.task.MachMsgReply;
import io.machxp.proto.task.MachMsgRequest;
import io.machxp.proto.task.MachPortAllocateRequest;
import io.machxp.proto.task.MachPortExtractRightRequest;
import io.machxp.proto.task.MachPortInsertRightRequest;
import io.machxp.proto.task.MachPortNameRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * MachMsgReceiveOnDemand (review MED-1): a streamed receive dequeues a message only for one its
 * client asked for, so a client that reads one message and cancels leaves the others queued (and
 * their reply rights with them, answered later), where MachMsgReceive had moved them all into
 * gRPC's buffers and the cancel dropped them. Real gRPC against an embedded kernel on loopback.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReceiveOnDemandTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    // task.proto's MachIpc comments and GNU Mach's mach/message.h
    private static final int RIGHT_RECEIVE = 1;
    private static final int MOVE_SEND_ONCE = 18;
    private static final int COPY_SEND = 19;
    private static final int MAKE_SEND = 20;
    private static final int MAKE_SEND_ONCE = 21;
    private static final int SEND_MSG = 0x1;
    private static final int RCV_MSG = 0x2;
    private static final int RCV_TIMEOUT = 0x100;

    private final EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 4 * 4096L));
    private final RawKernel a = new RawKernel(cluster.kernelTargets().get(0));

    ReceiveOnDemandTest() throws Exception {}

    @AfterEach
    void close() {
        a.close();
        cluster.close();
    }

    private int receivePort(long task) {
        return a.ipc().machPortAllocate(MachPortAllocateRequest.newBuilder().setTask(task).setRight(RIGHT_RECEIVE)
                .build()).getName();
    }

    private int queued(long task, int port) {
        return a.ipc().machPortGetReceiveStatus(MachPortNameRequest.newBuilder().setTask(task).setName(port).build())
                .getMsgcount();
    }

    private void send(long task, int thread, MachMessage m) {
        MachMsgReply r = a.ipc().machMsg(MachMsgRequest.newBuilder().setTask(task).setThread(thread).setOption(SEND_MSG)
                .setMsg(m).build());
        assertThat(r.getKernReturn()).as(r.getKernReturnName()).isZero();
    }

    /** A receive on {@code name} by {@code thread} that does not wait. */
    private MachMsgReply poll(long task, int thread, int name) {
        return a.ipc().machMsg(MachMsgRequest.newBuilder().setTask(task).setThread(thread)
                .setOption(RCV_MSG | RCV_TIMEOUT).setRcvSize(1 << 20).setRcvName(name).build());
    }

    private static MachMsgRequest receive(long task, int thread, int port) {
        return MachMsgRequest.newBuilder().setTask(task).setThread(thread).setOption(RCV_MSG).setRcvSize(1 << 20)
                .setRcvName(port).build();
    }

    /** A MachMsgReceiveOnDemand from the client's side: what it was sent, how it ended; transport reads all. */
    private final class Demand {
        final BlockingQueue<MachMsgReply> got = new LinkedBlockingQueue<>();
        final CompletableFuture<Status> closed = new CompletableFuture<>();
        volatile Metadata trailers;
        final ClientCall<MachMsgDemand, MachMsgReply> call =
                a.channel.newCall(MachIpcGrpc.getMachMsgReceiveOnDemandMethod(), CallOptions.DEFAULT);

        Demand() {
            call.start(new ClientCall.Listener<>() {
                @Override
                public void onMessage(MachMsgReply m) {
                    got.add(m);
                }

                @Override
                public void onClose(Status status, Metadata t) {
                    trailers = t;
                    closed.complete(status);
                }
            }, new Metadata());
            call.request(Integer.MAX_VALUE); // gRPC's transport takes whatever the kernel sends
        }

        void send(MachMsgDemand d) {
            call.sendMessage(d);
        }

        MachMsgReply next() throws InterruptedException {
            MachMsgReply m = got.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(m).as("a message in time").isNotNull();
            return m;
        }
    }

    @Test
    void aCancelAfterOneOfFiveLeavesFourQueued() throws Exception {
        long task = a.task("A");
        int port = receivePort(task);
        int receiver = a.thread(task, 10);
        int sender = a.thread(task, 10);
        for (int i = 0; i < 5; i++) {
            send(task, sender, MachMessage.newBuilder().setBits(MAKE_SEND).setRemotePort(port).setId(i).build());
        }
        Demand d = new Demand();
        d.send(MachMsgDemand.newBuilder().setStart(receive(task, receiver, port)).setRequest(1).build());
        assertThat(d.next().getMsg().getId()).isZero();
        await().atMost(WAIT).until(() -> "mach_msg".equals(a.blockedIn(receiver))); // held between messages
        assertThat(queued(task, port)).as("only the message asked for was dequeued").isEqualTo(4);

        d.send(MachMsgDemand.newBuilder().setRequest(2).build());
        assertThat(d.next().getMsg().getId()).isEqualTo(1);
        assertThat(d.next().getMsg().getId()).isEqualTo(2);
        assertThat(queued(task, port)).isEqualTo(2);

        d.call.cancel("the client stops", null);
        await().atMost(WAIT).until(() -> "".equals(a.blockedIn(receiver)));
        assertThat(queued(task, port)).as("nothing asked for is lost").isEqualTo(2);
        assertThat(d.got).isEmpty();
        for (int i = 3; i < 5; i++) {
            MachMsgReply r = poll(task, receiver, port);
            assertThat(r.getKernReturn()).as(r.getKernReturnName()).isZero();
            assertThat(r.getMsg().getId()).isEqualTo(i);
        }
    }

    /**
     * Requests with reply rights from another task: the one read is answered through the stream's
     * name; the four the client did not ask for stay queued with their reply rights (not copied
     * out into the receiver under names nobody knows), and are answered later: every requester
     * gets its reply.
     */
    @Test
    void requestsNotAskedForKeepTheirReplyRights() throws Exception {
        long server = a.task("server");
        long client = a.task("client");
        int s1 = a.thread(server, 10);
        int c1 = a.thread(client, 10);
        int port = receivePort(server);
        a.ipc().machPortInsertRight(MachPortInsertRightRequest.newBuilder().setTask(server).setName(port)
                .setFromTask(server).setFromName(port).setDisposition(MAKE_SEND).build());
        int send = a.ipc().machPortExtractRight(MachPortExtractRightRequest.newBuilder().setTask(server).setName(port)
                .setDisposition(COPY_SEND).setToTask(client).build()).getName();
        int replyPort = receivePort(client);
        for (int i = 0; i < 5; i++) {
            send(client, c1, MachMessage.newBuilder().setBits(COPY_SEND | MAKE_SEND_ONCE << 8).setRemotePort(send)
                    .setLocalPort(replyPort).setId(i).build());
        }
        int namesBefore = names(server);

        Demand d = new Demand();
        d.send(MachMsgDemand.newBuilder().setStart(receive(server, s1, port)).setRequest(1).build());
        MachMsgReply first = d.next();
        assertThat(first.getMsg().getId()).isZero();
        d.call.cancel("the client stops", null);
        await().atMost(WAIT).until(() -> "".equals(a.blockedIn(s1)));
        assertThat(queued(server, port)).isEqualTo(4);
        assertThat(names(server)).as("one reply right copied out: the one read").isEqualTo(namesBefore + 1);

        List<Integer> replyRights = new ArrayList<>(List.of(first.getMsg().getRemotePort()));
        for (int i = 1; i < 5; i++) {
            MachMsgReply r = poll(server, s1, port);
            assertThat(r.getKernReturn()).as(r.getKernReturnName()).isZero();
            assertThat(r.getMsg().getId()).isEqualTo(i);
            replyRights.add(r.getMsg().getRemotePort());
        }
        assertThat(replyRights).doesNotContain(0).doesNotHaveDuplicates();
        for (int reply : replyRights) {
            send(server, s1, MachMessage.newBuilder().setBits(MOVE_SEND_ONCE).setRemotePort(reply).setId(100).build());
        }
        for (int i = 0; i < 5; i++) {
            MachMsgReply r = poll(client, c1, replyPort);
            assertThat(r.getKernReturn()).as("reply %d: %s", i, r.getKernReturnName()).isZero();
            assertThat(r.getMsg().getId()).isEqualTo(100);
        }
        assertThat(names(server)).isEqualTo(namesBefore);
    }

    private int names(long task) {
        return a.ipc().machPortNames(MachPortNameRequest.newBuilder().setTask(task).build()).getNamesCount();
    }

    /** ThreadClient.machMsgReceive asks for a message only when its caller wants the next: a cancel loses none. */
    @Test
    void theClientLibrarysStreamedReceiveLeavesUnreadMessagesQueued() throws Exception {
        try (KernelClient k = KernelClient.connect(cluster.kernelTargets().get(0))) {
            TaskClient task = k.taskCreate("library");
            int port = task.machPortAllocate(io.machxp.kernel.ipc.PortRight.RECEIVE);
            ThreadClient sender = task.threadCreate();
            ThreadClient receiver = task.threadCreate();
            for (int i = 0; i < 5; i++) {
                assertThat(sender.machMsg(io.machxp.kernel.ipc.MachMessage.to(port, io.machxp.kernel.ipc.MsgType.MAKE_SEND, i),
                        io.machxp.kernel.ipc.Mach.MACH_SEND_MSG, 0, 0, 0).code()).isEqualTo(io.machxp.kernel.ipc.KernReturn.MACH_MSG_SUCCESS);
            }
            io.grpc.Context.CancellableContext reading = io.grpc.Context.current().withCancellation();
            var received = reading.call(() -> receiver.machMsgReceive(port, 1 << 16, 0));
            assertThat(received.next().message().id()).isZero();
            reading.cancel(null);
            await().atMost(WAIT).until(() -> "".equals(a.blockedIn(receiver.tid())));
            assertThat(queued(task.id(), port)).isEqualTo(4);
        }
    }

    @Test
    void aFirstDemandWithoutTheReceiveIsEinval() throws Exception {
        Demand d = new Demand();
        d.send(MachMsgDemand.newBuilder().setRequest(1).build());
        Status s = d.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(RawKernel.errno(s.asRuntimeException(d.trailers))).isEqualTo("EINVAL");
        assertThat(s.getDescription()).contains("start");
    }
}
