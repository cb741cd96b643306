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
 * A live kernel its links declared dead rejoins IPC as its next IPC session (review F3, option a),
 * on real Netty links: kernel 1 declares kernel 2 dead as if nothing had come from it for a lease
 * (a pause of kernel 2). Both sides turn the rights across into dead names, with their dead-name
 * notifications; kernel 2, refused by kernel 1's links as silent, renews its session (kernel 1 does
 * not), and then new rights cross both ways: to kernel 1's port (a new name on kernel 2, the old
 * one stays dead) and to kernel 2's old port, which lived on for its task and reaches kernel 1 as a
 * new port. Waits are on conditions with a deadline, never sleeps.
 */
class RejoinWhileAliveTest {
    private static final long LEASE_MS = 2_000; // probes go out every lease
    private static final int TO_1 = 0x500;
    private static final int TO_2 = 0x501;
    private static final int TO_1_AGAIN = 0x502;
    private static final int TO_2_AGAIN = 0x503;
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

    /** A send right to {@code port} of {@code from}'s task in {@code to}'s task under {@code name}, once it is there. */
    private static void give(LinkedCore from, int port, LinkedCore to, int name) {
        KernReturn inserted = from.call(c -> c.machPortInsertRemote(from.id, port, MsgType.MAKE_SEND, to.id, to.id, name));
        assertThat(inserted).isEqualTo(KernReturn.KERN_SUCCESS);
        await(() -> type(to, name) == PortRight.SEND.typeBit());
    }

    private static CompletableFuture<MsgReturn> deadNameNotification(LinkedCore k, int name, int tid) {
        int notify = allocate(k);
        KernReturn requested = k.call(c -> c.machPortRequestNotification(k.id, name, Mach.MACH_NOTIFY_DEAD_NAME, 0,
                notify, MsgType.MAKE_SEND_ONCE).code());
        assertThat(requested).isEqualTo(KernReturn.KERN_SUCCESS);
        return k.msg(tid, null, Mach.MACH_RCV_MSG, notify);
    }

    /** A message from {@code from}'s task through {@code name} arrives on {@code port} of {@code to}. */
    private static void crosses(LinkedCore from, int name, LinkedCore to, int port, int id) {
        CompletableFuture<MsgReturn> received = to.msg(300 + id, null, Mach.MACH_RCV_MSG, port);
        MsgReturn sent = get(from.msg(400 + id, MachMessage.to(name, MsgType.COPY_SEND, id), Mach.MACH_SEND_MSG, 0));
        assertThat(sent.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(get(received).message().id()).isEqualTo(id);
    }

    @Test
    void aKernelDeclaredDeadWhileAliveRenewsItsSessionAndRightsCrossAgain() {
        int port1 = allocate(k1);
        int port2 = allocate(k2);
        give(k1, port1, k2, TO_1);
        give(k2, port2, k1, TO_2);
        crosses(k2, TO_1, k1, port1, 1);
        CompletableFuture<MsgReturn> deadOn2 = deadNameNotification(k2, TO_1, 201);
        CompletableFuture<MsgReturn> deadOn1 = deadNameNotification(k1, TO_2, 101);

        k1.links.deaths.diedIn(2, 0, "test: nothing heard from it for a lease", true); // as after a pause of kernel 2

        // the old rights are dead on both sides, with their notifications (which stay true)
        MachMessage n2 = get(deadOn2).message();
        assertThat(n2.id()).isEqualTo(Mach.MACH_NOTIFY_DEAD_NAME);
        assertThat(((MsgItem.Port) n2.body().get(0)).name()).isEqualTo(TO_1);
        MachMessage n1 = get(deadOn1).message();
        assertThat(((MsgItem.Port) n1.body().get(0)).name()).isEqualTo(TO_2);

        // kernel 2 renews (it was the silent one), kernel 1 takes it back
        await(() -> k2.links.renewals() == 1 && !k1.links.dead(2) && !k2.links.dead(1));
        assertThat(k1.links.renewals()).as("the kernel that heard nothing does not renew").isZero();
        assertThat(k2.links.session()).isEqualTo(1);

        // rights cross again both ways; the old names stay dead names
        give(k1, port1, k2, TO_1_AGAIN);
        crosses(k2, TO_1_AGAIN, k1, port1, 2);
        give(k2, port2, k1, TO_2_AGAIN);
        crosses(k1, TO_2_AGAIN, k2, port2, 3);
        assertThat(type(k2, TO_1)).isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(type(k1, TO_2)).isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(k1.links.renewals()).isZero();
        assertThat(k2.links.renewals()).isEqualTo(1);
    }
}
