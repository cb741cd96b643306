package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Review linkpool LOW-1: mach_msg's payer check ({@link UnpaidNames}) counts the names a message
 * makes in an in-process receiver for its payer together, against what copying it in frees: a
 * message needing more names than its payer has left is MACH_SEND_NO_BUFFER (checked one right at
 * a time, each passed and the receiver lost one with MACH_RCV_BODY_ERROR_IPC_SPACE), and moves
 * that free the payer's name make room for the names the message needs (checked against the
 * original entries, they were refused at the share).
 */
class PayerNamesTogetherTest {
    private static final Object CLIENT = "client";
    private static final long X = 10;

    private final IpcFixture f = new IpcFixture();
    private int inbox;
    private int to;
    private int p;
    private int q;
    private int lastDead;

    /**
     * Client X holds a send right to B's inbox ({@code to}), a receive right {@code p}, and a send
     * right {@code q} (one user reference) to a port of A's; then it fills its share with dead names.
     */
    private void clientAtItsShare() {
        f.ipc.limitNames(f.ipc.namesInUse() + 800);
        f.ipc.spaceCreate(X, CLIENT);
        inbox = f.allocate(B);
        to = f.sendRightIn(B, inbox, X);
        p = f.allocate(X);
        q = f.sendRightIn(A, f.allocate(A), X);
        IpcResult<Integer> r;
        while ((r = f.ipc.machPortAllocate(X, PortRight.DEAD_NAME.value)).code() == KernReturn.KERN_SUCCESS) {
            lastDead = r.orThrow("dead");
        }
        assertThat(f.ipc.names().exhausted(CLIENT)).isTrue();
    }

