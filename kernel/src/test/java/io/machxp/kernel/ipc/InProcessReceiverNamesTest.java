package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Review late4 B2: a name counted to the owner of the task it is made in, so the names an
 * in-process task (no owner, as the fixture's A and B) made for rights a client sent it counted
 * to nobody: one client filled the reserve of in-process tasks, and then the pool, through an
 * in-process receiver that keeps what it receives. Now such a name counts to the right's payer
 * ({@link Carried#payer}, the sending client) until it is freed, whichever way, and a send whose
 * names its payer cannot pay for is MACH_SEND_NO_BUFFER ({@link UnpaidNames}).
 */
class InProcessReceiverNamesTest {
    private final IpcFixture f = new IpcFixture();
    private static final Object ATTACKER = "connection 1";
    private static final long X = 10;

    /** A request of {@code n} send-once rights made from the client's port {@code p}, to {@code to}. */
    private static MachMessage sendOnceRights(int to, int p, int n) {
        MsgItem[] items = new MsgItem[n];
        for (int i = 0; i < n; i++) {
            items[i] = new MsgItem.Port(p, MsgType.MAKE_SEND_ONCE);
        }
        return IpcFixture.to(to, 1).withBody(items);
    }

    /** The reviewer's probe: 20 messages of 500 send-once rights, kept by an in-process receiver. */
    @Test
    void aClientCannotFillTheReserveThroughAnInProcessReceiver() {
        int max = f.ipc.namesInUse() + 8_000;
        f.ipc.limitNames(max);
        int reserve = max / NameBudget.RESERVE_SHARES;
        int share = (max - reserve) / NameBudget.PEER_SHARES;
        f.ipc.spaceCreate(X, ATTACKER);
        int p = f.allocate(X);
        int inbox = f.allocate(B);
        int to = f.sendRightIn(B, inbox, X);
        List<KernReturn> sends = new ArrayList<>();
        for (int n = 0; n < 20; n++) {
            KernReturn sent = f.send(X, sendOnceRights(to, p, 500)).code();
            sends.add(sent);
            if (sent == KernReturn.MACH_MSG_SUCCESS) {
                assertThat(f.poll(B, inbox).code()).as("a message its payer's share cannot hold is refused whole")
                        .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            }
        }
        assertThat(f.ipc.machPortAllocate(B, PortRight.RECEIVE.value).code()).as("the in-process receiver allocates")
                .isEqualTo(KernReturn.KERN_SUCCESS);
        // the client's two names and one message's 500: a second message's 500 do not fit in its share
        // (review linkpool LOW-1: counted one right at a time, it passed and filled the share, the rest destroyed)
        assertThat(share).isLessThan(2 + 2 * 500);
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).as("the names made for its rights count to the client").isEqualTo(
                2 + 500);
        assertThat(sends).as("once its share is used, its requests are refused").contains(KernReturn.MACH_SEND_NO_BUFFER);
        int made = 1;
        while (made < reserve && f.ipc.machPortAllocate(made % 2 == 0 ? A : B, PortRight.DEAD_NAME.value).code()
                == KernReturn.KERN_SUCCESS) {
            made++;
        }
        assertThat(made).as("in-process tasks hold the reserve together").isEqualTo(reserve);
    }

    /** Every way a name goes gives its charge back to the client; moved on to another in-process task, it stays the client's. */
    @Test
    void theNamesCountToTheClientUntilFreedEveryWay() {
        f.ipc.spaceCreate(X, ATTACKER);
        int p = f.allocate(X);
        int inbox = f.allocate(B);
        int to = f.sendRightIn(B, inbox, X);
        int own = f.ipc.namesOfPeerOf(ATTACKER);
        assertThat(f.send(X, sendOnceRights(to, p, 8).withReply(p, MsgType.MAKE_SEND_ONCE)).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        MachMessage got = f.take(B, inbox);
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).as("8 body rights and the reply").isEqualTo(own + 9);
        int[] so = got.body().stream().mapToInt(i -> ((MsgItem.Port) i).name()).toArray();

        assertThat(f.ipc.machPortDeallocate(B, so[0])).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).as("deallocated").isEqualTo(own + 8);
        assertThat(f.ipc.machPortDestroy(B, so[1])).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).as("destroyed").isEqualTo(own + 7);
        assertThat(f.send(B, MachMessage.to(got.remotePort(), MsgType.MOVE_SEND_ONCE, 2)).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).as("the reply right used").isEqualTo(own + 6);
        assertThat(f.ipc.machPortRename(B, so[2], 0x7777)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).as("renamed").isEqualTo(own + 6);

        int aInbox = f.allocate(A);
        int toA = f.sendRightIn(A, aInbox, B);
        assertThat(f.send(B, IpcFixture.to(toA, 3).withBody(new MsgItem.Port(so[3], MsgType.MOVE_SEND_ONCE))).code())
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).as("in transit: no name").isEqualTo(own + 5);
        int inA = ((MsgItem.Port) f.take(A, aInbox).body().get(0)).name();
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).as("passed on by an in-process task: still the client's")
                .isEqualTo(own + 6);
        assertThat(f.ipc.machPortDeallocate(A, inA)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).isEqualTo(own + 5);

        assertThat(f.ipc.machPortDestroy(X, p)).isEqualTo(KernReturn.KERN_SUCCESS);
        int ownNow = own - 1;
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).as("the port died: dead names still count").isEqualTo(ownNow + 5);
        assertThat(f.type(B, so[4])).isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(f.ipc.machPortDeallocate(B, so[4])).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).as("a dead name deallocated").isEqualTo(ownNow + 4);

        f.ipc.spaceDestroy(B);
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).as("the receiver's end").isEqualTo(ownNow);
    }

    /**
     * A message queued before its client's share ran out: the receiver gets it as into a full
     * space (the reply right destroyed: MACH_RCV_HEADER_ERROR|IPC_SPACE); later ones are refused
     * at the send. A message without rights needing names still goes, and so does one moving a
     * right out of its last name.
     */
    @Test
    void aClientAtItsShareIsRefusedAndTheReceiverSeesAFullSpaceForWhatWasQueued() {
        int max = f.ipc.namesInUse() + 800;
        f.ipc.limitNames(max);
        f.ipc.spaceCreate(X, ATTACKER);
        int p = f.allocate(X);
        int inbox = f.allocate(B);
        int to = f.sendRightIn(B, inbox, X);
        while (f.ipc.machPortAllocate(X, PortRight.DEAD_NAME.value).code() == KernReturn.KERN_SUCCESS) {
            // the client's own task takes its share
        }
        int[] names = f.ipc.machPortNames(X).orThrow("mach_port_names").names();
        int last = names[names.length - 1];
        assertThat(f.ipc.machPortDeallocate(X, last)).isEqualTo(KernReturn.KERN_SUCCESS); // room for one
        MachMessage request = IpcFixture.to(to, 5).withReply(p, MsgType.MAKE_SEND_ONCE);
        assertThat(f.send(X, request).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(f.send(X, request).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(f.poll(B, inbox).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(f.poll(B, inbox).code()).as("its share ran out while it was queued")
                .isEqualTo(KernReturn.MACH_RCV_HEADER_ERROR_IPC_SPACE);
        assertThat(f.send(X, request).code()).isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
        assertThat(f.send(X, IpcFixture.to(to, 6)).code()).as("no name needed").isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(f.ipc.machPortExtractRight(B, inbox, MsgType.MAKE_SEND_ONCE, X).code())
                .as("no name for a send-once right in the client's own task at its share").isEqualTo(KernReturn.KERN_RESOURCE_SHORTAGE);
        assertThat(f.ipc.machPortDeallocate(X, names[names.length - 2])).isEqualTo(KernReturn.KERN_SUCCESS);
        int own = f.ipc.machPortExtractRight(B, inbox, MsgType.MAKE_SEND_ONCE, X).orThrow("extract").name();
        assertThat(f.send(X, IpcFixture.to(to, 7).withBody(new MsgItem.Port(own, MsgType.MOVE_SEND_ONCE))).code())
                .as("a right moved out of its last name costs the client nothing more").isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(f.take(B, inbox).id()).isEqualTo(6);
        assertThat(f.take(B, inbox).id()).isEqualTo(7);
        assertThat(f.ipc.machPortAllocate(B, PortRight.RECEIVE.value).code()).isEqualTo(KernReturn.KERN_SUCCESS);
    }

    /**
     * Rights another kernel's link brings count to that kernel ({@link LinkedKernel}): the link does
     * not carry its sender's owner, so a client of kernel 1 fills no more than kernel 1's share of
     * kernel 2's names (a share of the reserve) through an in-process receiver there.
     */
    @Test
    void rightsFromAnotherKernelCountToThatKernel() {
        IpcCluster c = new IpcCluster(2);
        int max = c.core(2).namesInUse() + 800;
        c.core(2).limitNames(max);
        int share = c.core(2).names().linkMax(); // a share of the reserve, not of the clients' pool
        int inbox = c.allocate(2);
        c.give(2, inbox, MsgType.MAKE_SEND, 1, 0x500);
        int p = c.allocate(1);
        Object kernel1 = new LinkedKernel(1);
        KernReturn last = KernReturn.MACH_MSG_SUCCESS;
        for (int n = 0; n < 10; n++) {
            assertThat(c.send(1, sendOnceRights(0x500, p, 20)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            c.deliverAll();
            last = c.poll(2, inbox).code();
        }
        assertThat(c.core(2).namesOfPeerOf(kernel1)).isEqualTo(share);
        assertThat(last).as("beyond kernel 1's share, as into a full space").isEqualTo(KernReturn.MACH_RCV_BODY_ERROR_IPC_SPACE);
        assertThat(c.core(2).machPortAllocate(2, PortRight.DEAD_NAME.value).code()).isEqualTo(KernReturn.KERN_SUCCESS);
        c.core(2).spaceDestroy(2);
        assertThat(c.core(2).namesOfPeerOf(kernel1)).as("given back at the receiver's end").isZero();
    }

    /** A receive right a client's port-destroyed request sends to an in-process backup counts to the client. */
    @Test
    void aPortDestroyedRequestsReceiveRightCountsToItsRequester() {
        f.ipc.spaceCreate(X, ATTACKER);
        int p = f.allocate(X);
        int backup = f.allocate(B);
        int so = f.ipc.machPortExtractRight(B, backup, MsgType.MAKE_SEND_ONCE, X).orThrow("extract").name();
        assertThat(f.ipc.machPortRequestNotification(X, p, Mach.MACH_NOTIFY_PORT_DESTROYED, 0, so,
                MsgType.MOVE_SEND_ONCE).code()).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).isEqualTo(1);
        assertThat(f.ipc.machPortDestroy(X, p)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).isZero();
        MachMessage n = f.take(B, backup);
        assertThat(n.id()).isEqualTo(Mach.MACH_NOTIFY_PORT_DESTROYED);
        int right = ((MsgItem.Port) n.body().get(0)).name();
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).as("the receive right's name at the backup").isEqualTo(1);
        assertThat(f.ipc.machPortDestroy(B, right)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(f.ipc.namesOfPeerOf(ATTACKER)).isZero();
    }
}
