package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Review N2: a renewal of kernel R kills, at a third kernel X, the proxies whose way ran through R,
 * not the ports behind them. A port made on R whose receive right moved on to kernel A lives on
 * there; a right to it that A sends X after the renewal ({@code receiver_kernel} A) arrives live,
 * although X's old proxy for it (towards R, the forwarder) died with R's earlier session. A right
 * naming R itself for that uid stays dead (docs/mach-ipc.md, "What a renewal means").
 */
class RenewThroughAForwarderTest {
    private static final int NAME = 0x500;

    @Test
    void aPortWhosePathRanThroughTheRenewedKernelArrivesLiveFromWhereItLives() {
        IpcCluster c = new IpcCluster(3); // R = 1, A = 2, X = 3
        int port = c.allocate(1);
        c.give(1, port, MsgType.MAKE_SEND, 3, NAME); // X's proxy points to R
        int inbox = c.inbox(2, 1);
        c.sendReceiveRight(1, port, 2);
        c.deliverAll();
        int onA = c.receivedRight(2, inbox); // the receive right lives on A now; R is a forwarder

        c.renew(1);
        c.deliverAll();
        assertThat(c.type(3, NAME) & PortRight.DEAD_NAME.typeBit()).as("X's old right, through R, died").isNotZero();

        c.give(2, onA, MsgType.MAKE_SEND, 3, NAME + 1);
        assertThat(c.type(3, NAME + 1) & PortRight.SEND.typeBit()).as("the right A gave X is a live send right")
                .isNotZero();
        assertThat(c.send(3, MachMessage.to(NAME + 1, MsgType.COPY_SEND, 7)).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        assertThat(c.take(2, onA).id()).as("X's message reaches the port on A").isEqualTo(7);
    }
}