    /** As {@link #clientAtItsShare}, with exactly one name left to X. */
    private void clientWithOneNameLeft() {
        clientAtItsShare();
        assertThat(f.ipc.machPortDeallocate(X, lastDead)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(f.ipc.names().exhausted(CLIENT)).isFalse();
    }

    private KernReturn send(MachMessage m) {
        return f.send(X, m).code();
    }

    private static MsgItem.Port right(int name, MsgType d) {
        return new MsgItem.Port(name, d);
    }

    @Test
    void aMessageNeedingTwoNamesWhenThePayerHasOneLeftIsNoBufferAndChangesNothing() {
        clientWithOneNameLeft();
        int used = f.ipc.namesInUse();
        int xs = f.ipc.namesOfPeerOf(CLIENT);
        assertThat(send(IpcFixture.to(to, 1).withBody(right(p, MsgType.MAKE_SEND_ONCE), right(p, MsgType.MAKE_SEND_ONCE))))
                .isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
        assertThat(f.poll(B, inbox).code()).as("nothing was queued").isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(f.ipc.namesInUse()).isEqualTo(used);
        assertThat(f.ipc.namesOfPeerOf(CLIENT)).as("the check gave back what it took").isEqualTo(xs);
        assertThat(f.ipc.names().exhausted(CLIENT)).isFalse();
    }

    @Test
    void aMessageNeedingOneNameWhenThePayerHasOneLeftIsReceivedWhole() {
        clientWithOneNameLeft();
        assertThat(send(IpcFixture.to(to, 1).withBody(right(p, MsgType.MAKE_SEND_ONCE)))).isEqualTo(
                KernReturn.MACH_MSG_SUCCESS);
        assertThat(f.poll(B, inbox).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
    }

    @Test
    void twoMovesThatFreeThePayersNameAreAcceptedAtTheShare() {
        clientAtItsShare();
        assertThat(f.ipc.machPortModRefs(X, q, PortRight.SEND.value, 1)).isEqualTo(KernReturn.KERN_SUCCESS);
        int xs = f.ipc.namesOfPeerOf(CLIENT);
        assertThat(send(IpcFixture.to(to, 1).withBody(right(q, MsgType.MOVE_SEND), right(q, MsgType.MOVE_SEND))))
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(f.ipc.namesOfPeerOf(CLIENT)).isEqualTo(xs - 1);
        IpcFixture.Call got = f.poll(B, inbox);
        assertThat(got.code()).as("one name in B for both rights, X's").isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        int name = ((MsgItem.Port) got.message().body().get(0)).name();
        assertThat(((MsgItem.Port) got.message().body().get(1)).name()).isEqualTo(name);
        assertThat(f.refs(B, name, PortRight.SEND)).isEqualTo(2);
        assertThat(f.ipc.namesOfPeerOf(CLIENT)).isEqualTo(xs);
    }

    @Test
    void theHeadersMoveOfTheLastReferencePaysForABodyRightAtTheShare() {
        clientAtItsShare();
        MachMessage m = MachMessage.to(to, MsgType.MOVE_SEND, 1).withBody(right(p, MsgType.MAKE_SEND_ONCE));
        assertThat(send(m)).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(f.poll(B, inbox).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
    }

    @Test
    void aReceiveRightMovedAfterItsNamesLastSendReferenceNeedsTheNameItFreesAtTheShare() {
        clientAtItsShare();
        assertThat(f.ipc.machPortInsertRight(X, p, X, p, MsgType.MAKE_SEND)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(send(IpcFixture.to(to, 1).withBody(right(p, MsgType.MOVE_SEND), right(p, MsgType.MOVE_RECEIVE))))
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        IpcFixture.Call got = f.poll(B, inbox);
        assertThat(got.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        int name = ((MsgItem.Port) got.message().body().get(0)).name();
        assertThat(((MsgItem.Port) got.message().body().get(1)).name()).as("send and receive: one name").isEqualTo(name);
    }

    @Test
    void aCopyAndAMoveOfTheLastReferenceNeedOneNameAtTheShare() {
        clientAtItsShare();
        assertThat(send(IpcFixture.to(to, 1).withBody(right(q, MsgType.COPY_SEND), right(q, MsgType.MOVE_SEND))))
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(f.poll(B, inbox).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
    }

    @Test
    void aMoveThatFreesTheNameStillPaysForOnlyOneMoreName() {
        clientAtItsShare();
        MachMessage m = IpcFixture.to(to, 1).withBody(right(q, MsgType.MOVE_SEND), right(p, MsgType.MAKE_SEND_ONCE));
        assertThat(send(m)).as("q's name pays for the send right's name, nothing for the send-once right's")
                .isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
        assertThat(f.ipc.space(X).lookup(q)).as("nothing copied in").isNotNull();
    }
    @Test
    void anInProcessTaskMovingAClientsRightToItselfAtTheShareNeedsOnlyTheNameItFrees() {
        clientAtItsShare();
        assertThat(f.ipc.machPortDeallocate(X, lastDead)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(send(IpcFixture.to(to, 1).withBody(right(p, MsgType.MAKE_SEND), right(p, MsgType.MAKE_SEND))))
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        int xs = ((MsgItem.Port) f.take(B, inbox).body().get(0)).name();
        assertThat(f.refs(B, xs, PortRight.SEND)).isEqualTo(2);
        assertThat(f.ipc.names().exhausted(CLIENT)).as("X's last name went to B's").isTrue();
        MachMessage toItself = MachMessage.to(inbox, MsgType.MAKE_SEND, 2)
                .withBody(right(xs, MsgType.MOVE_SEND), right(xs, MsgType.MOVE_SEND));
        assertThat(f.send(B, toItself).code()).as("the second move frees X's name in B the rights come back to")
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        MachMessage got = f.take(B, inbox);
        int back = ((MsgItem.Port) got.body().get(0)).name();
        assertThat(f.ipc.space(B).lookup(back).chargedTo).isEqualTo(CLIENT);
        assertThat(f.refs(B, back, PortRight.SEND)).isEqualTo(2);
    }
}
