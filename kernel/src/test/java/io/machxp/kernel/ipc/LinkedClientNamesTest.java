package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.link.LinkRight;
import io.machxp.proto.transport.ClientPeer;
import org.junit.jupiter.api.Test;

/**
 * Review late11 LOW-N6: a right leaving a kernel over a link lost its payer, so names made for a
 * client's rights in another kernel's in-process tasks counted to the kernel that brought them
 * ({@link LinkedKernel}): a client at its peer's share on kernel 2 went on through its task on
 * kernel 1 (up to each linked kernel's share), and used up kernel 1's share of kernel 2's link
 * pool for every other task of kernel 1. Now the link carries the client's peer
 * ({@link LinkPayer}) and such names count to that peer's share ({@link LinkedPeer}). Client P
 * has a task (10) on each kernel, by connections of one peer; kernel 2's in-process task 2
 * receives.
 */
class LinkedClientNamesTest {
    private static final ClientPeer PEER = new ClientPeer("192.0.2.7", "");
    private static final long CLIENT = 10;
    private static final int TO_INBOX = 0x500;

    private record Conn(int n, ClientPeer peer) implements NameOwner {}

    private final IpcCluster c = new IpcCluster(2);
    private final int inbox;
    private final int port;

    LinkedClientNamesTest() {
        c.core(2).limitNames(c.core(2).namesInUse() + 800);
        c.core(1).spaceCreate(CLIENT, new Conn(1, PEER));
        c.core(2).spaceCreate(CLIENT, new Conn(2, PEER));
        inbox = c.allocate(2);
        assertThat(c.core(2).machPortInsertRemote(2, inbox, MsgType.MAKE_SEND, 1, CLIENT, TO_INBOX))
                .isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliverAll();
        port = c.core(1).machPortAllocate(CLIENT, PortRight.RECEIVE.value).orThrow("allocate");
    }

    /** The client's task on kernel 2 fills its peer's share there with dead names. */
    private void fillPeersShareOnKernel2() {
        while (c.core(2).machPortAllocate(CLIENT, PortRight.DEAD_NAME.value).code() == KernReturn.KERN_SUCCESS) {
        }
    }

    private static MachMessage sendOnceRights(int to, int p, int n) {
        MsgItem[] items = new MsgItem[n];
        for (int i = 0; i < n; i++) {
            items[i] = new MsgItem.Port(p, MsgType.MAKE_SEND_ONCE);
        }
        return IpcFixture.to(to, 1).withBody(items);
    }

    private KernReturn sendFromKernel1(long task, MachMessage m) {
        IpcFixture.Call call = new IpcFixture.Call();
        c.core(1).machMsg(task, 1_000 + (int) task, m, Mach.MACH_SEND_MSG, IpcCluster.BIG, 0, 0, call::accept);
        return call.code();
    }

    @Test
    void aClientAtItsShareCannotGoOnThroughAnotherKernel() {
        fillPeersShareOnKernel2();
        int atShare = c.core(2).namesOfPeerOf(PEER);
        assertThat(sendFromKernel1(CLIENT, sendOnceRights(TO_INBOX, port, 3))).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        assertThat(c.poll(2, inbox).code()).as("its rights need names its peer has no room for, as in a full space")
                .isEqualTo(KernReturn.MACH_RCV_BODY_ERROR_IPC_SPACE);
        assertThat(c.core(2).namesOfPeerOf(PEER)).isEqualTo(atShare);
        assertThat(c.core(2).namesOfPeerOf(new LinkedKernel(1))).as("not kernel 1's share").isZero();
    }

    @Test
    void aClientsRightsCountToItsPeerNotToTheKernelThatBroughtThem() {
        int before = c.core(2).namesOfPeerOf(PEER);
        assertThat(sendFromKernel1(CLIENT, sendOnceRights(TO_INBOX, port, 3))).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        MachMessage got = c.take(2, inbox);
        assertThat(got.body()).hasSize(3);
        assertThat(c.core(2).namesOfPeerOf(PEER)).isEqualTo(before + 3);
        assertThat(c.core(2).namesOfPeerOf(new LinkedKernel(1))).isZero();
        int name = ((MsgItem.Port) got.body().get(0)).name();
        assertThat(c.core(2).space(2).lookup(name).chargedTo).isEqualTo(new LinkedPeer(PEER));
    }

    /** Kernel 1's in-process task 1 moves a client's right on: still the client's; its own right is kernel 1's. */
    @Test
    void anInProcessTaskPassingAClientsRightOnKeepsItsPeer() {
        int inbox1 = c.allocate(1);
        int toInbox1 = c.core(1).machPortExtractRight(1, inbox1, MsgType.MAKE_SEND, CLIENT).orThrow("extract").name();
        assertThat(sendFromKernel1(CLIENT, sendOnceRights(toInbox1, port, 1))).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        int held = ((MsgItem.Port) c.take(1, inbox1).body().get(0)).name();
        c.give(2, inbox, MsgType.MAKE_SEND, 1, TO_INBOX);
        int own = c.allocate(1);
        assertThat(c.send(1, IpcFixture.to(TO_INBOX, 2).withBody(new MsgItem.Port(held, MsgType.MOVE_SEND_ONCE),
                new MsgItem.Port(own, MsgType.MAKE_SEND_ONCE))).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        MachMessage got = c.take(2, inbox);
        IpcSpace receiver = c.core(2).space(2);
        assertThat(receiver.lookup(((MsgItem.Port) got.body().get(0)).name()).chargedTo).isEqualTo(new LinkedPeer(PEER));
        assertThat(receiver.lookup(((MsgItem.Port) got.body().get(1)).name()).chargedTo).isEqualTo(new LinkedKernel(1));
    }

    /** The wire: a client's peer goes with its rights; without the field (an older kernel, or none) the kernel pays. */
    @Test
    void thePeerCrossesTheLinkAndItsAbsenceIsTheSendingKernel() {
        LinkRight.Builder b = LinkRight.newBuilder();
        LinkPayer.write(new Conn(1, PEER), b);
        assertThat(LinkPayer.read(b.build(), 1)).isEqualTo(new LinkedPeer(PEER));
        LinkRight.Builder again = LinkRight.newBuilder();
        LinkPayer.write(new LinkedPeer(PEER), again);
        assertThat(again.build().getOriginPeer()).isEqualTo(b.build().getOriginPeer());
        for (Object none : new Object[] {null, new LinkedKernel(3), "a test's owner"}) {
            LinkRight.Builder n = LinkRight.newBuilder();
            LinkPayer.write(none, n);
            assertThat(n.hasOriginPeer()).as("%s", none).isFalse();
            assertThat(LinkPayer.read(n.build(), 4)).isEqualTo(new LinkedKernel(4));
        }
    }
}
