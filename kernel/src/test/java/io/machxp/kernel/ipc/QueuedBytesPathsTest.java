package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Queued bytes across kernels ({@link InFlight}) along the paths a message can take: whatever
 * happens to a message - received after its receive right moved A to B and back, moved while on
 * links, passed along a chain whose middle kernel dies, too large, held behind a PortFlush, lost
 * with a destroyed port or space, carried to a backup port on another kernel in a PORT_DESTROYED
 * notification, a send-once reply or SEND_ONCE notification, dropped at the hop
 * bound - every kernel's budget ends with nothing charged and no message unanswered. Links
 * delivered by hand ({@link IpcCluster}); docs/mach-ipc.md, "Queued bytes across kernels".
 */
class QueuedBytesPathsTest {
    private static final int NAME = 0x500;

    private static MachMessage msg(int dest, int id) {
        return MachMessage.to(dest, MsgType.COPY_SEND, id).withBody(new MsgItem.Inline(new byte[100]));
    }

    /** Moves the receive right {@code name} of kernel {@code from} to kernel {@code to} (inbox {@code inbox} there, name IpcCluster.INBOX+to at from). */
    private static int move(IpcCluster c, int from, int name, int to, int inbox) {
        c.send(from, MachMessage.to(IpcCluster.INBOX + to, MsgType.COPY_SEND, 9).withBody(new MsgItem.Port(name, MsgType.MOVE_RECEIVE)));
        c.deliverAll();
        MachMessage m = c.take(to, inbox);
        c.deliverAll();
        return ((MsgItem.Port) m.body().get(0)).name();
    }

    @Test
    void messagesToAReceiveRightMovedAToBAndBackAreAnsweredAlongTheirPaths() {
        IpcCluster c = new IpcCluster(3);
        int inbox1 = c.inbox(1, 2);
        int inbox2 = c.inbox(2, 1);
        int port = c.allocate(1);
        c.give(1, port, MsgType.MAKE_SEND, 3, NAME);
        c.send(3, msg(NAME, 1));
        c.deliverAll();
        // local send on 1 too
        assertThat(c.core(1).machPortInsertRight(1, port, 1, port, MsgType.MAKE_SEND)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(c.send(1, msg(port, 2)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        int on2 = move(c, 1, port, 2, inbox2);
        c.send(1, msg(port, 3));
        c.send(3, msg(NAME, 4));
        c.deliverAll();
        int back = move(c, 2, on2, 1, inbox1);
        c.send(1, msg(port, 5));
        c.send(3, msg(NAME, 6));
        c.deliverAll();
        StringBuilder ids = new StringBuilder();
        for (IpcFixture.Call r = c.poll(1, back); r.code() == KernReturn.MACH_MSG_SUCCESS; r = c.poll(1, back)) {
            ids.append(r.message().id()).append(' ');
        }
        assertThat(ids.toString()).isEqualTo("1 2 3 4 5 6 ");
        c.deliverAll();
        c.assertAllBack(1, 2, 3);
    }

    @Test
    void aReceiveRightMovingWhileMessagesAreOnLinksLeavesNothingCharged() {
        IpcCluster c = new IpcCluster(3);
        int inbox1 = c.inbox(1, 2);
        int inbox2 = c.inbox(2, 1);
        int port = c.allocate(1);
        c.give(1, port, MsgType.MAKE_SEND, 3, NAME);
        c.give(1, port, MsgType.MAKE_SEND, 2, NAME);
        for (int i = 0; i < 3; i++) {
            c.send(3, msg(NAME, i));
            c.send(2, msg(NAME, 10 + i));
        }
        // receive right to 2 while 3->1 still holds messages
        c.send(1, MachMessage.to(IpcCluster.INBOX + 2, MsgType.COPY_SEND, 9).withBody(new MsgItem.Port(port, MsgType.MOVE_RECEIVE)));
        c.deliverAllExcept(3, 1);
        MachMessage m = c.take(2, inbox2);
        int on2 = ((MsgItem.Port) m.body().get(0)).name();
        c.send(2, MachMessage.to(IpcCluster.INBOX + 1, MsgType.COPY_SEND, 9).withBody(new MsgItem.Port(on2, MsgType.MOVE_RECEIVE)));
        c.deliverAllExcept(3, 1);
        c.deliverAll();
        int back = ((MsgItem.Port) c.take(1, inbox1).body().get(0)).name();
        for (int i = 0; i < 6; i++) {
            assertThat(c.take(1, back)).isNotNull();
        }
        c.deliverAll();
        c.assertAllBack(1, 2, 3);
    }

    @Test
    void aChainWhoseMiddleKernelDiesSettlesUpstreamAtOnceAndTheRestOnReceipt() {
        IpcCluster c = new IpcCluster(4);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        int inbox3 = c.inbox(3, 2);
        int inbox4 = c.inbox(4, 3);
        int on3 = move(c, 2, port, 3, inbox3);
        int on4 = move(c, 3, on3, 4, inbox4);
        for (int i = 0; i < 3; i++) {
            c.send(1, msg(NAME, i));
        }
        c.deliverAll();
        assertThat(c.core(2).inFlightMessages()).isEqualTo(3);
        assertThat(c.core(3).inFlightMessages()).isEqualTo(3);
        c.kill(3);
        c.deliverAll();
        c.assertAllBack(1, 2);
        c.take(4, on4);
        c.deliverAll();
        c.assertAllBack(1, 2, 4);
    }

    @Test
    void tooLargeWithRcvLargeStaysChargedAndWithoutItComesBack() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        c.send(1, msg(NAME, 1));
        c.send(1, msg(NAME, 2));
        c.deliverAll();
        IpcFixture.Call r = new IpcFixture.Call();
        c.core(2).machMsg(2, 201, null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT | Mach.MACH_RCV_LARGE, 30, port, 0, r::accept);
        assertThat(r.code()).isEqualTo(KernReturn.MACH_RCV_TOO_LARGE);
        c.deliverAll();
        assertThat(c.core(1).inFlightMessages()).isEqualTo(2);
        IpcFixture.Call r2 = new IpcFixture.Call();
        c.core(2).machMsg(2, 201, null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, 30, port, 0, r2::accept);
        assertThat(r2.code()).isEqualTo(KernReturn.MACH_RCV_TOO_LARGE);
        c.deliverAll();
        assertThat(c.core(1).inFlightMessages()).isEqualTo(1);
        c.take(2, port);
        c.deliverAll();
        c.assertAllBack(1, 2);
    }

    @Test
    void aSenderTaskEndingWhileItsMessageWaitsElsewhereLeavesNothingCharged() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        c.send(1, msg(NAME, 1));
        c.deliverAll();
        c.core(1).spaceDestroy(1);
        c.deliverAll();
        c.take(2, port);
        c.deliverAll();
        c.assertAllBack(1, 2);
    }

    @Test
    void aReceiverTaskEndingDestroysItsQueueAndAnswers() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        c.send(1, msg(NAME, 1));
        c.deliverAll();
        c.core(2).spaceDestroy(2);
        c.deliverAll();
        c.assertAllBack(1, 2);
    }

