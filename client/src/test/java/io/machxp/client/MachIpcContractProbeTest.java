package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.proto.task.MachMessage;
import io.machxp.proto.task.MachMsgItem;
import io.machxp.proto.task.MachMsgPort;
import io.machxp.proto.task.MachMsgReply;
import io.machxp.proto.task.MachMsgRequest;
import io.machxp.proto.task.MachPortAllocateRequest;
import io.machxp.proto.task.MachPortExtractRightRequest;
import io.machxp.proto.task.MachPortInsertRightRequest;
import io.machxp.proto.task.MachPortModRefsRequest;
import io.machxp.proto.task.MachPortMoveMemberRequest;
import io.machxp.proto.task.MachPortNameRequest;
import io.machxp.proto.task.MachPortReceiveStatusReply;
import io.machxp.proto.task.MachPortReply;
import io.machxp.proto.task.MachPortRequestNotificationRequest;
import io.machxp.proto.task.MachPortSetQlimitRequest;
import io.machxp.proto.task.TaskTerminateRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Mach IPC probed by an outside client: raw stubs of task.proto's MachIpc on a plain channel
 * ({@link RawKernel}), every constant written down from the proto comments and GNU Mach's headers
 * rather than taken from machxp's classes, against an embedded pager and kernel. Each probe states
 * the GNU Mach rule it checks (../shared/MACH-IPC.md, docs/mach-ipc.md) and that the kernel goes on
 * serving afterwards. One cluster for the class: each probe makes tasks of its own.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MachIpcContractProbeTest {
    // mach/port.h
    private static final int RIGHT_SEND = 0;
    private static final int RIGHT_RECEIVE = 1;
    private static final int RIGHT_SEND_ONCE = 2;
    private static final int RIGHT_PORT_SET = 3;
    private static final int RIGHT_DEAD_NAME = 4;
    private static final int TYPE_SEND = 1 << 16;
    private static final int TYPE_RECEIVE = 1 << 17;
    private static final int TYPE_SEND_ONCE = 1 << 18;
    private static final int TYPE_DEAD_NAME = 1 << 20;
    private static final int TYPE_DNREQUEST = 0x80000000;
    private static final int PORT_NULL = 0;
    private static final int PORT_DEAD = ~0;
    // mach/message.h: dispositions, received types, options
    private static final int PORT_NAME = 15;
    private static final int MOVE_RECEIVE = 16;
    private static final int MOVE_SEND = 17;
    private static final int MOVE_SEND_ONCE = 18;
    private static final int COPY_SEND = 19;
    private static final int MAKE_SEND = 20;
    private static final int MAKE_SEND_ONCE = 21;
    private static final int COMPLEX = 0x80000000;
    private static final int SEND_MSG = 0x1;
    private static final int RCV_MSG = 0x2;
    private static final int SEND_TIMEOUT = 0x10;
    private static final int RCV_TIMEOUT = 0x100;
    private static final int RCV_LARGE = 0x800;
    // mach/notify.h
    private static final int NOTIFY_DEAD_NAME = 0110;
    private static final int NOTIFY_SEND_ONCE = 0107;
    private static final int NOTIFY_PORT_DELETED = 0101;
    private static final int NOTIFY_NO_SENDERS = 0106;
    // mach/kern_return.h, mach/message.h
    private static final int KERN_SUCCESS = 0;
    private static final int KERN_NO_SPACE = 3;
    private static final int KERN_NOT_IN_SET = 12;
    private static final int KERN_INVALID_NAME = 15;
    private static final int KERN_INVALID_RIGHT = 17;
    private static final int KERN_INVALID_VALUE = 18;
    private static final int KERN_UREFS_OVERFLOW = 19;
    private static final int SEND_INVALID_DEST = 0x10000003;
    private static final int SEND_TIMED_OUT = 0x10000004;
    private static final int SEND_MSG_TOO_SMALL = 0x10000008;
    private static final int SEND_INVALID_RIGHT = 0x1000000a;
    private static final int SEND_NO_BUFFER = 0x1000000d;
    private static final int SEND_INVALID_TYPE = 0x1000000f;
    private static final int SEND_INVALID_HEADER = 0x10000010;
    private static final int RCV_INVALID_NAME = 0x10004002;
    private static final int RCV_TIMED_OUT = 0x10004003;
    private static final int RCV_TOO_LARGE = 0x10004004;
    private static final int RCV_PORT_DIED = 0x10004009;
    private static final int RCV_IN_SET = 0x1000400a;
    /** MACH_RCV_BODY_ERROR | MACH_MSG_IPC_SPACE. */
    private static final int RCV_BODY_ERROR_IPC_SPACE = 0x1000400c | 0x2000;
    private static final int UREFS_MAX = 0xFFFF;
    private static final int BIG = 1 << 20;
    private static final Duration WAIT = Duration.ofSeconds(60);

    private final EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("obj", 4096L));
    private final RawKernel k = new RawKernel(cluster.kernelTargets().get(0));

    MachIpcContractProbeTest() throws Exception {}

    @AfterAll
    void close() {
        k.close();
        cluster.close();
    }

    // ---- a client written from task.proto --------------------------------------------------------

    private static void code(MachPortReply r, int expected) {
        assertThat(r.getKernReturn()).as("%s", r.getKernReturnName()).isEqualTo(expected);
    }

    private static void code(MachMsgReply r, int expected) {
        assertThat(r.getKernReturn()).as("0x%s %s", Integer.toHexString(r.getKernReturn()), r.getKernReturnName())
                .isEqualTo(expected);
    }

    private MachPortReply allocate(long task, int right) {
        return k.ipc().machPortAllocate(MachPortAllocateRequest.newBuilder().setTask(task).setRight(right).build());
    }

    private int port(long task) {
        MachPortReply r = allocate(task, RIGHT_RECEIVE);
        code(r, KERN_SUCCESS);
        return r.getName();
    }

    private MachPortNameRequest name(long task, int name) {
        return MachPortNameRequest.newBuilder().setTask(task).setName(name).build();
    }

    private MachPortReply modRefs(long task, int name, int right, int delta) {
        return k.ipc().machPortModRefs(MachPortModRefsRequest.newBuilder().setTask(task).setName(name).setRight(right)
                .setDelta(delta).build());
    }

    private int refs(long task, int name, int right) {
        MachPortReply r = k.ipc().machPortGetRefs(MachPortModRefsRequest.newBuilder().setTask(task).setName(name)
                .setRight(right).build());
        code(r, KERN_SUCCESS);
        return r.getValue();
    }

    private MachPortReply type(long task, int name) {
        return k.ipc().machPortType(name(task, name));
    }

    private MachPortReceiveStatusReply status(long task, int name) {
        MachPortReceiveStatusReply s = k.ipc().machPortGetReceiveStatus(name(task, name));
        assertThat(s.getKernReturn()).as(s.getKernReturnName()).isEqualTo(KERN_SUCCESS);
        return s;
    }

    /** mach_port_extract_right out of {@code from} into {@code to}. */
    private MachPortReply extract(long from, int name, int disposition, long to) {
        return k.ipc().machPortExtractRight(MachPortExtractRightRequest.newBuilder().setTask(from).setName(name)
                .setDisposition(disposition).setToTask(to).build());
    }

    /** A send right (MAKE_SEND) to {@code owner}'s port in {@code other}: its name there. */
    private int sendRight(long owner, int port, long other) {
        MachPortReply r = extract(owner, port, MAKE_SEND, other);
        code(r, KERN_SUCCESS);
        assertThat(r.getMsgType()).isEqualTo(MOVE_SEND);
        return r.getName();
    }

    private MachPortReply insert(long task, int name, long from, int fromName, int disposition) {
        return k.ipc().machPortInsertRight(MachPortInsertRightRequest.newBuilder().setTask(task).setName(name)
                .setFromTask(from).setFromName(fromName).setDisposition(disposition).build());
    }

    private MachPortReply moveMember(long task, int member, int after) {
        return k.ipc().machPortMoveMember(MachPortMoveMemberRequest.newBuilder().setTask(task).setMember(member)
                .setAfter(after).build());
    }

    private MachPortReply qlimit(long task, int name, int qlimit) {
        return k.ipc().machPortSetQlimit(MachPortSetQlimitRequest.newBuilder().setTask(task).setName(name)
                .setQlimit(qlimit).build());
    }

    private MachPortReply requestDeadName(long task, int name, int notify) {
        return k.ipc().machPortRequestNotification(MachPortRequestNotificationRequest.newBuilder().setTask(task)
                .setName(name).setVariant(NOTIFY_DEAD_NAME).setNotify(notify).setDisposition(MAKE_SEND_ONCE).build());
    }

    private static MachMessage.Builder to(int dest, int disposition, int id) {
        return MachMessage.newBuilder().setBits(disposition).setRemotePort(dest).setId(id);
    }

    private static MachMsgItem right(int name, int disposition) {
        return MachMsgItem.newBuilder().setPort(MachMsgPort.newBuilder().setName(name).setType(disposition)).build();
    }

    private static MachMsgItem bytes(int n) {
        return MachMsgItem.newBuilder().setInlineData(ByteString.copyFrom(new byte[n])).build();
    }

    private MachMsgRequest.Builder request(long task, int thread, int option) {
        return MachMsgRequest.newBuilder().setTask(task).setThread(thread).setOption(option);
    }

    private MachMsgReply send(long task, int thread, MachMessage.Builder msg) {
        return k.ipc().machMsg(request(task, thread, SEND_MSG).setMsg(msg).build());
    }

    /** A send that fails at once if the queue is full (MACH_SEND_TIMEOUT 0). */
    private MachMsgReply trySend(long task, int thread, MachMessage.Builder msg) {
        return k.ipc().machMsg(request(task, thread, SEND_MSG | SEND_TIMEOUT).setMsg(msg).build());
    }

    /** A receive that does not wait (MACH_RCV_TIMEOUT 0). */
    private MachMsgReply poll(long task, int thread, int name, int rcvSize, int moreOptions) {
        return k.ipc().machMsg(request(task, thread, RCV_MSG | RCV_TIMEOUT | moreOptions).setRcvName(name)
                .setRcvSize(rcvSize).build());
    }

    /** The message a poll must find. */
    private MachMessage take(long task, int thread, int name) {
        MachMsgReply r = poll(task, thread, name, BIG, 0);
        code(r, KERN_SUCCESS);
        return r.getMsg();
    }

    private ListenableFuture<MachMsgReply> blockedReceive(long task, int thread, int name) {
        ListenableFuture<MachMsgReply> f = k.ipcAsync().machMsg(request(task, thread, RCV_MSG).setRcvName(name)
                .setRcvSize(BIG).build());
        await().atMost(WAIT).until(() -> "mach_msg".equals(k.blockedIn(thread)));
        return f;
    }

    private static MachMsgReply done(ListenableFuture<MachMsgReply> f) throws Exception {
        return f.get(60, TimeUnit.SECONDS);
    }

    /** A message from one task to another still goes through: the kernel serves after the probe. */
    private void stillServes() {
        long a = k.task("after-a");
        long b = k.task("after-b");
        int p = port(b);
        int s = sendRight(b, p, a);
        code(send(a, k.thread(a, 10), to(s, COPY_SEND, 4242).addBody(bytes(3))), KERN_SUCCESS);
        MachMessage m = take(b, k.thread(b, 10), p);
        assertThat(m.getId()).isEqualTo(4242);
        assertThat(m.getBody(0).getInlineData().size()).isEqualTo(3);
    }

    // ---- names and rights ------------------------------------------------------------------------

    /**
     * A name that denotes nothing is KERN_INVALID_NAME / MACH_SEND_INVALID_DEST /
     * MACH_RCV_INVALID_NAME; a name holding the wrong right is KERN_INVALID_RIGHT (deallocate of a
     * receive right, set_qlimit of a send right) or MACH_SEND_INVALID_DEST (COPY_SEND of a receive
     * right); values out of range KERN_INVALID_VALUE. None of it changes anything.
     */
    @Test
    void badNamesAndWrongRightsAreMachCodesAndChangeNothing() {
        long t = k.task("names");
        long other = k.task("other");
        int th = k.thread(t, 10);
        int p = port(t);
        code(k.ipc().machPortDeallocate(name(t, 0x777)), KERN_INVALID_NAME);
        code(k.ipc().machPortDestroy(name(t, 0x777)), KERN_INVALID_NAME);
        code(type(t, 0x777), KERN_INVALID_NAME);
        code(type(t, PORT_NULL), KERN_INVALID_NAME);
        code(type(t, PORT_DEAD), KERN_INVALID_NAME);
        code(modRefs(t, 0x777, RIGHT_SEND, 1), KERN_INVALID_NAME);
        code(k.ipc().machPortDeallocate(name(t, p)), KERN_INVALID_RIGHT);
        code(allocate(t, RIGHT_SEND_ONCE), KERN_INVALID_VALUE);
        code(allocate(t, 99), KERN_INVALID_VALUE);
        code(modRefs(t, p, 9, 0), KERN_INVALID_VALUE);
        code(modRefs(t, p, RIGHT_RECEIVE, 1), KERN_INVALID_VALUE);
        code(modRefs(t, p, RIGHT_SEND, 1), KERN_INVALID_RIGHT);
        code(qlimit(t, p, 17), KERN_INVALID_VALUE);
        code(send(t, th, to(0x777, COPY_SEND, 1)), SEND_INVALID_DEST);
        code(send(t, th, to(PORT_NULL, COPY_SEND, 1)), SEND_INVALID_DEST);
        code(send(t, th, to(p, COPY_SEND, 1)), SEND_INVALID_DEST);
        code(send(t, th, to(p, MOVE_SEND_ONCE, 1)), SEND_INVALID_DEST);
        code(poll(t, th, 0x777, BIG, 0), RCV_INVALID_NAME);
        int s = sendRight(t, p, other);
        code(poll(other, k.thread(other, 10), s, BIG, 0), RCV_INVALID_NAME);
        code(qlimit(other, s, 3), KERN_INVALID_RIGHT);
        code(k.ipc().machPortDestroy(name(other, 0x777)), KERN_INVALID_NAME);
        MachPortReceiveStatusReply st = status(t, p);
        assertThat(st.getMsgcount()).isZero();
        assertThat(st.getSrights()).isTrue();
        assertThat(st.getMscount()).isEqualTo(1);
        assertThat(st.getQlimit()).isEqualTo(5);
        code(send(t, th, to(p, MAKE_SEND, 2)), KERN_SUCCESS);
        assertThat(take(t, th, p).getId()).isEqualTo(2);
        stillServes();
    }

    /**
     * A name with a dead-name request says so in its type (MACH_PORT_TYPE_DNREQUEST). When a
     * receive right dies, a send right elsewhere becomes a dead name under the same name with its
     * user references, plus one for the dead-name notification it asked for (which names it); sending to it is MACH_SEND_INVALID_DEST, RIGHT_SEND is KERN_INVALID_RIGHT, DEAD_NAME
     * takes the references off; a dead name sent in a message arrives as MACH_PORT_DEAD.
     */
    @Test
    void deadNamesKeepTheirReferencesAndSayHowTheyDied() {
        long server = k.task("server");
        long client = k.task("client");
        int ct = k.thread(client, 10);
        int p = port(server);
        int cs = sendRight(server, p, client);
        code(modRefs(client, cs, RIGHT_SEND, 2), KERN_SUCCESS);
        int notify = port(client);
        MachPortReply previous = requestDeadName(client, cs, notify);
        code(previous, KERN_SUCCESS);
        assertThat(previous.getName()).isEqualTo(PORT_NULL);
        assertThat(type(client, cs).getValue()).as("MACH_PORT_TYPE_DNREQUEST: a request is registered")
                .isEqualTo(TYPE_SEND | TYPE_DNREQUEST);
        code(k.ipc().machPortDestroy(name(server, p)), KERN_SUCCESS);

        MachMessage n = take(client, ct, notify);
        assertThat(n.getId()).isEqualTo(NOTIFY_DEAD_NAME);
        assertThat(n.getBody(0).getPort()).isEqualTo(MachMsgPort.newBuilder().setName(cs).setType(PORT_NAME).build());
        MachPortReply ty = type(client, cs);
        code(ty, KERN_SUCCESS);
        assertThat(ty.getValue()).isEqualTo(TYPE_DEAD_NAME);
        assertThat(refs(client, cs, RIGHT_DEAD_NAME)).isEqualTo(4);
        code(send(client, ct, to(cs, COPY_SEND, 1)), SEND_INVALID_DEST);
        code(modRefs(client, cs, RIGHT_SEND, -1), KERN_INVALID_RIGHT);

        int inbox = port(client);
        code(send(client, ct, to(inbox, MAKE_SEND, 2).setBits(MAKE_SEND | COMPLEX).addBody(right(cs, COPY_SEND))),
                KERN_SUCCESS);
        MachMessage m = take(client, ct, inbox);
        assertThat(m.getBody(0).getPort()).isEqualTo(MachMsgPort.newBuilder().setName(PORT_DEAD).setType(MOVE_SEND).build());
        code(modRefs(client, cs, RIGHT_DEAD_NAME, -5), KERN_INVALID_VALUE);
        code(modRefs(client, cs, RIGHT_DEAD_NAME, -4), KERN_SUCCESS);
        code(type(client, cs), KERN_INVALID_NAME);
        stillServes();
    }

    /**
     * Destroying a receive right destroys its queued messages, and each send-once reply right in
     * them says so (MACH_NOTIFY_SEND_ONCE at its port); a thread blocked on a port that dies gets
     * MACH_RCV_PORT_DIED.
     */
    @Test
    void queuedMessagesDieWithTheirPortAndTheirSendOnceRightsSaySo() throws Exception {
        long server = k.task("server");
        long client = k.task("client");
        int st = k.thread(server, 10);
        int ct = k.thread(client, 10);
        int p = port(server);
        int cs = sendRight(server, p, client);
        int reply = port(client);
        for (int i = 0; i < 2; i++) {
            code(send(client, ct, to(cs, COPY_SEND, i).setBits(COPY_SEND | MAKE_SEND_ONCE << 8).setLocalPort(reply)),
                    KERN_SUCCESS);
        }
        assertThat(status(client, reply).getSorights()).isEqualTo(2);
        assertThat(status(server, p).getMsgcount()).isEqualTo(2);
        code(k.ipc().machPortDestroy(name(server, p)), KERN_SUCCESS);
        assertThat(take(client, ct, reply).getId()).isEqualTo(NOTIFY_SEND_ONCE);
        assertThat(take(client, ct, reply).getId()).isEqualTo(NOTIFY_SEND_ONCE);
        code(poll(client, ct, reply, BIG, 0), RCV_TIMED_OUT);
        assertThat(status(client, reply).getSorights()).isZero();

        int q = port(server);
        ListenableFuture<MachMsgReply> waiting = blockedReceive(server, st, q);
        code(k.ipc().machPortModRefs(MachPortModRefsRequest.newBuilder().setTask(server).setName(q)
                .setRight(RIGHT_RECEIVE).setDelta(-1).build()), KERN_SUCCESS);
        code(done(waiting), RCV_PORT_DIED);
        stillServes();
    }

    /**
     * A send-once right is used exactly once: sent through (MOVE_SEND_ONCE) its name is gone and a
     * second send is MACH_SEND_INVALID_DEST; the message says it came through a send-once right;
     * one deallocated unused sends MACH_NOTIFY_SEND_ONCE to its own port. A send-once destination
     * ignores the queue limit.
     */
    @Test
    void sendOnceRightsAreUsedExactlyOnce() {
        long server = k.task("server");
        long client = k.task("client");
        int st = k.thread(server, 10);
        int ct = k.thread(client, 10);
        int p = port(server);
        MachPortReply once = extract(server, p, MAKE_SEND_ONCE, client);
        code(once, KERN_SUCCESS);
        assertThat(once.getMsgType()).isEqualTo(MOVE_SEND_ONCE);
        int so = once.getName();
        assertThat(type(client, so).getValue()).isEqualTo(TYPE_SEND_ONCE);
        assertThat(refs(client, so, RIGHT_SEND_ONCE)).isEqualTo(1);
        assertThat(status(server, p).getSorights()).isEqualTo(1);
        code(modRefs(client, so, RIGHT_SEND_ONCE, 1), KERN_INVALID_VALUE);
        code(qlimit(server, p, 0), KERN_SUCCESS);
        int cs = sendRight(server, p, client);
        code(trySend(client, ct, to(cs, COPY_SEND, 1)), SEND_TIMED_OUT);
        code(trySend(client, ct, to(so, MOVE_SEND_ONCE, 2)), KERN_SUCCESS);
        code(type(client, so), KERN_INVALID_NAME);
        code(send(client, ct, to(so, MOVE_SEND_ONCE, 3)), SEND_INVALID_DEST);
        MachMessage m = take(server, st, p);
        assertThat(m.getId()).isEqualTo(2);
        assertThat(m.getBits() & 0xff00).as("addressed through a send-once right").isEqualTo(MOVE_SEND_ONCE << 8);
        assertThat(m.getLocalPort()).isEqualTo(p);
        assertThat(status(server, p).getSorights()).isZero();

        int unused = extract(server, p, MAKE_SEND_ONCE, client).getName();
        code(k.ipc().machPortDeallocate(name(client, unused)), KERN_SUCCESS);
        assertThat(take(server, st, p).getId()).isEqualTo(NOTIFY_SEND_ONCE);
        assertThat(status(server, p).getSorights()).isZero();
        stillServes();
    }

    /**
     * Body rights move as their dispositions say: MOVE_SEND takes a user reference from the
     * sender, COPY_SEND none, MAKE_SEND adds to mscount, MAKE_SEND_ONCE to sorights; the three
     * send rights join one name at the receiver (3 user references). MOVE_RECEIVE moves the
     * receive right with its queued messages (the sender keeps its send rights; mscount starts
     * again); in a header it is MACH_SEND_INVALID_HEADER.
     */
    @Test
    void rightsMoveInMessagesAsTheirDispositionsSay() {
        long sender = k.task("sender");
        long receiver = k.task("receiver");
        int st = k.thread(sender, 10);
        int rt = k.thread(receiver, 10);
        int inbox = port(receiver);
        int toInbox = sendRight(receiver, inbox, sender);
        int x = port(sender);
        code(insert(sender, x, sender, x, MAKE_SEND), KERN_SUCCESS);
        code(modRefs(sender, x, RIGHT_SEND, 2), KERN_SUCCESS);
        code(send(sender, st, to(toInbox, COPY_SEND, 1).setBits(COPY_SEND | COMPLEX).addBody(right(x, MOVE_SEND))
                .addBody(right(x, COPY_SEND)).addBody(right(x, MAKE_SEND)).addBody(right(x, MAKE_SEND_ONCE))),
                KERN_SUCCESS);
        assertThat(refs(sender, x, RIGHT_SEND)).isEqualTo(2);
        assertThat(status(sender, x).getMscount()).isEqualTo(2);
        assertThat(status(sender, x).getSorights()).isEqualTo(1);
        MachMessage m = take(receiver, rt, inbox);
        int got = m.getBody(0).getPort().getName();
        for (int i = 0; i < 3; i++) {
            assertThat(m.getBody(i).getPort()).isEqualTo(MachMsgPort.newBuilder().setName(got).setType(MOVE_SEND).build());
        }
        assertThat(m.getBody(3).getPort().getType()).isEqualTo(MOVE_SEND_ONCE);
        assertThat(m.getBody(3).getPort().getName()).isNotIn(got, PORT_NULL, PORT_DEAD);
        assertThat(refs(receiver, got, RIGHT_SEND)).isEqualTo(3);

        code(send(sender, st, to(x, MAKE_SEND, 7)), KERN_SUCCESS);
        code(send(sender, st, to(toInbox, MOVE_RECEIVE, 8)), SEND_INVALID_HEADER);
        code(send(sender, st, to(toInbox, COPY_SEND, 8).setBits(COPY_SEND | COMPLEX).addBody(right(x, MOVE_RECEIVE))),
                KERN_SUCCESS);
        assertThat(type(sender, x).getValue()).as("the sender keeps its send rights").isEqualTo(TYPE_SEND);
        MachMessage carrying = take(receiver, rt, inbox);
        assertThat(carrying.getBody(0).getPort()).as("joins the receiver's send-right name")
                .isEqualTo(MachMsgPort.newBuilder().setName(got).setType(MOVE_RECEIVE).build());
        assertThat(type(receiver, got).getValue()).isEqualTo(TYPE_SEND | TYPE_RECEIVE);
        MachPortReceiveStatusReply moved = status(receiver, got);
        assertThat(moved.getMsgcount()).as("its queue moved with it").isEqualTo(1);
        assertThat(moved.getMscount()).isZero();
        assertThat(take(receiver, rt, got).getId()).isEqualTo(7);
        stillServes();
    }

    /**
     * GNU Mach keeps a send right's user references at most MACH_PORT_UREFS_MAX - 1 (0xFFFE), in
     * mod_refs and insert_right (KERN_UREFS_OVERFLOW beyond), so that the dead name it becomes can
     * take the dead-name notification's reference: a right held at the maximum whose port dies is
     * a dead name with 0xFFFF references, every one of which the holder can take off. A dead name
     * itself goes to 0xFFFF.
     */
    @Test
    void sendRightsStopOneShortOfTheUrefsMaximum() {
        long server = k.task("server");
        long client = k.task("client");
        int ct = k.thread(client, 10);
        int p = port(server);
        int cs = sendRight(server, p, client);
        code(modRefs(client, cs, RIGHT_SEND, UREFS_MAX - 1), KERN_UREFS_OVERFLOW);
        assertThat(refs(client, cs, RIGHT_SEND)).isEqualTo(1);
        code(modRefs(client, cs, RIGHT_SEND, UREFS_MAX - 2), KERN_SUCCESS);
        assertThat(refs(client, cs, RIGHT_SEND)).isEqualTo(UREFS_MAX - 1);
        code(modRefs(client, cs, RIGHT_SEND, 1), KERN_UREFS_OVERFLOW);
        code(insert(client, cs, server, p, MAKE_SEND), KERN_UREFS_OVERFLOW);
        code(modRefs(client, cs, RIGHT_SEND, -UREFS_MAX), KERN_INVALID_VALUE);

        int notify = port(client);
        code(requestDeadName(client, cs, notify), KERN_SUCCESS);
        code(k.ipc().machPortDestroy(name(server, p)), KERN_SUCCESS);
        assertThat(take(client, ct, notify).getId()).isEqualTo(NOTIFY_DEAD_NAME);
        assertThat(refs(client, cs, RIGHT_DEAD_NAME)).as("the notification's reference is not lost").isEqualTo(UREFS_MAX);
        code(modRefs(client, cs, RIGHT_DEAD_NAME, -UREFS_MAX), KERN_SUCCESS);
        code(type(client, cs), KERN_INVALID_NAME);

        MachPortReply dead = allocate(client, RIGHT_DEAD_NAME);
        code(modRefs(client, dead.getName(), RIGHT_DEAD_NAME, UREFS_MAX - 1), KERN_SUCCESS);
        code(modRefs(client, dead.getName(), RIGHT_DEAD_NAME, 1), KERN_UREFS_OVERFLOW);
        assertThat(refs(client, dead.getName(), RIGHT_DEAD_NAME)).isEqualTo(UREFS_MAX);
        stillServes();
    }

    /**
     * NO_SENDERS comes when the last send right goes, carrying the make-send count; a second
     * request returns the first one's send-once right; PORT_DELETED comes when a name with a
     * dead-name request is freed, carrying the name.
     */
    @Test
    void noSendersAndPortDeleted() {
        long server = k.task("server");
        long client = k.task("client");
        int st = k.thread(server, 10);
        int ct = k.thread(client, 10);
        int p = port(server);
        int notify = port(server);
        MachPortRequestNotificationRequest.Builder ns = MachPortRequestNotificationRequest.newBuilder().setTask(server)
                .setName(p).setVariant(NOTIFY_NO_SENDERS).setSync(1).setNotify(notify).setDisposition(MAKE_SEND_ONCE);
        MachPortReply first = k.ipc().machPortRequestNotification(ns.build());
        code(first, KERN_SUCCESS);
        assertThat(first.getName()).isEqualTo(PORT_NULL);
        code(poll(server, st, notify, BIG, 0), RCV_TIMED_OUT); // mscount 0 < sync 1: not yet
        MachPortReply second = k.ipc().machPortRequestNotification(ns.build());
        code(second, KERN_SUCCESS);
        assertThat(type(server, second.getName()).getValue()).as("the first request's right, returned")
                .isEqualTo(TYPE_SEND_ONCE);
        code(k.ipc().machPortDeallocate(name(server, second.getName())), KERN_SUCCESS);
        assertThat(take(server, st, notify).getId()).isEqualTo(NOTIFY_SEND_ONCE);
        assertThat(status(server, p).getNsrequest()).isTrue();

        int cs = sendRight(server, p, client);
        code(modRefs(client, cs, RIGHT_SEND, 1), KERN_SUCCESS);
        code(k.ipc().machPortDeallocate(name(client, cs)), KERN_SUCCESS);
        code(poll(server, st, notify, BIG, 0), RCV_TIMED_OUT); // one uref left: still a sender
        int cn = port(client);
        code(requestDeadName(client, cs, cn), KERN_SUCCESS);
        code(k.ipc().machPortDeallocate(name(client, cs)), KERN_SUCCESS);
        MachMessage deleted = take(client, ct, cn);
        assertThat(deleted.getId()).isEqualTo(NOTIFY_PORT_DELETED);
        assertThat(deleted.getBody(0).getPort()).isEqualTo(MachMsgPort.newBuilder().setName(cs).setType(PORT_NAME).build());
        MachMessage none = take(server, st, notify);
        assertThat(none.getId()).isEqualTo(NOTIFY_NO_SENDERS);
        assertThat(none.getBody(0).getInlineData().toByteArray()).as("mscount 1, little-endian").containsExactly(1, 0, 0, 0);
        assertThat(status(server, p).getNsrequest()).as("one-shot").isFalse();
        stillServes();
    }

    // ---- queues ---------------------------------------------------------------------------------

    /**
     * A full queue: MACH_SEND_TIMEOUT 0 is MACH_SEND_TIMED_OUT at once and the message's rights go
     * back to the sender; without a timeout the sender blocks until a receive makes room. An
     * empty queue with MACH_RCV_TIMEOUT 0 is MACH_RCV_TIMED_OUT.
     */
    @Test
    void fullQueuesBlockOrTimeOutAndGiveTheRightsBack() throws Exception {
        long server = k.task("server");
        long client = k.task("client");
        int st = k.thread(server, 10);
        int ct = k.thread(client, 10);
        int p = port(server);
        int cs = sendRight(server, p, client);
        int mine = port(client);
        code(insert(client, mine, client, mine, MAKE_SEND), KERN_SUCCESS);
        code(modRefs(client, mine, RIGHT_SEND, 1), KERN_SUCCESS);
        code(qlimit(server, p, 1), KERN_SUCCESS);
        code(trySend(client, ct, to(cs, COPY_SEND, 1)), KERN_SUCCESS);
        code(trySend(client, ct, to(cs, COPY_SEND, 2).setBits(COPY_SEND | COMPLEX).addBody(right(mine, MOVE_SEND))),
                SEND_TIMED_OUT);
        assertThat(refs(client, mine, RIGHT_SEND)).as("the moved right came back").isEqualTo(2);
        assertThat(status(server, p).getMsgcount()).isEqualTo(1);

        ListenableFuture<MachMsgReply> blocked = k.ipcAsync().machMsg(request(client, ct, SEND_MSG)
                .setMsg(to(cs, COPY_SEND, 3)).build());
        await().atMost(WAIT).until(() -> "mach_msg".equals(k.blockedIn(ct)));
        assertThat(take(server, st, p).getId()).isEqualTo(1);
        code(done(blocked), KERN_SUCCESS);
        assertThat(take(server, st, p).getId()).isEqualTo(3);
        code(poll(server, st, p, BIG, 0), RCV_TIMED_OUT);
        code(qlimit(server, p, 16), KERN_SUCCESS);
        stillServes();
    }

    /**
     * A message larger than rcv_size: with MACH_RCV_LARGE it stays queued and its size is
     * returned; without, it is dequeued and destroyed, its header returned with no reply right
     * (which, a send-once right, says SEND_ONCE to the reply port) but the reply's type in the bits.
     */
    @Test
    void tooLargeMessages() {
        long server = k.task("server");
        long client = k.task("client");
        int st = k.thread(server, 10);
        int ct = k.thread(client, 10);
        int p = port(server);
        int cs = sendRight(server, p, client);
        int reply = port(client);
        MachMessage.Builder msg = to(cs, COPY_SEND, 9).setBits(COPY_SEND | MAKE_SEND_ONCE << 8).setLocalPort(reply)
                .addBody(bytes(100));
        code(send(client, ct, msg), KERN_SUCCESS);
        MachMsgReply large = poll(server, st, p, 64, RCV_LARGE);
        code(large, RCV_TOO_LARGE);
        assertThat(large.getSize()).isEqualTo(24 + 4 + 100);
        assertThat(status(server, p).getMsgcount()).isEqualTo(1);
        MachMessage fits = take(server, st, p);
        assertThat(fits.getId()).isEqualTo(9);
        assertThat(fits.getBits()).as("reversed: PORT_SEND local, PORT_SEND_ONCE reply").isEqualTo(MOVE_SEND << 8 | MOVE_SEND_ONCE);
        code(k.ipc().machPortDeallocate(name(server, fits.getRemotePort())), KERN_SUCCESS);
        assertThat(take(client, ct, reply).getId()).isEqualTo(NOTIFY_SEND_ONCE);

        code(send(client, ct, msg), KERN_SUCCESS);
        MachMsgReply cut = poll(server, st, p, 64, 0);
        code(cut, RCV_TOO_LARGE);
        assertThat(cut.getMsg().getLocalPort()).isEqualTo(p);
        assertThat(cut.getMsg().getRemotePort()).isEqualTo(PORT_NULL);
        assertThat(cut.getMsg().getBits()).as("GNU's copyout_dest keeps the reply's type, its right destroyed")
                .isEqualTo(MOVE_SEND << 8 | MOVE_SEND_ONCE);
        assertThat(cut.getMsg().getId()).isEqualTo(9);
        assertThat(status(server, p).getMsgcount()).isZero();
        assertThat(take(client, ct, reply).getId()).isEqualTo(NOTIFY_SEND_ONCE);
        stillServes();
    }

    /**
     * Port sets: a member cannot be received from directly (MACH_RCV_IN_SET); the set serves its
     * members' messages oldest first, each naming its port; move_member out of no set is
     * KERN_NOT_IN_SET; a set destroyed under a waiting receiver is MACH_RCV_PORT_DIED and its
     * members leave it.
     */
    @Test
    void portSets() throws Exception {
        long server = k.task("server");
        long client = k.task("client");
        int st = k.thread(server, 10);
        int ct = k.thread(client, 10);
        MachPortReply setReply = allocate(server, RIGHT_PORT_SET);
        code(setReply, KERN_SUCCESS);
        int set = setReply.getName();
        int a = port(server);
        int b = port(server);
        code(moveMember(server, a, set), KERN_SUCCESS);
        code(moveMember(server, b, PORT_NULL), KERN_NOT_IN_SET);
        code(moveMember(server, b, set), KERN_SUCCESS);
        code(moveMember(server, b, a), KERN_INVALID_RIGHT);
        code(moveMember(server, 0x777, set), KERN_INVALID_NAME);
        assertThat(status(server, a).getPset()).isEqualTo(set);
        code(poll(server, st, a, BIG, 0), RCV_IN_SET);
        int toA = sendRight(server, a, client);
        int toB = sendRight(server, b, client);
        code(send(client, ct, to(toB, COPY_SEND, 1)), KERN_SUCCESS);
        code(send(client, ct, to(toA, COPY_SEND, 2)), KERN_SUCCESS);
        MachMessage first = take(server, st, set);
        assertThat(first.getId()).isEqualTo(1);
        assertThat(first.getLocalPort()).isEqualTo(b);
        assertThat(take(server, st, set).getLocalPort()).isEqualTo(a);

        ListenableFuture<MachMsgReply> waiting = blockedReceive(server, st, set);
        code(k.ipc().machPortDestroy(name(server, set)), KERN_SUCCESS);
        code(done(waiting), RCV_PORT_DIED);
        assertThat(status(server, a).getPset()).isEqualTo(PORT_NULL);
        code(send(client, ct, to(toA, COPY_SEND, 3)), KERN_SUCCESS);
        assertThat(take(server, st, a).getId()).as("a member again received from directly").isEqualTo(3);
        stillServes();
    }

    // ---- bounds: what an untrusted client can make the kernel keep ---------------------------------

    /**
     * A task that allocates names without end gets KERN_NO_SPACE at 65,536, from every path that
     * would make a name: allocate, extract_right into it (KERN_NO_SPACE), a message whose body
     * rights need names (received with MACH_RCV_BODY_ERROR | MACH_MSG_IPC_SPACE, those rights
     * destroyed and named NULL, a send-once right saying so). Freeing a name makes room; ending
     * the task frees them all; the kernel serves throughout.
     */
    @Test
    void nameSpaceExhaustionIsARefusalNotACrash() throws Exception {
        long hog = k.task("hog");
        long server = k.task("server");
        int ht = k.thread(hog, 10);
        int st = k.thread(server, 10);
        int inbox = port(hog);
        int toInbox = sendRight(hog, inbox, server);
        int p = port(server);
        int made = 1; // inbox
        int lastDead = PORT_NULL;
        boolean full = false;
        while (!full) {
            List<ListenableFuture<MachPortReply>> batch = new ArrayList<>();
            for (int i = 0; i < 512; i++) {
                batch.add(k.ipcAsync().machPortAllocate(MachPortAllocateRequest.newBuilder().setTask(hog)
                        .setRight(RIGHT_DEAD_NAME).build()));
            }
            for (ListenableFuture<MachPortReply> f : batch) {
                MachPortReply r = f.get(60, TimeUnit.SECONDS);
                if (r.getKernReturn() == KERN_SUCCESS) {
                    made++;
                    lastDead = r.getName();
                } else {
                    assertThat(r.getKernReturn()).as(r.getKernReturnName()).isEqualTo(KERN_NO_SPACE);
                    assertThat(r.getKernReturnName()).isEqualTo("KERN_NO_SPACE");
                    full = true;
                }
            }
            assertThat(made).as("a bound, well before the heap runs out").isLessThanOrEqualTo(1 << 16);
        }
        assertThat(made).isEqualTo(1 << 16);
        code(allocate(hog, RIGHT_RECEIVE), KERN_NO_SPACE);
        code(extract(server, p, MAKE_SEND_ONCE, hog), KERN_NO_SPACE);
        code(extract(server, p, MAKE_SEND, hog), KERN_NO_SPACE);
        assertThat(status(server, p).getSorights()).isZero();

        code(send(server, st, to(toInbox, COPY_SEND, 5).setBits(COPY_SEND | COMPLEX).addBody(right(p, MAKE_SEND_ONCE))
                .addBody(bytes(4))), KERN_SUCCESS);
        MachMsgReply r = poll(hog, ht, inbox, BIG, 0);
        code(r, RCV_BODY_ERROR_IPC_SPACE);
        assertThat(r.getMsg().getId()).isEqualTo(5);
        assertThat(r.getMsg().getBody(0).getPort()).isEqualTo(MachMsgPort.newBuilder().setName(PORT_NULL)
                .setType(MOVE_SEND_ONCE).build());
        assertThat(take(server, st, p).getId()).as("the lost send-once right said so").isEqualTo(NOTIFY_SEND_ONCE);

        code(k.ipc().machPortDeallocate(name(hog, lastDead)), KERN_SUCCESS);
        code(extract(server, p, MAKE_SEND_ONCE, hog), KERN_SUCCESS);
        stillServes();
        k.call().taskTerminate(TaskTerminateRequest.newBuilder().setTask(hog).build());
        MachMsgReply ended = await("the hog's send-once right ends with it").atMost(WAIT)
                .until(() -> poll(server, st, p, BIG, 0), m -> m.getKernReturn() == KERN_SUCCESS);
        assertThat(ended.getMsg().getId()).isEqualTo(NOTIFY_SEND_ONCE);
        assertThat(status(server, p).getSorights()).isZero();
        stillServes();
    }

    /**
     * Messages to a send-once right ignore the queue limit, so a task sending them to its own
     * port could make the kernel queue without end; GNU Mach stops at kernel memory with
     * MACH_SEND_NO_BUFFER. machxp's budget of queued bytes does the same, a task at a quarter of
     * it, a client peer at its share (an eighth of 7/8): the send is refused with nothing done and a
     * sentence naming the share, other tasks still send, receiving makes room.
     */
    @Test
    void queueingWithoutEndThroughSendOnceRightsIsNoBuffer() {
        long hog = k.task("hog");
        int ht = k.thread(hog, 10);
        int p = port(hog);
        // 1 MiB each: a client peer (this probe's loopback connection) has 14 MiB of the 128 MiB (review rv58 HIGH-1)
        MachMessage.Builder oneMiB = to(p, MAKE_SEND_ONCE, 0).addBody(bytes(1 << 20));
        int sent = 0;
        MachMsgReply last;
        do {
            last = send(hog, ht, oneMiB.setId(sent));
            if (last.getKernReturn() == KERN_SUCCESS) {
                sent++;
            }
        } while (last.getKernReturn() == KERN_SUCCESS && sent < 100);
        code(last, SEND_NO_BUFFER);
        assertThat(last.getKernReturnName()).isEqualTo("MACH_SEND_NO_BUFFER");
        assertThat(last.getDetail()).as("the sentence names the share used up").contains("client peer");
        assertThat(sent).as("past qlimit, to a bound").isGreaterThan(5).isLessThan(40);
        MachPortReceiveStatusReply s = status(hog, p);
        assertThat(s.getMsgcount()).isEqualTo(sent);
        assertThat(s.getSorights()).as("the refused send made no right").isEqualTo(sent);
        stillServes();
        MachMsgReply first = poll(hog, ht, p, 4 << 20, 0);
        code(first, KERN_SUCCESS);
        assertThat(first.getMsg().getId()).isZero();
        code(send(hog, ht, oneMiB.setId(1000)), KERN_SUCCESS);
        code(k.ipc().machPortDestroy(name(hog, p)), KERN_SUCCESS);
        stillServes();
    }

    // ---- malformed requests ----------------------------------------------------------------------

    /** A failed call carries a gRPC status with the errno in ErrorInfo and a sentence saying what to do. */
    private static void fails(ThrowingCallable call, Status.Code code, String errno) {
        Throwable t = catchThrowable(call);
        assertThat(t).as("expected %s/%s", code, errno).isInstanceOf(StatusRuntimeException.class);
        StatusRuntimeException e = (StatusRuntimeException) t;
        assertThat(e.getStatus().getCode()).as(e.getMessage()).isEqualTo(code);
        assertThat(RawKernel.errno(e)).as(e.getMessage()).isEqualTo(errno);
        assertThat(e.getStatus().getDescription()).hasSizeGreaterThan(30);
    }

    /**
     * Malformed messages are Mach codes, not failures of the call: no message
     * (MACH_SEND_MSG_TOO_SMALL), bad header bits (MACH_SEND_INVALID_HEADER), a port item of no
     * right type or without COMPLEX, or an item with nothing set (MACH_SEND_INVALID_TYPE), a body right the sender lacks
     * (MACH_SEND_INVALID_RIGHT: the message is destroyed with its header rights, so the send-once
     * reply says SEND_ONCE). A thread or task the kernel does not know is a gRPC NOT_FOUND with
     * ESRCH and a sentence. The kernel serves afterwards.
     */
    @Test
    void malformedMessagesGetClearAnswers() {
        long t = k.task("bad");
        int th = k.thread(t, 10);
        int p = port(t);
        int reply = port(t);
        code(k.ipc().machMsg(request(t, th, SEND_MSG).build()), SEND_MSG_TOO_SMALL);
        code(send(t, th, to(p, 0, 1)), SEND_INVALID_HEADER);
        code(send(t, th, to(p, MAKE_SEND, 1).setBits(MAKE_SEND | 5 << 8).setLocalPort(reply)), SEND_INVALID_HEADER);
        code(send(t, th, to(p, MAKE_SEND, 1).setLocalPort(reply)), SEND_INVALID_HEADER);
        code(send(t, th, to(p, MAKE_SEND, 1).setBits(MAKE_SEND | COMPLEX).addBody(right(reply, 99))), SEND_INVALID_TYPE);
        code(send(t, th, to(p, MAKE_SEND, 1).addBody(right(reply, MAKE_SEND))), SEND_INVALID_TYPE);
        code(send(t, th, to(p, MAKE_SEND, 1).addBody(MachMsgItem.getDefaultInstance())), SEND_INVALID_TYPE);
        code(send(t, th, to(p, MAKE_SEND, 1).setBits(MAKE_SEND | MAKE_SEND_ONCE << 8 | COMPLEX).setLocalPort(reply)
                .addBody(right(0x777, COPY_SEND))), SEND_INVALID_RIGHT);
        assertThat(take(t, th, reply).getId()).isEqualTo(NOTIFY_SEND_ONCE);
        assertThat(status(t, p).getMsgcount()).isZero();
        assertThat(status(t, p).getMscount()).as("the four destroyed messages' MAKE_SEND dests were copied in, then ended")
                .isEqualTo(4);
        assertThat(status(t, p).getSrights()).isFalse();

        fails(() -> send(t, 999_999, to(p, MAKE_SEND, 1)), Status.Code.NOT_FOUND, "ESRCH");
        fails(() -> send(987_654_321L, th, to(p, MAKE_SEND, 1)), Status.Code.NOT_FOUND, "ESRCH");
        fails(() -> allocate(987_654_321L, RIGHT_RECEIVE), Status.Code.NOT_FOUND, "ESRCH");
        code(send(t, th, to(p, MAKE_SEND, 2)), KERN_SUCCESS);
        assertThat(take(t, th, p).getId()).isEqualTo(2);
        stillServes();
    }
}
