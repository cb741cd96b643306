package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Review late13 LOW-2: a notify request replaced with MOVE_SEND_ONCE frees the moved right's name
 * before the previous request's right needs one, so at a full task or kernel the call succeeds
 * whoever paid for the freed name; only a payer's share needs the freed name to have counted in
 * it (review late11 LOW-N3, {@code InProcessPayerCasesTest}). Here in-process B's previous
 * request holds its own right and the new one moves in a send-once right client X sent.
 */
class NotifyRequestRoomTest {
    private static final long X = 10;

    private final IpcFixture f = new IpcFixture();
    private int port;
    private int clients;

    /** B holds a receive right with a no-senders request of its own and a send-once right of X's. */
    private void ownRequestAndAClientsRight() {
        f.ipc.spaceCreate(X, "client");
        int inbox = f.allocate(B);
        int to = f.sendRightIn(B, inbox, X);
        int xp = f.allocate(X);
        assertThat(f.send(X, IpcFixture.to(to, 1).withBody(new MsgItem.Port(xp, MsgType.MAKE_SEND_ONCE))).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        clients = ((MsgItem.Port) f.take(B, inbox).body().get(0)).name();
        assertThat(f.ipc.space(B).lookup(clients).chargedTo).isEqualTo("client");
        port = f.allocate(B);
        int own = f.ipc.machPortExtractRight(B, inbox, MsgType.MAKE_SEND_ONCE, B).orThrow("extract").name();
        assertThat(f.ipc.machPortRequestNotification(B, port, Mach.MACH_NOTIFY_NO_SENDERS, 1, own,
                MsgType.MOVE_SEND_ONCE).code()).isEqualTo(KernReturn.KERN_SUCCESS);
    }

    /** Replaces B's request with X's right; the previous right must come back under a name. */
    private void replaceSucceeds() {
        int before = f.ipc.namesInUse();
        IpcResult<Integer> r = f.ipc.machPortRequestNotification(B, port, Mach.MACH_NOTIFY_NO_SENDERS, 1, clients,
                MsgType.MOVE_SEND_ONCE);
        assertThat(r.code()).as("the move frees the client's name; the previous right needs one").isEqualTo(
                KernReturn.KERN_SUCCESS);
        int previous = r.orThrow("request_notification");
        assertThat(f.ipc.space(B).lookup(previous).chargedTo).as("B's own right, B's own name").isNull();
        assertThat(f.ipc.namesInUse()).isEqualTo(before);
        assertThat(f.ipc.space(B).lookup(clients)).as("moved into the request").isNull();
    }

    @Test
    void replacingARequestAtAFullKernelByMovingInAClientsRightSucceeds() {
        f.ipc.limitNames(f.ipc.namesInUse() + 800);
        ownRequestAndAClientsRight();
        while (f.ipc.machPortAllocate(A, PortRight.DEAD_NAME.value).code() == KernReturn.KERN_SUCCESS) {
        }
        assertThat(f.ipc.machPortAllocate(B, PortRight.DEAD_NAME.value).code()).as("the kernel is full")
                .isEqualTo(KernReturn.KERN_RESOURCE_SHORTAGE);
        replaceSucceeds();
    }

    @Test
    void replacingARequestInAFullTaskByMovingInAClientsRightSucceeds() {
        ownRequestAndAClientsRight();
        while (f.ipc.machPortAllocate(B, PortRight.DEAD_NAME.value).code() == KernReturn.KERN_SUCCESS) {
        }
        assertThat(f.ipc.space(B).size()).as("B is full").isEqualTo(IpcSpace.MAX_NAMES);
        replaceSucceeds();
        assertThat(f.ipc.space(B).size()).isEqualTo(IpcSpace.MAX_NAMES);
    }

    @Test
    void cancellingARequestInAFullTaskIsStillNoSpace() {
        ownRequestAndAClientsRight();
        while (f.ipc.machPortAllocate(B, PortRight.DEAD_NAME.value).code() == KernReturn.KERN_SUCCESS) {
        }
        assertThat(f.ipc.machPortRequestNotification(B, port, Mach.MACH_NOTIFY_NO_SENDERS, 1, Mach.MACH_PORT_NULL,
                MsgType.MOVE_SEND_ONCE).code()).as("nothing frees a name").isEqualTo(KernReturn.KERN_NO_SPACE);
    }
    /**
     * Review linkpool LOW-2: B full (65,536 names) and the kernel at its budget; B's previous
     * request right is X's, the new one B's own, moved in. The move makes room in B's bound and the
     * kernel's, but X (holding names) may not take the one name then free (the peers' rule), so the
     * budget refuses: KERN_RESOURCE_SHORTAGE, since B's bound is not what refused it.
     */
    @Test
    void aReplacementTheSharesRefuseInAFullTaskIsResourceShortage() {
        f.ipc.spaceCreate(X, "client");
        int inbox = f.allocate(B);
        int toB = f.sendRightIn(B, inbox, X);
        int xp = f.allocate(X);
        assertThat(f.send(X, IpcFixture.to(toB, 1).withBody(new MsgItem.Port(xp, MsgType.MAKE_SEND_ONCE))).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        int xs = ((MsgItem.Port) f.take(B, inbox).body().get(0)).name();
        int requested = f.allocate(B);
        assertThat(f.ipc.machPortRequestNotification(B, requested, Mach.MACH_NOTIFY_NO_SENDERS, 1, xs,
                MsgType.MOVE_SEND_ONCE).code()).isEqualTo(KernReturn.KERN_SUCCESS);
        int own = f.ipc.machPortExtractRight(B, inbox, MsgType.MAKE_SEND_ONCE, B).orThrow("extract").name();
        f.ipc.limitNames(f.ipc.namesInUse() + (IpcSpace.MAX_NAMES - f.ipc.space(B).size()));
        while (f.ipc.machPortAllocate(B, PortRight.DEAD_NAME.value).code() == KernReturn.KERN_SUCCESS) {
        }
        assertThat(f.ipc.space(B).size()).isEqualTo(IpcSpace.MAX_NAMES);
        assertThat(f.ipc.namesInUse()).isEqualTo(f.ipc.names().max());
        IpcResult<Integer> r = f.ipc.machPortRequestNotification(B, requested, Mach.MACH_NOTIFY_NO_SENDERS, 1, own,
                MsgType.MOVE_SEND_ONCE);
        assertThat(r.code()).isEqualTo(KernReturn.KERN_RESOURCE_SHORTAGE);
        assertThat(f.ipc.space(B).lookup(own)).as("nothing changed").isNotNull();
        assertThat(f.ipc.space(B).size()).isEqualTo(IpcSpace.MAX_NAMES);
    }
}
