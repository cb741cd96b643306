package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A receive right that reaches a kernel which had sent messages to its port through a proxy sends
 * a PortFlush along that proxy's old path and holds other messages until it comes back
 * (docs/mach-ipc.md, "Through a move, too"). The messages held count against their senders'
 * budgets of queued bytes as queued ones do ({@link Delivery#unhold}): before, they were charged
 * nowhere, and as the port's queue stayed empty no sender ever waited, so a task could queue
 * without bound while the marker was out. Links delivered by hand ({@link IpcCluster}).
 */
class HeldMessagesChargedTest {
    private static final int NAME = 0x500;

    /**
     * Messages held until the PortFlush is back count against their senders' budgets as queued
     * ones do: a task cannot queue without bound on a port whose marker is out (before, held
     * messages were charged nowhere and the port's queue, empty, never made a sender wait).
     */
    @Test
    void heldMessagesCountAgainstTheSendersBudget() {
        IpcCluster c = new IpcCluster(3);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME); // kernel 1's proxy points to kernel 2
        int in3 = c.inbox(3, 2);
        int in1 = c.inbox(1, 3);
        c.sendReceiveRight(2, port, 3);
        c.deliverAll();
        int on3 = c.receivedRight(3, in3);
        c.sendReceiveRight(3, on3, 1);
        c.deliver(3, 1); // the receive right at kernel 1: a PortFlush to kernel 2, not delivered yet
        int here = c.receivedRight(1, in1);
        assertThat(c.core(1).machPortInsertRight(1, here, 1, here, MsgType.MAKE_SEND)).isEqualTo(KernReturn.KERN_SUCCESS);
        long budget = 64 << 10;
        c.core(1).limitQueuedBytes(budget);
        MachMessage filler = MachMessage.to(here, MsgType.MAKE_SEND_ONCE, 1).withBody(new MsgItem.Inline(new byte[4 << 10]));
        int sent = 0;
        while (sent < 100 && c.send(1, filler).code() == KernReturn.MACH_MSG_SUCCESS) {
            sent++;
        }
        assertThat(sent).as("refused at the task's share").isEqualTo((int) (budget / IpcCore.TASK_SHARES / MsgSend.cost(filler)));
        assertThat(c.core(1).queuedBytes()).isEqualTo(sent * MsgSend.cost(filler));

        c.deliverAll(); // the marker comes back: what was held goes in, still charged
        assertThat(c.core(1).machPortGetReceiveStatus(1, here).orThrow("status").msgcount()).isEqualTo(sent);
        assertThat(c.core(1).queuedBytes()).isEqualTo(sent * MsgSend.cost(filler));
        for (int i = 0; i < sent; i++) {
            c.take(1, here);
        }
        assertThat(c.core(1).queuedBytes()).isZero();
    }
}
