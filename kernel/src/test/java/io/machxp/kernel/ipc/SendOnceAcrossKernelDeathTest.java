package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A send-once right held by a kernel that dies (or renews) ends unused: its port gets one
 * MACH_NOTIFY_SEND_ONCE, as for a task's death on one kernel (review F5, {@link SendOnceRefs}).
 */
class SendOnceAcrossKernelDeathTest {
    static final int SERVICE = 0x500;

    /** Kernel 2's task sends an rpc to kernel 1's port, reply right MAKE_SEND_ONCE; kernel 1's task takes it. */
    private static int rpcTaken(IpcCluster c, int reply) {
        int service = c.allocate(1);
        c.give(1, service, MsgType.MAKE_SEND, 2, SERVICE);
        assertThat(c.send(2, MachMessage.to(SERVICE, MsgType.COPY_SEND, 7).withReply(reply, MsgType.MAKE_SEND_ONCE))
                .code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        MachMessage req = c.take(1, service);
        assertThat(req.id()).isEqualTo(7);
        return req.remotePort();
    }

    private static int sorights(IpcCluster c, int k, int name) {
        return c.core(k).machPortGetReceiveStatus(k, name).value().sorights();
    }

    @Test
    void aReplyRightHeldByAKernelThatDiesSendsSendOnce() {
        IpcCluster c = new IpcCluster(2);
        int reply = c.allocate(2);
        rpcTaken(c, reply);
        assertThat(sorights(c, 2, reply)).isEqualTo(1);
        c.kill(1);
        c.deliverAll();
        assertThat(c.take(2, reply).id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        assertThat(c.poll(2, reply).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(sorights(c, 2, reply)).isZero();
    }

    @Test
    void aRenewalEndsTheRightsOfTheEarlierSession() {
        IpcCluster c = new IpcCluster(2);
        int reply = c.allocate(2);
        rpcTaken(c, reply);
        c.renew(1);
        c.deliverAll();
        assertThat(c.take(2, reply).id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        assertThat(sorights(c, 2, reply)).isZero();
    }

    @Test
    void aReplyLostOnTheDeadKernelsLinkIsNotifiedAndOneDeliveredIsNot() {
        IpcCluster c = new IpcCluster(2);
        int reply = c.allocate(2);
        int replyRight = rpcTaken(c, reply);
        assertThat(c.send(1, MachMessage.to(replyRight, MsgType.MOVE_SEND_ONCE, 8)).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.kill(1); // the reply was still on the link
        c.deliverAll();
        assertThat(c.take(2, reply).id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);

        IpcCluster d = new IpcCluster(2);
        int reply2 = d.allocate(2);
        int right2 = rpcTaken(d, reply2);
        assertThat(d.send(1, MachMessage.to(right2, MsgType.MOVE_SEND_ONCE, 8)).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        d.deliverAll();
        d.kill(1);
        d.deliverAll();
        assertThat(d.take(2, reply2).id()).isEqualTo(8);
        assertThat(d.poll(2, reply2).code()).as("answered once only").isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(sorights(d, 2, reply2)).isZero();
    }

    @Test
    void aRightPassedToAThirdKernelIsCountedThere() {
        IpcCluster c = new IpcCluster(3);
        int reply = c.allocate(2);
        int replyRight = rpcTaken(c, reply);
        int inbox3 = c.inbox(3, 1);
        // kernel 1's task passes the reply right on to kernel 3's task
        assertThat(c.send(1, MachMessage.to(IpcCluster.INBOX + 3, MsgType.COPY_SEND, 9)
                .withBody(new MsgItem.Port(replyRight, MsgType.MOVE_SEND_ONCE))).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        int at3 = ((MsgItem.Port) c.take(3, inbox3).body().get(0)).name();
        c.kill(1);
        c.deliverAll();
        assertThat(c.poll(2, reply).code()).as("kernel 1 no longer holds it").isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        c.kill(3);
        c.deliverAll();
        assertThat(c.take(2, reply).id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        assertThat(c.poll(2, reply).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(sorights(c, 2, reply)).isZero();
        assertThat(at3).isNotZero();
    }

    @Test
    void aRightPassedOnAndUsedIsAnsweredOnce() {
        IpcCluster c = new IpcCluster(3);
        int reply = c.allocate(2);
        int replyRight = rpcTaken(c, reply);
        int inbox3 = c.inbox(3, 1);
        assertThat(c.send(1, MachMessage.to(IpcCluster.INBOX + 3, MsgType.COPY_SEND, 9)
                .withBody(new MsgItem.Port(replyRight, MsgType.MOVE_SEND_ONCE))).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        int at3 = ((MsgItem.Port) c.take(3, inbox3).body().get(0)).name();
        assertThat(c.send(3, MachMessage.to(at3, MsgType.MOVE_SEND_ONCE, 8)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        c.kill(1);
        c.kill(3);
        c.deliverAll();
        assertThat(c.take(2, reply).id()).isEqualTo(8);
        assertThat(c.poll(2, reply).code()).as("no SEND_ONCE after the answer").isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(sorights(c, 2, reply)).isZero();
    }
}
