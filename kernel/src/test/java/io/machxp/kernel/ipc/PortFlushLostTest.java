package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A receive right that reaches a kernel which had sent messages to its port through a proxy sends
 * a PortFlush along that proxy's old path and holds other messages until it comes back
 * (docs/mach-ipc.md, "Through a move, too"). If a kernel beyond the first on that path dies with
 * the marker, the first kernel's proxy dies and it says so (PortDied via it): the marker will not
 * come, and what was held goes in - before, it was held for ever, the port's own task's messages
 * and other kernels' alike (those still charged to their senders' budgets, {@link InFlight}).
 * Links delivered by hand ({@link IpcCluster}).
 */
class PortFlushLostTest {
    private static final int NAME = 0x500;

    @Test
    void whatWaitedForAPortFlushLostWithAKernelBeyondTheFirstOnItsPathGoesIn() {
        IpcCluster c = new IpcCluster(5);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME); // kernel 1's proxy points to kernel 2
        int in3 = c.inbox(3, 2);
        int in4 = c.inbox(4, 3);
        int in1 = c.inbox(1, 4);
        c.sendReceiveRight(2, port, 3);
        c.deliverAll();
        int on3 = c.receivedRight(3, in3);
        c.sendReceiveRight(3, on3, 4);
        c.deliverAll();
        int on4 = c.receivedRight(4, in4);
        c.sendReceiveRight(4, on4, 1);
        c.deliver(4, 1); // the receive right at kernel 1, whose old path is 2 -> 3 -> 4 -> 1: a PortFlush to 2
        int here = c.receivedRight(1, in1);
        assertThat(c.core(1).machPortInsertRight(1, here, 1, here, MsgType.MAKE_SEND)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(c.send(1, MachMessage.to(here, MsgType.COPY_SEND, 1)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(c.core(1).machPortInsertRemote(1, here, MsgType.MAKE_SEND, 5, 5, NAME)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliver(1, 5);
        assertThat(c.send(5, MachMessage.to(NAME, MsgType.COPY_SEND, 5)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliver(5, 1);
        assertThat(c.core(1).machPortGetReceiveStatus(1, here).orThrow("status").msgcount())
                .as("both held until the PortFlush is back").isZero();
        c.deliver(1, 2); // the PortFlush reaches kernel 2, which passes it on to kernel 3
        c.kill(3); // with it

        c.deliverAll();
        assertThat(c.core(1).machPortGetReceiveStatus(1, here).orThrow("status").msgcount())
                .as("the marker will not come: what waited for it went in").isEqualTo(2);
        assertThat(c.take(1, here).id()).isEqualTo(1);
        assertThat(c.take(1, here).id()).isEqualTo(5);
        c.deliverAll();
        c.assertAllBack(1, 5);
    }

    /** The same, but the receive right moves on from kernel 1 while the marker is out: what it held is carried on. */
    @Test
    void whatWaitedOnAKernelTheReceiveRightLeftMeanwhileIsCarriedOn() {
        IpcCluster c = new IpcCluster(5);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        int in3 = c.inbox(3, 2);
        int in4 = c.inbox(4, 3);
        int in1 = c.inbox(1, 4);
        int in5 = c.inbox(5, 1);
        c.sendReceiveRight(2, port, 3);
        c.deliverAll();
        c.sendReceiveRight(3, c.receivedRight(3, in3), 4);
        c.deliverAll();
        c.sendReceiveRight(4, c.receivedRight(4, in4), 1);
        c.deliver(4, 1);
        int here = c.receivedRight(1, in1);
        assertThat(c.core(1).machPortInsertRight(1, here, 1, here, MsgType.MAKE_SEND)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(c.send(1, MachMessage.to(here, MsgType.COPY_SEND, 1)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.sendReceiveRight(1, here, 5); // moves on while the PortFlush is out: the message stays held on kernel 1
        c.deliver(1, 2);
        c.kill(3);

        c.deliverAll();
        int on5 = c.receivedRight(5, in5);
        assertThat(c.take(5, on5).id()).as("carried on once the marker was known lost").isEqualTo(1);
        c.deliverAll();
        c.assertAllBack(1, 5);
    }
}
