package io.machxp.kernel.ipc.link;

import static io.machxp.kernel.ipc.link.TwoLinkedKernels.allocate;
import static io.machxp.kernel.ipc.link.TwoLinkedKernels.await;
import static io.machxp.kernel.ipc.link.TwoLinkedKernels.get;
import static io.machxp.kernel.ipc.link.TwoLinkedKernels.type;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgItem;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.PortRight;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A port made on kernel 2 whose receive right moved to kernel 1 keeps its uid (of kernel 2's IPC
 * session 0) and lives on kernel 1 after kernel 2 renewed its session (review F1 of the renewal):
 * a send and a send-once right to it that kernel 1 then sends to kernel 2 arrive as live rights,
 * not dead names; the send-once right's message reaches the port, and once kernel 2 lets go of the
 * send right the port's home (kernel 1) sends no-senders. Real Netty links; waits on conditions.
 */
class RenewedKernelsMovedPortTest {
    private static final long LEASE_MS = 2_000;
    private TwoLinkedKernels kernels;
    private LinkedCore k1;
    private LinkedCore k2;

    @BeforeEach
    void start() throws InterruptedException {
        kernels = new TwoLinkedKernels(LEASE_MS);
        k1 = kernels.k1;
        k2 = kernels.k2;
    }

    @AfterEach
    void stop() {
        kernels.close();
    }

    @Test
    void aPortOfTheEarlierSessionLivingOnAnotherKernelArrivesLive() {
        int inbox = allocate(k1);
        assertThat((KernReturn) k1.call(c -> c.machPortInsertRemote(1, inbox, MsgType.MAKE_SEND, 2, 2, 0x600)))
                .isEqualTo(KernReturn.KERN_SUCCESS);
        await(() -> type(k2, 0x600) == PortRight.SEND.typeBit());
        int made = allocate(k2); // exported below under a uid of kernel 2's session 0
        CompletableFuture<MsgReturn> rcv = k1.msg(301, null, Mach.MACH_RCV_MSG, inbox);
        MsgReturn sent = get(k2.msg(401, MachMessage.to(0x600, MsgType.COPY_SEND, 7)
                .withBody(new MsgItem.Port(made, MsgType.MOVE_RECEIVE)), Mach.MACH_SEND_MSG, 0));
        assertThat(sent.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        int moved = ((MsgItem.Port) get(rcv).message().body().get(0)).name();
        assertThat(type(k1, moved)).isEqualTo(PortRight.RECEIVE.typeBit());

        k1.links.deaths.diedIn(2, 0, "test: nothing heard from it for a lease", true); // kernel 2 renews
        await(() -> k2.links.renewals() == 1 && !k1.links.dead(2) && !k2.links.dead(1));
        assertThat(type(k1, moved)).as("the port lives on kernel 1").isEqualTo(PortRight.RECEIVE.typeBit());

        int noSenders = allocate(k1);
        assertThat((KernReturn) k1.call(c -> c.machPortRequestNotification(1, moved, Mach.MACH_NOTIFY_NO_SENDERS, 0, noSenders,
                MsgType.MAKE_SEND_ONCE).code())).isEqualTo(KernReturn.KERN_SUCCESS);
        int inbox2 = allocate(k2); // a port of kernel 2's new session
        assertThat((KernReturn) k2.call(c -> c.machPortInsertRemote(2, inbox2, MsgType.MAKE_SEND, 1, 1, 0x700)))
                .isEqualTo(KernReturn.KERN_SUCCESS);
        await(() -> type(k1, 0x700) == PortRight.SEND.typeBit());
        CompletableFuture<MsgReturn> rcv2 = k2.msg(302, null, Mach.MACH_RCV_MSG, inbox2);
        MsgReturn sent2 = get(k1.msg(402, MachMessage.to(0x700, MsgType.COPY_SEND, 8)
                .withBody(new MsgItem.Port(moved, MsgType.MAKE_SEND), new MsgItem.Port(moved, MsgType.MAKE_SEND_ONCE)),
                Mach.MACH_SEND_MSG, 0));
        assertThat(sent2.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        MachMessage m = get(rcv2).message();
        int sendName = ((MsgItem.Port) m.body().get(0)).name();
        int onceName = ((MsgItem.Port) m.body().get(1)).name();
        assertThat(type(k2, sendName)).as("a send right to a live port on kernel 1").isEqualTo(PortRight.SEND.typeBit());
        assertThat(type(k2, onceName)).as("a send-once right to it").isEqualTo(PortRight.SEND_ONCE.typeBit());

        // the send-once right's message reaches the port on kernel 1
        CompletableFuture<MsgReturn> onPort = k1.msg(303, null, Mach.MACH_RCV_MSG, moved);
        MsgReturn once = get(k2.msg(403, MachMessage.to(onceName, MsgType.MOVE_SEND_ONCE, 9), Mach.MACH_SEND_MSG, 0));
        assertThat(once.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(get(onPort).message().id()).isEqualTo(9);

        // kernel 2 lets go of its send right: the port's home has no senders left
        CompletableFuture<MsgReturn> notified = k1.msg(304, null, Mach.MACH_RCV_MSG, noSenders);
        assertThat((KernReturn) k2.call(c -> c.machPortDeallocate(2, sendName))).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(get(notified).message().id()).isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
    }
}
