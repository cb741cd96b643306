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
    private static final int INBOX = 0x600;

    /** A port of kernel {@code k} to which each of {@code givers} holds a send right, named INBOX + k. */
    private static int inbox(IpcCluster c, int k, int... givers) {
        int in = c.allocate(k);
        for (int g : givers) {
            c.give(k, in, MsgType.MAKE_SEND, g, INBOX + k);
        }
        return in;
    }

    private static void sendReceiveRight(IpcCluster c, int from, int name, int to) {
        assertThat(c.send(from, MachMessage.to(INBOX + to, MsgType.COPY_SEND, 9)
                .withBody(new MsgItem.Port(name, MsgType.MOVE_RECEIVE))).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
    }

    private static int receivedRight(IpcCluster c, int k, int inbox) {
        return ((MsgItem.Port) c.take(k, inbox).body().get(0)).name();
    }

    @Test
    void whatWaitedForAPortFlushLostWithAKernelBeyondTheFirstOnItsPathGoesIn() {
        IpcCluster c = new IpcCluster(5);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME); // kernel 1's proxy points to kernel 2
        int in3 = inbox(c, 3, 2);
        int in4 = inbox(c, 4, 3);
        int in1 = inbox(c, 1, 4);
        sendReceiveRight(c, 2, port, 3);
        c.deliverAll();
        int on3 = receivedRight(c, 3, in3);
        sendReceiveRight(c, 3, on3, 4);
        c.deliverAll();
        int on4 = receivedRight(c, 4, in4);
        sendReceiveRight(c, 4, on4, 1);
        c.deliver(4, 1); // the receive right at kernel 1, whose old path is 2 -> 3 -> 4 -> 1: a PortFlush to 2
        int here = receivedRight(c, 1, in1);
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
        for (int k : new int[] {1, 5}) {
            assertThat(c.core(k).queuedBytes()).as("kernel %d's budget in use", k).isZero();
            assertThat(c.core(k).inFlightMessages()).as("kernel %d's messages not answered", k).isZero();
        }
    }
}
