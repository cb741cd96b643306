package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Who pays for names made in in-process tasks, in the cases review late11 found: a copy an
 * in-process task makes of a client's right is its own (MED-N1); rights from another kernel have
 * a share of their own, not taken from the clients' pool (MED-N2); a notify request's previous
 * right comes back only if its own payer has room (LOW-N3); an invalid body right answers
 * MACH_SEND_INVALID_RIGHT before an unpaid one's MACH_SEND_NO_BUFFER (LOW-N4).
 */
class InProcessPayerCasesTest {
    private static final Object CLIENT = "client";
    private static final long X = 10;

    private final IpcFixture f = new IpcFixture();

    /** X (the client) fills its share with dead names. */
    private void fillClientsShare() {
        while (f.ipc.machPortAllocate(X, PortRight.DEAD_NAME.value).code() == KernReturn.KERN_SUCCESS) {
        }
    }

    /** A send right of X's that in-process B holds (charged to the client). */
    private int clientsRightAtB(int inbox) {
        int p = f.allocate(X);
        int to = f.sendRightIn(B, inbox, X);
        assertThat(f.send(X, IpcFixture.to(to, 1).withBody(new MsgItem.Port(p, MsgType.MAKE_SEND))).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        return ((MsgItem.Port) f.take(B, inbox).body().get(0)).name();
    }

    @Test
    void anInProcessTasksCopyOfAClientsRightIsItsOwn() {
        f.ipc.limitNames(f.ipc.namesInUse() + 800);
        f.ipc.spaceCreate(X, CLIENT);
        int inbox = f.allocate(B);
        int held = clientsRightAtB(inbox);
        fillClientsShare();
        int atShare = f.ipc.namesOfPeerOf(CLIENT);
        int aInbox = f.allocate(A);
        int toA = f.sendRightIn(A, aInbox, B);
        assertThat(f.send(B, IpcFixture.to(toA, 2).withBody(new MsgItem.Port(held, MsgType.COPY_SEND))).code())
                .as("a name server's reply carrying a client's right").isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        MachMessage got = f.take(A, aInbox);
        assertThat(got.id()).isEqualTo(2);
        int copy = ((MsgItem.Port) got.body().get(0)).name();
        assertThat(f.ipc.space(A).lookup(copy).chargedTo).as("the copy is A's own: the reserve's").isNull();
        assertThat(f.ipc.namesOfPeerOf(CLIENT)).isEqualTo(atShare);
    }

    @Test
    void rightsFromAnotherKernelDoNotNeedTheClientsPool() {
        IpcCluster c = new IpcCluster(2);
        c.core(2).limitNames(c.core(2).namesInUse() + 800);
        int inbox = c.allocate(2);
        c.give(2, inbox, MsgType.MAKE_SEND, 1, 0x500);
        int p = c.allocate(1);
        for (int i = 0; i < 40; i++) {
            c.core(2).spaceCreate(1000 + i, "peer " + i);
            while (c.core(2).machPortAllocate(1000 + i, PortRight.DEAD_NAME.value).code() == KernReturn.KERN_SUCCESS) {
            }
        }
        NameBudget names = c.core(2).names();
        assertThat(names.remoteUsed()).as("clients used up the pool").isEqualTo(names.pool());
        assertThat(c.send(1, IpcFixture.to(0x500, 9).withBody(new MsgItem.Port(p, MsgType.MAKE_SEND_ONCE))).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        assertThat(c.poll(2, inbox).code()).as("in-process kernel 1 -> in-process kernel 2").isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(c.core(2).namesOfPeerOf(new LinkedKernel(1))).isEqualTo(1);
        assertThat(names.linkedUsed()).isEqualTo(1);
        assertThat(names.remoteUsed()).as("not in the clients' pool").isEqualTo(names.pool());
    }

    @Test
    void aNotifyRequestsPreviousRightNeedsRoomInItsPayersShare() {
        f.ipc.limitNames(f.ipc.namesInUse() + 800);
        f.ipc.spaceCreate(X, CLIENT);
        int inbox = f.allocate(B);
        int to = f.sendRightIn(B, inbox, X);
        int xp = f.allocate(X);
        assertThat(f.send(X, IpcFixture.to(to, 1).withBody(new MsgItem.Port(xp, MsgType.MAKE_SEND_ONCE))).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        int clients = ((MsgItem.Port) f.take(B, inbox).body().get(0)).name();
        int port = f.allocate(B);
        assertThat(f.ipc.machPortRequestNotification(B, port, Mach.MACH_NOTIFY_NO_SENDERS, 1, clients,
                MsgType.MOVE_SEND_ONCE).code()).isEqualTo(KernReturn.KERN_SUCCESS);
        fillClientsShare();
        int atShare = f.ipc.namesOfPeerOf(CLIENT);
        int own = f.ipc.machPortExtractRight(B, inbox, MsgType.MAKE_SEND_ONCE, B).orThrow("extract").name();
        assertThat(f.ipc.machPortRequestNotification(B, port, Mach.MACH_NOTIFY_NO_SENDERS, 1, own,
                MsgType.MOVE_SEND_ONCE).code()).as("the client's previous right has no room").isEqualTo(KernReturn.KERN_RESOURCE_SHORTAGE);
        assertThat(f.ipc.namesOfPeerOf(CLIENT)).isEqualTo(atShare);
        assertThat(f.type(B, own)).as("nothing done").isNotZero();
    }

    @Test
    void anInvalidBodyRightAnswersBeforeAnUnpaidOne() {
        f.ipc.limitNames(f.ipc.namesInUse() + 800);
        f.ipc.spaceCreate(X, CLIENT);
        int inbox = f.allocate(B);
        int to = f.sendRightIn(B, inbox, X);
        int p = f.allocate(X);
        fillClientsShare();
        assertThat(f.send(X, IpcFixture.to(to, 1).withBody(new MsgItem.Port(p, MsgType.MAKE_SEND))).code())
                .as("unpaid alone").isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
        assertThat(f.send(X, IpcFixture.to(to, 2).withBody(new MsgItem.Port(p, MsgType.MAKE_SEND),
                new MsgItem.Port(0x7777, MsgType.COPY_SEND))).code()).isEqualTo(KernReturn.MACH_SEND_INVALID_RIGHT);
    }
}
