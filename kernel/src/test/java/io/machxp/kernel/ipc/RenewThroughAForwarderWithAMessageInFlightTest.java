package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Review K1 (ipcchaos): a kernel that knows only that a port's path died (PATH_DIED: its forwarder's
 * way ran through a kernel that renewed its session) answers a message or a RefTransfer for that
 * port with PortDied via itself, a path's death, not the port's own. A plain PortDied made the
 * sender record the port DIED, which outlives renewals: every later right to the port, alive on
 * kernel A, arrived there as a dead name.
 *
 * <p>Port made on X (3); its receive right moved X -> R (1) -> A (2); kernel W (4) holds a send
 * right whose proxy points to X, the forwarder. R renews: X's forwarder dies as a path's death.
 */
class RenewThroughAForwarderWithAMessageInFlightTest {
    private static final int NAME = 0x700;

    private static int onA;

    private static IpcCluster portMovedFromXThroughRToA(int kernels) {
        IpcCluster c = new IpcCluster(kernels); // R = 1, A = 2, X = 3 (origin), W = 4
        int port = c.allocate(3);
        c.give(3, port, MsgType.MAKE_SEND, 4, NAME); // W's proxy points to X
        c.deliverAll();
        int inboxR = c.inbox(1, 3);
        c.sendReceiveRight(3, port, 1);
        c.deliverAll();
        int onR = c.receivedRight(1, inboxR);
        int inboxA = c.inbox(2, 1);
        c.sendReceiveRight(1, onR, 2);
        c.deliverAll();
        onA = c.receivedRight(2, inboxA);
        c.deliverAll();
        return c;
    }

    @Test
    void aMessageThatReachesTheDeadForwarderAfterTheRenewalLeavesThePortAlive() {
        IpcCluster c = portMovedFromXThroughRToA(4);
        assertThat(c.send(4, MachMessage.to(NAME, MsgType.COPY_SEND, 5)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(c.pending(4, 3)).as("W's message on its way to X, the forwarder").isPositive();
        c.renew(1);
        c.deliverAllExcept(4, 3); // X's PortDied via X reaches W first
        c.deliverAll(); // then W's message reaches X, which knows only that the port's path died

        c.give(2, onA, MsgType.MAKE_SEND, 4, NAME + 1);
        assertThat(c.type(4, NAME + 1) & PortRight.SEND.typeBit()).as("the right A gave W is live").isNotZero();
        assertThat(c.send(4, MachMessage.to(NAME + 1, MsgType.COPY_SEND, 6)).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        assertThat(c.take(2, onA).id()).as("W's message reaches the port on A").isEqualTo(6);
    }

    @Test
    void aRightWhoseRefTransferReachesTheDeadForwarderLeavesThePortAlive() {
        IpcCluster c = portMovedFromXThroughRToA(5); // Y = 5
        c.renew(1);
        c.give(4, NAME, MsgType.COPY_SEND, 5, NAME); // before W hears: Y's proxy points to X, RefTransfer to X
        c.deliverAll(); // X answers the RefTransfer: it knows only that the port's path died

        c.give(2, onA, MsgType.MAKE_SEND, 5, NAME + 1);
        assertThat(c.type(5, NAME + 1) & PortRight.SEND.typeBit()).as("the right A gave Y is live").isNotZero();
    }
}
