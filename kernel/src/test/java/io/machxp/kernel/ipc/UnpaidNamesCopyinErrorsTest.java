package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.B;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Review late13 LOW-6: the check for unpaid names ({@link UnpaidNames}) answered
 * MACH_SEND_NO_BUFFER for a message copyin would refuse, when the refusal came from the items
 * together (two moves of a name with one user reference, a copy of the right the header moved)
 * or from out-of-line memory. Copyin's error comes first ({@link DryCopyin}). Client X is at its
 * share of the kernel's names; each message also carries MAKE_SEND of X's port {@code p}, a right
 * that would need a name in in-process B counted to X.
 */
class UnpaidNamesCopyinErrorsTest {
    private static final long X = 10;

    private final IpcFixture f = new IpcFixture();
    private int to;
    private int p;
    private int q;
    private int own;

    /**
     * X holds a send right to B's inbox ({@code to}), port {@code p}, port {@code q} with one send
     * right's user reference, and port {@code own}.
     */
    private void clientAtItsShare() {
        f.ipc.limitNames(f.ipc.namesInUse() + 800);
        f.ipc.spaceCreate(X, "client");
        int inbox = f.allocate(B);
        to = f.sendRightIn(B, inbox, X);
        p = f.allocate(X);
        q = f.allocate(X);
        assertThat(f.ipc.machPortInsertRight(X, q, X, q, MsgType.MAKE_SEND)).isEqualTo(KernReturn.KERN_SUCCESS);
        own = f.allocate(X);
        while (f.ipc.machPortAllocate(X, PortRight.DEAD_NAME.value).code() == KernReturn.KERN_SUCCESS) {
        }
    }

    private KernReturn send(MachMessage m) {
        return f.send(X, m).code();
    }

    private static MsgItem unpaid(int port) {
        return new MsgItem.Port(port, MsgType.MAKE_SEND);
    }

    @Test
    void aRegionAlreadyMovedAwayAnswersInvalidMemory() {
        clientAtItsShare();
        OolRegion r = OolRegion.of(new byte[] {1});
        assertThat(send(MachMessage.to(own, MsgType.MAKE_SEND, 1).withBody(new MsgItem.OutOfLine(r, true))))
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(send(IpcFixture.to(to, 2).withBody(unpaid(p), new MsgItem.OutOfLine(r, false))))
                .isEqualTo(KernReturn.MACH_SEND_INVALID_MEMORY);
    }

    @Test
    void aRegionMovedTwiceInOneMessageAnswersInvalidMemory() {
        clientAtItsShare();
        OolRegion r = OolRegion.of(new byte[] {1});
        assertThat(send(IpcFixture.to(to, 1).withBody(unpaid(p), new MsgItem.OutOfLine(r, true),
                new MsgItem.OutOfLine(r, true)))).isEqualTo(KernReturn.MACH_SEND_INVALID_MEMORY);
    }

    @Test
    void twoMovesOfANameWithOneUserReferenceAnswerInvalidRight() {
        clientAtItsShare();
        assertThat(send(IpcFixture.to(to, 1).withBody(unpaid(p), new MsgItem.Port(q, MsgType.MOVE_SEND),
                new MsgItem.Port(q, MsgType.MOVE_SEND)))).isEqualTo(KernReturn.MACH_SEND_INVALID_RIGHT);
    }

    @Test
    void aCopyOfTheRightTheHeaderMovedAnswersInvalidRight() {
        clientAtItsShare();
        assertThat(send(MachMessage.to(to, MsgType.MOVE_SEND, 1).withBody(unpaid(p),
                new MsgItem.Port(to, MsgType.COPY_SEND)))).isEqualTo(KernReturn.MACH_SEND_INVALID_RIGHT);
    }

    /** Items that copyin takes together still meet the check: nothing sent, nothing moved. */
    @Test
    void itemsThatFitTogetherAreStillUnpaid() {
        clientAtItsShare();
        assertThat(f.ipc.machPortModRefs(X, q, PortRight.SEND.value, 1)).isEqualTo(KernReturn.KERN_SUCCESS);
        OolRegion r = OolRegion.of(new byte[] {1});
        assertThat(send(MachMessage.to(to, MsgType.COPY_SEND, 1).withBody(unpaid(p),
                new MsgItem.Port(q, MsgType.MOVE_SEND), new MsgItem.Port(q, MsgType.MOVE_SEND),
                new MsgItem.OutOfLine(r, false), new MsgItem.OutOfLine(r, true),
                new MsgItem.Port(to, MsgType.COPY_SEND)))).isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
        assertThat(f.refs(X, q, PortRight.SEND)).as("nothing happened").isEqualTo(2);
        assertThat(r.deallocated()).isFalse();
    }
}
