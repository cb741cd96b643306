package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Review late1 A3: the home counts send-once rights by kernel, and a report of a right that
 * kernel passed on in an earlier IPC session, arriving after the home heard of its death and
 * revival, took one off the count of its new session. That session's first right was then not
 * notified at its death: the rpc's client waited for ever. Reports (and counts carried by a
 * moving receive right) now name the sessions they are about, and an earlier session's are
 * settled as a dead kernel's.
 */
class SendOnceAcrossRevivalTest {
    @Test
    void aLateReportOfAnEarlierSessionDoesNotHideTheNextSessionsRight() {
        IpcCluster c = new IpcCluster(3);
        int reply = c.allocate(2); // the client's reply port: kernel 2 is its home
        int service = c.allocate(1);
        c.give(1, service, MsgType.MAKE_SEND, 2, 0x500);
        int inbox3 = c.inbox(3, 1);
        assertThat(c.send(2, MachMessage.to(0x500, MsgType.COPY_SEND, 7).withReply(reply, MsgType.MAKE_SEND_ONCE))
                .code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        int replyRight = c.take(1, service).remotePort();
        // kernel 1 passes the reply right on to kernel 3, which reports it to the home: held back
        assertThat(c.send(1, MachMessage.to(IpcCluster.INBOX + 3, MsgType.COPY_SEND, 9)
                .withBody(new MsgItem.Port(replyRight, MsgType.MOVE_SEND_ONCE))).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliver(1, 3);
        assertThat(c.pending(3, 2)).as("kernel 3's report to the home").isEqualTo(1);

        c.kill(1);   // the home counted the right at kernel 1: notified (the known limit: one answer more)
        c.revive(1); // kernel 1 rejoins with its next session
        c.deliver(3, 2); // the report of the earlier session arrives late
        assertThat(c.take(2, reply).id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);

        // kernel 1's next session serves a request with a reply right, then dies holding it
        int service2 = c.allocate(1);
        c.give(1, service2, MsgType.MAKE_SEND, 2, 0x501);
        assertThat(c.send(2, MachMessage.to(0x501, MsgType.COPY_SEND, 7).withReply(reply, MsgType.MAKE_SEND_ONCE))
                .code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        assertThat(c.take(1, service2).id()).isEqualTo(7);
        c.kill(1);
        IpcFixture.Call got = c.poll(2, reply);
        assertThat(got.code()).as("the right of the next session died with it: its SEND_ONCE")
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(got.message().id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        assertThat(c.poll(2, reply).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(c.take(3, inbox3).body()).as("kernel 3 still holds the earlier right").hasSize(1);
    }

    /**
     * A receive right moving while a kernel holding one of its send-once rights dies and rejoins:
     * the new home hears of both before the right arrives. The count the right carries is of the
     * earlier session, which no death will notify now: notified on arrival (before, added to the
     * later session's count and notified only at that session's death, if ever).
     */
    @Test
    void aCountOfAnEarlierSessionArrivingWithAMovingRightIsNotified() {
        IpcCluster c = new IpcCluster(3);
        int reply = c.allocate(2);
        int service = c.allocate(1);
        c.give(1, service, MsgType.MAKE_SEND, 2, 0x500);
        assertThat(c.send(2, MachMessage.to(0x500, MsgType.COPY_SEND, 7).withReply(reply, MsgType.MAKE_SEND_ONCE))
                .code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        c.take(1, service); // kernel 1 holds the send-once right, counted at kernel 2 (the home)
        int inbox3 = c.inbox(3, 2);
        c.sendReceiveRight(2, reply, 3); // the migration carries kernel 1's count (session 0)
        c.kill(1);
        c.revive(1);     // kernel 3 hears of the death and the revival first
        c.deliver(2, 3); // then the receive right arrives
        c.deliverAll();
        int at3 = c.receivedRight(3, inbox3);
        IpcFixture.Call got = c.poll(3, at3);
        assertThat(got.code()).as("SEND_ONCE for the right that died with kernel 1's earlier session")
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(got.message().id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        assertThat(c.poll(3, at3).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
    }

    /**
     * Review late3 A3: a right's report named the latest session the kernel had heard of its
     * sender, not the session of the frame that brought it. A kernel that rejoins twice before
     * the frames of its middle session are read has those frames reported as its latest session's,
     * and the home takes one off that session's count (the late1 A3 mis-debit). The report now
     * names the frame's session.
     */
    @Test
    void aRightIsReportedWithTheSessionOfTheFrameThatBroughtIt() {
        IpcCluster c = new IpcCluster(3);
        int reply = c.allocate(2);
        int service = c.allocate(1);
        c.give(1, service, MsgType.MAKE_SEND, 2, 0x500);
        c.inbox(3, 1);
        assertThat(c.send(2, MachMessage.to(0x500, MsgType.COPY_SEND, 7).withReply(reply, MsgType.MAKE_SEND_ONCE))
                .code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        int replyRight = c.take(1, service).remotePort();
        assertThat(c.send(1, MachMessage.to(IpcCluster.INBOX + 3, MsgType.COPY_SEND, 9)
                .withBody(new MsgItem.Port(replyRight, MsgType.MOVE_SEND_ONCE))).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        io.machxp.proto.link.LinkFrame passed = c.takeFrame(1, 3); // of kernel 1's session 0
        c.kill(1);
        c.revive(1); // kernel 3 hears of session 1 before it reads session 0's frame
        c.core(3).linkReceive(1, 0, passed);
        assertThat(c.frames(3, 2)).filteredOn(io.machxp.proto.link.LinkFrame::hasTransfer).singleElement()
                .satisfies(f -> assertThat(f.getTransfer().getSenderSession()).as("the frame's session").isZero());
    }
}