    @Test
    void messagesOnAReceiveRightInTransitComeBackWhenItsCarrierIsDestroyed() {
        IpcCluster c = new IpcCluster(3);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        int inbox3 = c.inbox(3, 2);
        c.send(1, msg(NAME, 1));
        c.deliverAll();
        // receive right carried to 3, where nobody takes it; then 3's inbox is destroyed
        c.send(2, MachMessage.to(IpcCluster.INBOX + 3, MsgType.COPY_SEND, 9).withBody(new MsgItem.Port(port, MsgType.MOVE_RECEIVE)));
        c.send(1, msg(NAME, 2));
        c.deliverAll();
        assertThat(c.core(3).machPortDestroy(3, inbox3)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliverAll();
        c.assertAllBack(1, 2, 3);
    }

    @Test
    void sendOnceRepliesAndSendOnceNotificationsAcrossKernelsComeBack() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        int reply = c.allocate(1);
        c.send(1, msg(NAME, 1).withReply(reply, MsgType.MAKE_SEND_ONCE));
        c.deliverAll();
        MachMessage req = c.take(2, port);
        c.send(2, MachMessage.to(req.remotePort(), MsgType.MOVE_SEND_ONCE, 2).withBody(new MsgItem.Inline(new byte[50])));
        c.deliverAll();
        assertThat(c.core(2).queuedBytes()).isEqualTo(MsgSend.cost(MachMessage.to(1, MsgType.MOVE_SEND_ONCE, 2).withBody(new MsgItem.Inline(new byte[50]))));
        c.take(1, reply);
        c.deliverAll();
        c.assertAllBack(1, 2);
        // and an unused send-once right: SEND_ONCE notification
        c.send(1, msg(NAME, 3).withReply(reply, MsgType.MAKE_SEND_ONCE));
        c.deliverAll();
        MachMessage req2 = c.take(2, port);
        c.core(2).machPortDeallocate(2, req2.remotePort());
        c.deliverAll();
        assertThat(c.take(1, reply).id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        c.deliverAll();
        c.assertAllBack(1, 2);
    }

    @Test
    void aChargedNotificationFollowingItsReceiveRightStaysChargedToItsTask() {
        IpcCluster c = new IpcCluster(2);
        int inbox2 = c.inbox(2, 1);
        int notify = c.allocate(1);
        int watched = c.allocate(1);
        c.request(1, watched, Mach.MACH_NOTIFY_NO_SENDERS, notify);
        assertThat(c.core(1).queuedBytes()).isPositive();
        long q = c.core(1).queuedBytes();
        int on2 = move(c, 1, notify, 2, inbox2);
        assertThat(c.core(1).queuedBytes()).isEqualTo(q);
        assertThat(c.take(2, on2).id()).isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
        c.deliverAll();
        c.assertAllBack(1, 2);
    }

    @Test
    void aMessageDroppedAtTheHopBoundIsAnsweredBackAlongTheLoop() {
        IpcCluster c = new IpcCluster(2);
        io.machxp.proto.link.PortUid uid = io.machxp.proto.link.PortUid.newBuilder().setOrigin(3).setId(1).build();
        for (int k = 1; k <= 2; k++) {
            c.inject(3, k, io.machxp.proto.link.LinkFrame.newBuilder().setInsert(io.machxp.proto.link.LinkInsertRight.newBuilder()
                    .setTask(k).setName(NAME).setRight(io.machxp.proto.link.LinkRight.newBuilder().setPort(uid)
                            .setType(MsgType.PORT_SEND.value).setReceiverKernel(3 - k))).build());
        }
        c.send(1, msg(NAME, 1));
        assertThat(c.deliverAll(50_000)).isTrue();
        c.assertAllBack(1, 2);
    }

    @Test
    void heldMessagesDestroyedWithTheirPortComeBack() {
        IpcCluster c = new IpcCluster(3);
        int inbox1 = c.inbox(1, 2);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        c.give(2, port, MsgType.MAKE_SEND, 3, NAME);
        c.send(1, msg(NAME, 1)); // on link 1 -> 2 when the receive right reaches kernel 1: a PortFlush follows it
        c.send(2, MachMessage.to(IpcCluster.INBOX + 1, MsgType.COPY_SEND, 9).withBody(new MsgItem.Port(port, MsgType.MOVE_RECEIVE)));
        c.deliver(2, 1);
        int here = ((MsgItem.Port) c.take(1, inbox1).body().get(0)).name();
        c.send(1, msg(here, 2)); // held until the PortFlush is back
        c.send(3, msg(NAME, 3));
        c.deliver(3, 2);
        c.deliver(2, 1); // kernel 3's message, passed on by kernel 2 (the link the right came on): queued
        assertThat(c.core(1).machPortGetReceiveStatus(1, here).orThrow("status").msgcount())
                .as("kernel 1's own message waits for the PortFlush").isEqualTo(1);
        assertThat(c.core(1).machPortDestroy(1, here)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliverAll();
        c.assertAllBack(1, 2, 3);
    }

    @Test
    void aQueueCarriedToABackupPortOnAnotherKernelInAPortDestroyedNotificationComesBack() {
        IpcCluster c = new IpcCluster(3);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        int backup = c.allocate(3);
        c.give(3, backup, MsgType.MAKE_SEND, 2, IpcCluster.INBOX);
        int in2 = c.allocate(2);
        c.give(2, in2, MsgType.MAKE_SEND, 3, IpcCluster.INBOX + 2);
        c.send(3, MachMessage.to(IpcCluster.INBOX + 2, MsgType.COPY_SEND, 1).withBody(new MsgItem.Port(backup, MsgType.MAKE_SEND_ONCE)));
        c.deliverAll();
        int sendOnce = ((MsgItem.Port) c.take(2, in2).body().get(0)).name();
        c.deliverAll();
        assertThat(c.core(2).machPortRequestNotification(2, port, Mach.MACH_NOTIFY_PORT_DESTROYED, 0, sendOnce,
                MsgType.MOVE_SEND_ONCE).code()).isEqualTo(KernReturn.KERN_SUCCESS);
        c.send(1, msg(NAME, 1));
        c.send(1, msg(NAME, 2));
        c.deliverAll();
        assertThat(c.core(2).machPortDestroy(2, port)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliverAll();
        MachMessage n = c.take(3, backup);
        assertThat(n.id()).isEqualTo(Mach.MACH_NOTIFY_PORT_DESTROYED);
        c.deliverAll();
        int moved = ((MsgItem.Port) n.body().get(0)).name();
        assertThat(c.take(3, moved).id()).isEqualTo(1);
        assertThat(c.take(3, moved).id()).isEqualTo(2);
        c.deliverAll();
        c.assertAllBack(1, 2, 3);
    }
}
