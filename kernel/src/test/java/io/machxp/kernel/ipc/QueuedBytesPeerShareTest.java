package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Review rv58 HIGH-1: the kernel's budget of queued message bytes had a share per sending task (a
 * quarter) but none per client peer, so one client's five unwatched tasks filled all of it and
 * every other sender, in-process tasks too, was MACH_SEND_NO_BUFFER, also after that client
 * disconnected. Now the bytes count to the sending task's peer ({@link QueuedShares}: a peer at
 * most an eighth of the clients' seven eighths, and no more than is free to them), and each byte
 * comes back to the peer it was counted to on every way out: received, destroyed with its port,
 * the sending task's end, a notification's charge moving with its port's receive right, another
 * kernel's answer or death.
 */
class QueuedBytesPeerShareTest {
    /** One connection of a client peer (as the gRPC server's owners are). */
    private record Connection(int n, Object peer) implements NameOwner {}

    private static final Object HOG = "hog host";
    private static final Object OTHER = "other host";
    private static final byte[] KB = new byte[1024];
    /** What one filler message costs. */
    private static final long EACH = MsgSend.cost(MachMessage.to(1, MsgType.MAKE_SEND_ONCE, 0).withBody(new MsgItem.Inline(KB)));
    /** The kernel's budget in the tests: 64 fillers; clients' pool 56, a peer's share 7, a task's quarter 16. */
    private static final long BUDGET = 64 * EACH;

    private final IpcFixture f = new IpcFixture();

    /** Task {@code task} sends itself fillers (to a send-once right: no qlimit) on {@code port} until refused; the last answer. */
    private MsgReturn fill(long task, int port, int[] sent) {
        for (int i = 0; i < 1000; i++) {
            MsgReturn r = f.msg(task, 900 + (int) task, MachMessage.to(port, MsgType.MAKE_SEND_ONCE, i)
                    .withBody(new MsgItem.Inline(KB)), Mach.MACH_SEND_MSG, 0, 0, 0).result();
            if (r.code() != KernReturn.MACH_MSG_SUCCESS) {
                return r;
            }
            sent[0]++;
        }
        throw new AssertionError("1,000 fillers queued and none refused");
    }

    @Test
    void oneClientsTasksTakeAtMostItsShareAndOthersStillSend() {
        f.ipc.limitQueuedBytes(BUDGET);
        List<Long> hogTasks = new ArrayList<>();
        int[] hogSent = {0};
        MsgReturn refused = null;
        int port10 = 0;
        for (long t = 10; t < 15; t++) { // five tasks, each on a connection of its own, one peer
            f.ipc.spaceCreate(t, new Connection((int) t, HOG));
            hogTasks.add(t);
            int port = f.allocate(t);
            port10 = t == 10 ? port : port10;
            refused = fill(t, port, hogSent);
            assertThat(refused.code()).isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
        }
        assertThat(hogSent[0]).as("the peer's share (7 of 64), not the whole budget (64: four quarters before)")
                .isEqualTo(7);
        assertThat(f.ipc.queuedBytesOfPeerOf(new Connection(99, HOG))).isEqualTo(7 * EACH);
        assertThat(f.ipc.queuedBytes()).isEqualTo(7 * EACH);
        assertThat(refused.detail()).as("the answer names whose share is used up")
                .contains("client peer hog host").contains("share of queued messages");

        long other = 20;
        f.ipc.spaceCreate(other, new Connection(20, OTHER));
        int[] otherSent = {0};
        assertThat(fill(other, f.allocate(other), otherSent).code()).isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
        assertThat(otherSent[0]).as("another client gets its whole share").isEqualTo(7);
        int[] inProcess = {0};
        MsgReturn quarter = fill(A, f.allocate(A), inProcess);
        assertThat(inProcess[0]).as("an in-process task its quarter").isEqualTo(16);
        assertThat(quarter.detail()).contains("task's share");

        // the hog's bytes come back to its peer, exactly (port destruction: the notification test below)
        assertThat(f.take(10, port10)).isNotNull(); // received
        assertThat(f.ipc.queuedBytesOfPeerOf(HOG)).isEqualTo(6 * EACH);
        hogTasks.forEach(f.ipc::spaceDestroy); // the tasks end: their ports die with what was queued there
        assertThat(f.ipc.queuedBytesOfPeerOf(HOG)).isZero();
        f.ipc.spaceDestroy(other);
        assertThat(f.ipc.queuedBytesOfPeers()).isZero();
        assertThat(f.ipc.queuedBytes()).isEqualTo(16 * EACH);
    }

    /**
     * With eight greedy peers the clients' pool is used up, but the last eighth of the budget is
     * in-process tasks' reserve; and a peer's bytes queued on an in-process task's port count to
     * the peer until received.
     */
    @Test
    void greedyPeersLeaveInProcessTasksTheReserve() {
        f.ipc.limitQueuedBytes(BUDGET);
        int total = 0;
        for (int p = 0; p < 8; p++) {
            long t = 30 + p;
            f.ipc.spaceCreate(t, new Connection(p, "peer " + p));
            int[] sent = {0};
            assertThat(fill(t, f.allocate(t), sent).code()).isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
            assertThat(sent[0]).as("peer %d", p).isLessThanOrEqualTo(7);
            total += sent[0];
        }
        assertThat(total * EACH).as("clients together: within the pool").isLessThanOrEqualTo(56 * EACH);
        assertThat(f.ipc.queuedBytesOfPeers()).isEqualTo(total * EACH);
        int[] inProcess = {0};
        fill(A, f.allocate(A), inProcess);
        assertThat(inProcess[0]).as("the reserve at least (the budget less what clients hold)")
                .isEqualTo(64 - total).isGreaterThanOrEqualTo(8);
    }

