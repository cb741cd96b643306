package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Review N2 at the port's origin (IPC chaos seeds 87, 238, 265): a port made on kernel X whose
 * receive right moved on through kernel R to kernel A leaves X a forwarder towards R. A renewal of
 * R kills that forwarder (its way ran through R), not the port, which lives on A under X's uid of
 * X's current session. A right to it that A gives X after the renewal ({@code receiver_kernel} A)
 * arrives live: the origin's "an own uid I do not know is dead" does not hold for a uid whose path
 * died. A right naming X itself as the receive right's place stays dead.
 */
class RenewThroughTheOriginsForwarderTest {
    private static final int NAME = 0x600;

    @Test
    void anOwnPortWhoseForwarderDiedWithTheRenewedKernelArrivesLiveFromWhereItLives() {
        IpcCluster c = new IpcCluster(3); // R = 1, A = 2, X = 3
        int port = c.allocate(3);
        int inboxR = c.inbox(1, 3);
        c.sendReceiveRight(3, port, 1);
        c.deliverAll();
        int onR = c.receivedRight(1, inboxR); // X's forwarder points to R
        int inboxA = c.inbox(2, 1);
        c.sendReceiveRight(1, onR, 2);
        c.deliverAll();
        int onA = c.receivedRight(2, inboxA); // lives on A; X's forwarder still points to R

        c.renew(1);
        c.deliverAll();

        c.give(2, onA, MsgType.MAKE_SEND, 3, NAME);
        assertThat(c.type(3, NAME) & PortRight.SEND.typeBit()).as("the right A gave X, the port's origin, is live")
                .isNotZero();
        assertThat(c.send(3, MachMessage.to(NAME, MsgType.COPY_SEND, 9)).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        assertThat(c.take(2, onA).id()).as("X's message reaches the port on A").isEqualTo(9);
    }
}
