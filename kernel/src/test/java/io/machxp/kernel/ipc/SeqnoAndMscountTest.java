package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static io.machxp.kernel.ipc.IpcFixture.to;
import static io.machxp.kernel.ipc.KernReturn.*;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * mach_port_set_seqno and mach_port_set_mscount (GNU Mach manual, "Receive Rights";
 * ipc/mach_port.c): a receive right's sequence number and make-send count take any 32-bit value
 * (unsigned, as GNU's mach_port_seqno_t and mach_port_mscount_t); the errors are those of a name
 * that is not a receive right.
 */
class SeqnoAndMscountTest {
    private final IpcFixture f = new IpcFixture();
    private final int port = f.allocate(B);
    private final int send = f.sendRightIn(B, port, A);

    /** The next message received is stamped with the sequence number set, the one after with the next. */
    @Test
    void setSeqnoStampsTheNextMessage() {
        f.send(A, to(send, 1));
        assertThat(f.take(B, port).seqno()).isZero();
        assertThat(f.ipc.machPortSetSeqno(B, port, 41)).isEqualTo(KERN_SUCCESS);
        assertThat(f.status(B, port).seqno()).isEqualTo(41);
        f.send(A, to(send, 2));
        f.send(A, to(send, 3));
        assertThat(f.take(B, port).seqno()).isEqualTo(41);
        assertThat(f.take(B, port).seqno()).isEqualTo(42);
    }

    /** Every value is valid: the largest unsigned one is followed by 0. */
    @Test
    void seqnoWrapsAsAnUnsignedNumber() {
        f.ipc.machPortSetSeqno(B, port, 0xFFFFFFFF);
        f.send(A, to(send, 1));
        f.send(A, to(send, 2));
        assertThat(f.take(B, port).seqno()).isEqualTo(0xFFFFFFFF);
        assertThat(f.take(B, port).seqno()).isZero();
    }

    /** A member of a set keeps its own sequence number: a receive from the set is stamped with the member's. */
    @Test
    void aMembersSeqnoIsItsOwn() {
        int set = f.allocateSet(B);
        int other = f.allocate(B);
        int toOther = f.sendRightIn(B, other, A);
        f.ipc.machPortMoveMember(B, port, set);
        f.ipc.machPortMoveMember(B, other, set);
        f.ipc.machPortSetSeqno(B, port, 7);
        f.send(A, to(send, 1));
        f.send(A, to(toOther, 2));
        MachMessage first = f.take(B, set);
        assertThat(first.localPort()).isEqualTo(port);
        assertThat(first.seqno()).isEqualTo(7);
        MachMessage second = f.take(B, set);
        assertThat(second.localPort()).isEqualTo(other);
        assertThat(second.seqno()).isZero();
    }

    /** The make-send count set is what MAKE_SEND counts on from, and what no-senders carries. */
    @Test
    void setMscountIsWhatNoSendersCarries() {
        assertThat(f.ipc.machPortSetMscount(B, port, 100)).isEqualTo(KERN_SUCCESS);
        assertThat(f.status(B, port).mscount()).isEqualTo(100);
        int notify = f.allocate(B);
        f.ipc.machPortRequestNotification(B, port, Mach.MACH_NOTIFY_NO_SENDERS, 0, notify, MsgType.MAKE_SEND_ONCE)
                .orThrow("mach_port_request_notification");
        int again = f.sendRightIn(B, port, A);
        assertThat(again).isEqualTo(send);
        assertThat(f.status(B, port).mscount()).isEqualTo(101);
        f.ipc.machPortModRefs(A, send, PortRight.SEND.value, -2);
        MachMessage ns = f.take(B, notify);
        assertThat(ns.id()).isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
        assertThat(ns.intItem(0)).isEqualTo(101);
    }

    /** The sync argument of a no-senders request is compared with mscount as unsigned numbers, as GNU's ipc_port_nsrequest does. */
    @Test
    void noSendersSyncComparesUnsigned() {
        int own = f.allocate(A);
        f.ipc.machPortSetMscount(A, own, 0x80000000);
        int notify = f.allocate(A);
        f.ipc.machPortRequestNotification(A, own, Mach.MACH_NOTIFY_NO_SENDERS, 1, notify, MsgType.MAKE_SEND_ONCE)
                .orThrow("mach_port_request_notification");
        MachMessage ns = f.take(A, notify);
        assertThat(ns.id()).as("mscount 2^31 >= sync 1: at once").isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
        assertThat(ns.intItem(0)).isEqualTo(0x80000000);
    }

    /** Only a receive right's name will do; an unknown task is KERN_INVALID_TASK. */
    @Test
    void errorsAreThoseOfANameThatIsNotAReceiveRight() {
        int set = f.allocateSet(B);
        assertThat(f.ipc.machPortSetSeqno(B, 0x777, 1)).isEqualTo(KERN_INVALID_NAME);
        assertThat(f.ipc.machPortSetSeqno(A, send, 1)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(f.ipc.machPortSetSeqno(B, set, 1)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(f.ipc.machPortSetSeqno(99, port, 1)).isEqualTo(KERN_INVALID_TASK);
        assertThat(f.ipc.machPortSetMscount(B, 0x777, 1)).isEqualTo(KERN_INVALID_NAME);
        assertThat(f.ipc.machPortSetMscount(A, send, 1)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(f.ipc.machPortSetMscount(99, port, 1)).isEqualTo(KERN_INVALID_TASK);
        assertThat(f.status(B, port).seqno()).isZero();
        assertThat(f.status(B, port).mscount()).isEqualTo(1);
    }
}
