package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static io.machxp.kernel.ipc.KernReturn.*;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A message whose destination and reply name the same right: the header is copied in atomically
 * (GNU Mach manual, "Atomicity"; ipc/ipc_kmsg.c, ipc_kmsg_copyin_header, "dest_name ==
 * reply_name"). MOVE_SEND with COPY_SEND on one user reference succeeds (a move and a copy of
 * what was moved); two moves need two user references; a move of a send-once right leaves
 * nothing for the other half. GNU checks the reply right first, then answers
 * MACH_SEND_INVALID_DEST for what only the pair cannot do.
 */
class SameNameHeaderTest {
    private final IpcFixture f = new IpcFixture();
    private final int port = f.allocate(B);
    /** A's send right to B's port, one user reference. */
    private final int send = f.sendRightIn(B, port, A);

    private KernReturn send(MsgType dest, int reply, MsgType replyType) {
        return f.send(A, MachMessage.to(send, dest, 1).withReply(reply, replyType)).code();
    }

    /** The manual's own example: MOVE_SEND to the destination and COPY_SEND of the same right, one uref, succeeds. */
    @Test
    void moveSendAndCopySendOfOneUrefSucceed() {
        assertThat(send(MsgType.MOVE_SEND, send, MsgType.COPY_SEND)).isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.ipc.machPortType(A, send).code()).as("the one uref was moved").isEqualTo(KERN_INVALID_NAME);
        MachMessage m = f.take(B, port);
        assertThat(m.remotePort()).as("the reply right joins B's receive right").isEqualTo(port);
        assertThat(m.remoteType()).isEqualTo(MsgType.PORT_SEND);
        assertThat(f.refs(B, port, PortRight.SEND)).isEqualTo(1);
        assertThat(f.status(B, port).srights()).isTrue();
        f.ipc.machPortDeallocate(B, port);
        assertThat(f.status(B, port).srights()).as("the moved right was consumed, the copy counted once").isFalse();
    }

    /** The other order: COPY_SEND to the destination and MOVE_SEND as the reply. */
    @Test
    void copySendAndMoveSendOfOneUrefSucceed() {
        assertThat(send(MsgType.COPY_SEND, send, MsgType.MOVE_SEND)).isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.ipc.machPortType(A, send).code()).isEqualTo(KERN_INVALID_NAME);
        assertThat(f.take(B, port).remotePort()).isEqualTo(port);
    }

    /** Two moves of one right need two urefs; with one the pair fails as a destination error and nothing changes. */
    @Test
    void twoMovesNeedTwoUrefs() {
        assertThat(send(MsgType.MOVE_SEND, send, MsgType.MOVE_SEND)).isEqualTo(MACH_SEND_INVALID_DEST);
        assertThat(f.refs(A, send, PortRight.SEND)).isEqualTo(1);
        assertThat(f.status(B, port).msgcount()).isZero();
        f.ipc.machPortModRefs(A, send, PortRight.SEND.value, 1);
        assertThat(send(MsgType.MOVE_SEND, send, MsgType.MOVE_SEND)).isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.ipc.machPortType(A, send).code()).isEqualTo(KERN_INVALID_NAME);
    }

    /** A send-once right moved as destination and reply at once: MACH_SEND_INVALID_DEST, the right stays. */
    @Test
    void aSendOnceRightCannotBeBothHalves() {
        int once = f.ipc.machPortExtractRight(B, port, MsgType.MAKE_SEND_ONCE, A).orThrow("extract").name();
        assertThat(f.send(A, MachMessage.to(once, MsgType.MOVE_SEND_ONCE, 1).withReply(once, MsgType.MOVE_SEND_ONCE))
                .code()).isEqualTo(MACH_SEND_INVALID_DEST);
        assertThat(f.type(A, once)).isEqualTo(PortRight.SEND_ONCE.typeBit());
        assertThat(f.status(B, port).sorights()).isEqualTo(1);
    }

    /** The reply is checked first: a reply disposition the name cannot give is MACH_SEND_INVALID_REPLY, even if the destination's is wrong too. */
    @Test
    void theReplyIsCheckedFirst() {
        assertThat(send(MsgType.COPY_SEND, send, MsgType.MOVE_SEND_ONCE)).isEqualTo(MACH_SEND_INVALID_REPLY);
        int own = f.allocate(A);
        assertThat(f.send(A, MachMessage.to(own, MsgType.COPY_SEND, 1).withReply(own, MsgType.COPY_SEND)).code())
                .as("no send right under the name: the reply fails first").isEqualTo(MACH_SEND_INVALID_REPLY);
        assertThat(f.refs(A, send, PortRight.SEND)).isEqualTo(1);
    }

    /** A receive right's name gives both halves: MAKE_SEND to itself with a MAKE_SEND_ONCE reply. */
    @Test
    void aReceiveRightsNameMakesBothHalves() {
        int own = f.allocate(A);
        assertThat(f.send(A, MachMessage.to(own, MsgType.MAKE_SEND, 1).withReply(own, MsgType.MAKE_SEND_ONCE)).code())
                .isEqualTo(MACH_MSG_SUCCESS);
        MachMessage m = f.take(A, own);
        assertThat(m.remoteType()).isEqualTo(MsgType.PORT_SEND_ONCE);
        assertThat(f.status(A, own).mscount()).isEqualTo(1);
    }
}