    /**
     * Notifications queued on a port count to the task holding its receive right, so to its peer;
     * moved with the right (in transit: the mover's; received: the receiver's), their bytes move
     * from one peer to the other in one step, and come back when the port dies.
     */
    @Test
    void notificationBytesMoveWithTheReceiveRightFromPeerToPeer() {
        long hog = 10;
        long other = 20;
        f.ipc.spaceCreate(hog, new Connection(1, HOG));
        f.ipc.spaceCreate(other, new Connection(2, OTHER));
        int p = f.allocate(hog);
        for (int i = 0; i < 5; i++) { // no senders: each fires at once, queued on p
            assertThat(f.ipc.machPortRequestNotification(hog, p, Mach.MACH_NOTIFY_NO_SENDERS, 0, p, MsgType.MAKE_SEND_ONCE)
                    .code()).isEqualTo(KernReturn.KERN_SUCCESS);
        }
        long notifications = f.ipc.queuedBytesOfPeerOf(HOG);
        assertThat(notifications).isPositive().isEqualTo(f.ipc.queuedBytes());
        int inbox = f.allocate(other);
        int toInbox = f.sendRightIn(other, inbox, hog);
        assertThat(f.ipc.queuedBytesOfPeerOf(HOG)).isEqualTo(notifications);
        MachMessage carrier = IpcFixture.to(toInbox, 7).withBody(new MsgItem.Port(p, MsgType.MOVE_RECEIVE));
        assertThat(f.msg(hog, 910, carrier, Mach.MACH_SEND_MSG, 0, 0, 0).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        long carrierCost = MsgSend.cost(carrier);
        assertThat(f.ipc.queuedBytesOfPeerOf(HOG)).as("in transit: the mover's").isEqualTo(notifications + carrierCost);
        assertThat(f.ipc.queuedBytesOfPeerOf(OTHER)).isZero();
        MachMessage got = f.msg(other, 920, null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, 1 << 20, inbox, 0).message();
        int moved = ((MsgItem.Port) got.body().get(0)).name();
        assertThat(f.ipc.queuedBytesOfPeerOf(HOG)).as("received: nothing left with the mover").isZero();
        assertThat(f.ipc.queuedBytesOfPeerOf(OTHER)).isEqualTo(notifications);
        assertThat(f.ipc.machPortDestroy(other, moved)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(f.ipc.queuedBytesOfPeers()).isZero();
        assertThat(f.ipc.queuedBytes()).isZero();
    }

    /** A client's task on kernel 1 queueing on kernel 2's port: counted to its peer on kernel 1 until answered or kernel 2 dies. */
    @Test
    void bytesCarriedToAnotherKernelCountToThePeerUntilAnsweredOrThatKernelDies() {
        IpcCluster c = new IpcCluster(2);
        c.core(1).limitQueuedBytes(BUDGET);
        long hog = 10;
        c.core(1).spaceCreate(hog, new Connection(1, HOG));
        int port = c.allocate(2);
        int name = 0x700;
        assertThat(c.core(2).machPortInsertRemote(2, port, MsgType.MAKE_SEND, 1, hog, name)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliverAll();
        int sent = 0;
        KernReturn last;
        MachMessage filler = MachMessage.to(name, MsgType.COPY_SEND, 0).withBody(new MsgItem.Inline(KB));
        long each = MsgSend.cost(filler);
        while ((last = send(c, hog, filler)) == KernReturn.MACH_MSG_SUCCESS && sent < 1000) {
            sent++;
            c.deliverAll();
        }
        assertThat(last).isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
        assertThat(sent * each).as("the peer's share of kernel 1's budget")
                .isLessThanOrEqualTo(QueuedShares.peerMax(BUDGET)).isGreaterThan(QueuedShares.peerMax(BUDGET) - each);
        assertThat(c.core(1).queuedBytesOfPeerOf(HOG)).isEqualTo(sent * each);
        assertThat(c.core(2).queuedBytesOfPeers()).as("charged where sent").isZero();
        c.take(2, port);
        c.deliverAll();
        assertThat(c.core(1).queuedBytesOfPeerOf(HOG)).as("received there: answered").isEqualTo((sent - 1) * each);
        c.kill(2);
        assertThat(c.core(1).queuedBytesOfPeerOf(HOG)).as("kernel 2 died: settled").isZero();
        c.assertAllBack(1);
    }

    private static KernReturn send(IpcCluster c, long task, MachMessage m) {
        IpcFixture.Call call = new IpcFixture.Call();
        c.core(1).machMsg(task, 150, m, Mach.MACH_SEND_MSG, 0, 0, 0, call::accept);
        return call.code();
    }
}
