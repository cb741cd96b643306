package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static io.machxp.kernel.ipc.IpcFixture.to;
import static io.machxp.kernel.ipc.KernReturn.*;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A dead-name request on a name holding a receive right, which GNU Mach accepts (ipc/ipc_right.c,
 * ipc_right_dnrequest: any port right; the manual: "a send, send-once or receive right"): the
 * request belongs to the name. If the name goes with the receive right (destroyed, or moved away
 * from a receive-only name) the request ends in PORT_DELETED; if the name keeps a send right when
 * the port dies, the request fires DEAD_NAME once and the dead name gets one more user reference.
 */
class DeadNameOnReceiveRightTest {
    private final IpcFixture f = new IpcFixture();
    private final int port = f.allocate(A);
    private final int notify = f.allocate(A);

    private IpcResult<Integer> request(int name) {
        return f.ipc.machPortRequestNotification(A, name, Mach.MACH_NOTIFY_DEAD_NAME, 0, notify, MsgType.MAKE_SEND_ONCE);
    }

    /** Receive-only: the request is taken; destroying the receive right frees the name, so PORT_DELETED comes, not DEAD_NAME. */
    @Test
    void destroyingAReceiveOnlyNameSendsPortDeleted() {
        assertThat(request(port).value()).isEqualTo(Mach.MACH_PORT_NULL);
        assertThat(f.type(A, port)).isEqualTo(PortRight.RECEIVE.typeBit() | Mach.MACH_PORT_TYPE_DNREQUEST);
        assertThat(f.ipc.machPortDestroy(A, port)).isEqualTo(KERN_SUCCESS);
        MachMessage n = f.take(A, notify);
        assertThat(n.id()).isEqualTo(Mach.MACH_NOTIFY_PORT_DELETED);
        assertThat(n.body()).containsExactly(new MsgItem.Port(port, MsgType.PORT_NAME));
        assertThat(f.poll(A, notify).code()).as("once").isEqualTo(MACH_RCV_TIMED_OUT);
    }

    /** Receive-only, moved away in a message: the name goes, PORT_DELETED. */
    @Test
    void movingAReceiveOnlyRightAwaySendsPortDeleted() {
        request(port);
        int bPort = f.allocate(B);
        int toB = f.sendRightIn(B, bPort, A);
        f.send(A, to(toB, 1).withBody(new MsgItem.Port(port, MsgType.MOVE_RECEIVE)));
        assertThat(f.take(A, notify).id()).isEqualTo(Mach.MACH_NOTIFY_PORT_DELETED);
    }

    /** Send and receive under the name: mod_refs(RECEIVE, -1) kills the port, the send right becomes a dead name with one more uref, DEAD_NAME once. */
    @Test
    void theSendRightLeftBehindBecomesADeadNameWithTheNotification() {
        f.ipc.machPortInsertRight(A, port, A, port, MsgType.MAKE_SEND);
        f.ipc.machPortModRefs(A, port, PortRight.SEND.value, 2);
        assertThat(request(port).code()).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortModRefs(A, port, PortRight.RECEIVE.value, -1)).isEqualTo(KERN_SUCCESS);
        MachMessage n = f.take(A, notify);
        assertThat(n.id()).isEqualTo(Mach.MACH_NOTIFY_DEAD_NAME);
        assertThat(n.body()).containsExactly(new MsgItem.Port(port, MsgType.PORT_NAME));
        assertThat(f.poll(A, notify).code()).as("once").isEqualTo(MACH_RCV_TIMED_OUT);
        assertThat(f.type(A, port)).isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(f.refs(A, port, PortRight.DEAD_NAME)).isEqualTo(4);
    }

    /** Send and receive under the name, the receive right moved to B: the request stays with the send right and fires when B destroys the port. */
    @Test
    void theRequestStaysWithTheSendRightWhenTheReceiveRightMoves() {
        f.ipc.machPortInsertRight(A, port, A, port, MsgType.MAKE_SEND);
        request(port);
        int moved = f.ipc.machPortExtractRight(A, port, MsgType.MOVE_RECEIVE, B).orThrow("extract").name();
        assertThat(f.type(A, port)).isEqualTo(PortRight.SEND.typeBit() | Mach.MACH_PORT_TYPE_DNREQUEST);
        assertThat(f.poll(A, notify).code()).as("nothing yet").isEqualTo(MACH_RCV_TIMED_OUT);
        f.ipc.machPortDestroy(B, moved);
        assertThat(f.take(A, notify).id()).isEqualTo(Mach.MACH_NOTIFY_DEAD_NAME);
        assertThat(f.refs(A, port, PortRight.DEAD_NAME)).isEqualTo(2);
    }

    /** The same across kernels: the receive right moved to another kernel and destroyed there, the send right left here gets DEAD_NAME. */
    @Test
    void theRequestFiresWhenTheReceiveRightDiesOnAnotherKernel() {
        IpcCluster c = new IpcCluster(2);
        int in2 = c.inbox(2, 1);
        int p = c.allocate(1);
        assertThat(c.core(1).machPortInsertRight(1, p, 1, p, MsgType.MAKE_SEND)).isEqualTo(KERN_SUCCESS);
        int n = c.allocate(1);
        c.request(1, p, Mach.MACH_NOTIFY_DEAD_NAME, n);
        c.sendReceiveRight(1, p, 2);
        c.deliverAll();
        int moved = c.receivedRight(2, in2);
        assertThat(c.poll(1, n).code()).as("the port lives on kernel 2").isEqualTo(MACH_RCV_TIMED_OUT);
        assertThat(c.core(2).machPortDestroy(2, moved)).isEqualTo(KERN_SUCCESS);
        c.deliverAll();
        MachMessage dn = c.take(1, n);
        assertThat(dn.id()).isEqualTo(Mach.MACH_NOTIFY_DEAD_NAME);
        assertThat(dn.body()).containsExactly(new MsgItem.Port(p, MsgType.PORT_NAME));
        assertThat(c.type(1, p)).isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(c.poll(1, n).code()).as("once").isEqualTo(MACH_RCV_TIMED_OUT);
    }

    /** A port set's name still takes no dead-name request. */
    @Test
    void aSetsNameIsStillRefused() {
        assertThat(request(f.allocateSet(A)).code()).isEqualTo(KERN_INVALID_RIGHT);
    }
}
