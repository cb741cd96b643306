package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * No-senders across kernels when a kernel that passed a send right on dies before its RefTransfer
 * reaches the receive right (its frames in flight are lost, the message carrying the right already
 * arrived): the receiver's half of the registration keeps the port from no-senders while the
 * right lives, and no-senders comes once when it goes. Before the receivers' halves, the right was
 * never registered and its release left the count at -1 for good, so the next right carried
 * there fired no-senders while it was held (IPC chaos seed 445, through a forwarder).
 */
class NoSendersAfterADeathTest {
    private static final int NAME = 0x500;
    private static final int INBOX = 0x600;

    /** Kernel 1's port with a no-senders request; kernel 2 holds a send right; kernel 3 an inbox kernel 2 can send to. */
    private record Setup(IpcCluster c, int port, int notifyPort, int inbox3) {}

    private static Setup setUp() {
        IpcCluster c = new IpcCluster(3);
        int port = c.allocate(1);
        int notify = c.allocate(1);
        c.give(1, port, MsgType.MAKE_SEND, 2, NAME);
        int inbox3 = c.allocate(3);
        c.give(3, inbox3, MsgType.MAKE_SEND, 2, INBOX);
        c.request(1, port, Mach.MACH_NOTIFY_NO_SENDERS, notify);
        assertThat(c.poll(1, notify).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        return new Setup(c, port, notify, inbox3);
    }

    /** Kernel 2 moves its right to kernel 3; the message arrives, then kernel 2 dies with its frames to kernel 1. */
    private static int passOnAndDie(Setup s) {
        IpcCluster c = s.c();
        assertThat(c.send(2, MachMessage.to(INBOX, MsgType.COPY_SEND, 1)
                .withBody(new MsgItem.Port(NAME, MsgType.MOVE_SEND))).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(c.pending(2, 1)).as("kernel 2's RefTransfer and release, not yet in").isEqualTo(2);
        c.deliver(2, 3);
        MachMessage got = c.take(3, s.inbox3());
        int right = ((MsgItem.Port) got.body().get(0)).name();
        assertThat(c.type(3, right)).isEqualTo(PortRight.SEND.typeBit());
        c.deliverAllExcept(2, 1); // kernel 3's half of the registration reaches kernel 1 (a lease is longer than a link)
        c.kill(2);
        return right;
    }

    @Test
    void aRightPassedOnByAKernelThatDiedKeepsThePortFromNoSenders() {
        Setup s = setUp();
        IpcCluster c = s.c();
        int right = passOnAndDie(s);
        assertThat(c.poll(1, s.notifyPort()).code()).as("kernel 3 holds a send right").isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(c.send(3, MachMessage.to(right, MsgType.COPY_SEND, 9)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        assertThat(c.take(1, s.port()).id()).isEqualTo(9);
        assertThat(c.poll(1, s.notifyPort()).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(c.core(3).machPortDeallocate(3, right)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliverAll();
        assertThat(c.take(1, s.notifyPort()).id()).as("its last send right went").isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
    }

    @Test
    void aLaterRightToTheSameKernelIsCountedAgain() {
        Setup s = setUp();
        IpcCluster c = s.c();
        int right = passOnAndDie(s);
        assertThat(c.core(3).machPortDeallocate(3, right)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliverAll();
        assertThat(c.take(1, s.notifyPort()).id()).isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
        assertThat(c.core(1).machPortRequestNotification(1, s.port(), Mach.MACH_NOTIFY_NO_SENDERS, 2, s.notifyPort(),
                MsgType.MAKE_SEND_ONCE).code()).isEqualTo(KernReturn.KERN_SUCCESS);
        c.give(1, s.port(), MsgType.MAKE_SEND, 3, NAME + 1);
        assertThat(c.type(3, NAME + 1)).isEqualTo(PortRight.SEND.typeBit());
        assertThat(c.poll(1, s.notifyPort()).code()).as("kernel 3 holds the new right").isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(c.core(3).machPortDeallocate(3, NAME + 1)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliverAll();
        assertThat(c.take(1, s.notifyPort()).id()).isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
    }

    @Test
    void eachRightIsRegisteredOnceWhicheverHalfComesFirst() {
        Setup s = setUp();
        IpcCluster c = s.c();
        assertThat(c.send(2, MachMessage.to(INBOX, MsgType.COPY_SEND, 1)
                .withBody(new MsgItem.Port(NAME, MsgType.COPY_SEND))).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliver(2, 3);
        int right = ((MsgItem.Port) c.take(3, s.inbox3()).body().get(0)).name();
        c.deliver(3, 1); // the receiver's half first
        c.deliverAll(); // then the sender's: settled, not counted again
        assertThat(c.core(2).machPortDeallocate(2, NAME)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(c.core(3).machPortDeallocate(3, right)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliverAll();
        assertThat(c.take(1, s.notifyPort()).id()).as("not held back by a right counted twice")
                .isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
        assertThat(c.poll(1, s.notifyPort()).code()).as("once").isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
    }

    @Test
    void aRightAForwarderPassedOnBeforeItDiedKeepsThePortFromNoSenders() {
        IpcCluster c = new IpcCluster(3);
        int token = c.allocate(1);
        int notify = c.allocate(1);
        c.request(1, token, Mach.MACH_NOTIFY_NO_SENDERS, notify);
        assertThat(c.take(1, notify).id()).as("no senders yet").isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
        assertThat(c.core(1).machPortRequestNotification(1, token, Mach.MACH_NOTIFY_NO_SENDERS, 1, notify,
                MsgType.MAKE_SEND_ONCE).code()).isEqualTo(KernReturn.KERN_SUCCESS);
        int service = c.allocate(2);
        c.give(2, service, MsgType.MAKE_SEND, 1, NAME);
        int inbox3 = c.allocate(3);
        c.give(3, inbox3, MsgType.MAKE_SEND, 2, INBOX);
        c.send(2, MachMessage.to(INBOX, MsgType.COPY_SEND, 1).withBody(new MsgItem.Port(service, MsgType.MOVE_RECEIVE)));
        c.deliverAll();
        int moved = ((MsgItem.Port) c.take(3, inbox3).body().get(0)).name(); // kernel 2 is now a forwarder
        assertThat(c.send(1, MachMessage.to(NAME, MsgType.COPY_SEND, 2)
                .withBody(new MsgItem.Port(token, MsgType.MAKE_SEND))).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliver(1, 2); // kernel 2 passes it on: the message to kernel 3, its RefTransfer and release to kernel 1
        c.deliver(2, 3);
        c.deliverAllExcept(2, 1);
        c.kill(2);
        MachMessage got = c.take(3, moved);
        assertThat(got.id()).isEqualTo(2);
        int right = ((MsgItem.Port) got.body().get(0)).name();
        assertThat(c.type(3, right)).isEqualTo(PortRight.SEND.typeBit());
        assertThat(c.poll(1, notify).code()).as("kernel 3 holds a send right").isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(c.core(3).machPortDeallocate(3, right)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliverAll();
        assertThat(c.take(1, notify).id()).isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
    }
}
