package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A kernel's death as the links declare it (at once) and as a core processes it (behind the
 * frames queued before): send-once rights are settled by the core's view, in order with the
 * frames, so a right is answered exactly once (review gi F1, F2).
 */
class SendOnceDeathOrderTest {
    /** A reply from kernel 1 already queued at the home when kernel 1 is declared dead: the reply only, no SEND_ONCE. */
    @Test
    void replyQueuedBeforeTheDeathIsAnsweredOnce() {
        IpcCluster c = new IpcCluster(2);
        int reply = c.allocate(2);
        int service = c.allocate(1);
        c.give(1, service, MsgType.MAKE_SEND, 2, 0x500);
        assertThat(c.send(2, MachMessage.to(0x500, MsgType.COPY_SEND, 7).withReply(reply, MsgType.MAKE_SEND_ONCE))
                .code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        int replyRight = c.take(1, service).remotePort();
        assertThat(c.send(1, MachMessage.to(replyRight, MsgType.MOVE_SEND_ONCE, 8)).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.declareDead(1);
        c.deliver(1, 2);         // the reply frame was queued on kernel 2's core before the death
        c.core(2).kernelDied(1); // which kernel 2's core processes after it
        c.runSoon();
        assertThat(c.take(2, reply).id()).isEqualTo(8);
        assertThat(c.poll(2, reply).code()).as("answered once only").isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
    }

    /** A receive right arrives at a kernel that already processed the death of a kernel holding one of its send-once rights. */
    @Test
    void countsOfAKernelAlreadyDeadAtTheNewHomeAreNotified() {
        IpcCluster c = new IpcCluster(3);
        int reply = c.allocate(2);
        int service = c.allocate(1);
        c.give(1, service, MsgType.MAKE_SEND, 2, 0x500);
        assertThat(c.send(2, MachMessage.to(0x500, MsgType.COPY_SEND, 7).withReply(reply, MsgType.MAKE_SEND_ONCE))
                .code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        c.take(1, service); // kernel 1 holds the send-once right, counted at kernel 2 (the home)
        int inbox3 = c.inbox(3, 2);
        c.sendReceiveRight(2, reply, 3); // the migration carries kernel 1's count
        c.declareDead(1);
        c.core(3).kernelDied(1); // kernel 3 hears of the death first
        c.deliver(2, 3);         // then the receive right arrives
        c.core(2).kernelDied(1); // kernel 2 is no longer the home when it hears
        c.deliverAll();
        int at3 = c.receivedRight(3, inbox3);
        IpcFixture.Call got = c.poll(3, at3);
        assertThat(got.code()).as("SEND_ONCE for the right that died with kernel 1")
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(got.message().id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        assertThat(c.poll(3, at3).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
    }
}
