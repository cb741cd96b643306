package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.LinkItem;
import io.machxp.proto.link.LinkMessage;
import io.machxp.proto.link.LinkRight;
import io.machxp.proto.link.PortDied;
import org.junit.jupiter.api.Test;

/**
 * The ports a kernel knows by uid across kernels are forgotten when nothing needs them
 * ({@link RemoteRights}): a proxy once nothing on its kernel refers to it, a port once it died
 * (its uid then a tombstone, bounded, except on the uid's origin), a forwarder once its port died;
 * a uid forgotten is found again correctly - alive through a fresh proxy on the old one's path,
 * dead as MACH_PORT_DEAD. Links delivered by hand ({@link IpcCluster}); docs/mach-ipc.md, "Across kernels".
 */
class RemoteRightsPruningTest {
    private static final int NAME = 0x500;
    private static final int ROUNDS = 3_000;

    private static MachMessage to(int dest, int id) {
        return MachMessage.to(dest, MsgType.COPY_SEND, id);
    }

    private static int known(IpcCluster c, int k) {
        return c.core(k).remoteRights.size();
    }

    private static int forgotten(IpcCluster c, int k) {
        return c.core(k).remoteRights.forgottenCount();
    }

    private static MsgItem.Port right(MachMessage m, int index) {
        return (MsgItem.Port) m.body().get(index);
    }

    /**
     * Kernel 1 makes a port per round and sends kernel 2's service a request carrying a send right
     * to it and a send-once reply right; kernel 2 calls back through the send right (with its own
     * reply port, answered by kernel 1), replies, and lets go; kernel 1 destroys its port - in half
     * the rounds before kernel 2 let go, which leaves kernel 2 a dead name to deallocate.
     */
    @Test
    void portsCreatedSentAndDestroyedAcrossKernelsAreForgottenOnBothKernels() {
        IpcCluster c = new IpcCluster(2);
        int service = c.allocate(2);
        c.give(2, service, MsgType.MAKE_SEND, 1, NAME);
        c.core(1).remoteRights.limitForgotten(100);
        c.core(2).remoteRights.limitForgotten(100);
        int baseline1 = known(c, 1);
        int baseline2 = known(c, 2);
        int delivered = 0;
        for (int round = 0; round < ROUNDS; round++) {
            int port = c.allocate(1);
            assertThat(c.send(1, to(NAME, round).withReply(port, MsgType.MAKE_SEND_ONCE)
                    .withBody(new MsgItem.Port(port, MsgType.MAKE_SEND))).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            c.deliverAll();
            MachMessage request = c.take(2, service);
            assertThat(request.id()).isEqualTo(round);
            delivered++;
            int reply = request.remotePort();
            int callback = right(request, 0).name();
            int own = c.allocate(2);
            c.send(2, to(callback, -round).withReply(own, MsgType.MAKE_SEND_ONCE));
            c.deliverAll();
            MachMessage call = c.take(1, port);
            assertThat(call.id()).isEqualTo(-round);
            delivered++;
            c.send(1, MachMessage.to(call.remotePort(), MsgType.MOVE_SEND_ONCE, round + 1));
            c.send(2, MachMessage.to(reply, MsgType.MOVE_SEND_ONCE, round + 2));
            c.deliverAll();
            assertThat(c.take(2, own).id()).isEqualTo(round + 1);
            assertThat(c.take(1, port).id()).isEqualTo(round + 2);
            delivered += 2;
            assertThat(c.core(2).machPortDestroy(2, own)).isEqualTo(KernReturn.KERN_SUCCESS);
            if (round % 2 == 0) {
                assertThat(c.core(2).machPortDeallocate(2, callback)).isEqualTo(KernReturn.KERN_SUCCESS);
                c.deliverAll();
                assertThat(c.core(1).machPortDestroy(1, port)).isEqualTo(KernReturn.KERN_SUCCESS);
                c.deliverAll();
            } else {
                assertThat(c.core(1).machPortDestroy(1, port)).isEqualTo(KernReturn.KERN_SUCCESS);
                c.deliverAll();
                assertThat(c.type(2, callback)).isEqualTo(PortRight.DEAD_NAME.typeBit());
                assertThat(c.core(2).machPortDeallocate(2, callback)).isEqualTo(KernReturn.KERN_SUCCESS);
            }
        }
        assertThat(delivered).isEqualTo(4 * ROUNDS);
        assertThat(c.poll(2, service).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(known(c, 1)).as("kernel 1's ports known by uid").isEqualTo(baseline1);
        assertThat(known(c, 2)).as("kernel 2's ports known by uid").isEqualTo(baseline2);
        assertThat(forgotten(c, 1)).as("records of forgotten uids, bounded").isLessThanOrEqualTo(100);
        assertThat(forgotten(c, 2)).isLessThanOrEqualTo(100);
        assertThat(c.send(1, to(NAME, 1)).code()).as("the service still works").isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        assertThat(c.take(2, service).id()).isEqualTo(1);
        c.deliverAll();
        c.assertAllBack(1, 2); // and every message's bytes came back (InFlight)
    }

    @Test
    void aMovedReceiveRightsForwarderStaysWhileThePortLivesAndEveryKernelForgetsItsDeath() {
        IpcCluster c = new IpcCluster(3);
        int inbox = c.allocate(2);
        c.give(2, inbox, MsgType.MAKE_SEND, 1, NAME);
        int[] baseline = {0, known(c, 1), known(c, 2), known(c, 3)};
        int moving = c.allocate(1);
        c.give(1, moving, MsgType.MAKE_SEND, 3, NAME);
        c.send(1, to(NAME, 9).withBody(new MsgItem.Port(moving, MsgType.MOVE_RECEIVE)));
        c.deliverAll();
        c.send(3, to(NAME, 1)); // through kernel 1, which forwards
        c.deliverAll();
        int moved = right(c.take(2, inbox), 0).name();
        assertThat(c.take(2, moved).id()).isEqualTo(1);
        assertThat(known(c, 1)).as("the forwarder, with no right on its kernel").isEqualTo(baseline[1] + 1);
        assertThat(c.send(3, to(NAME, 2)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        assertThat(c.take(2, moved).id()).as("still forwarded").isEqualTo(2);

        assertThat(c.core(2).machPortDestroy(2, moved)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliverAll();
        assertThat(c.type(3, NAME)).isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(c.core(3).machPortDeallocate(3, NAME)).isEqualTo(KernReturn.KERN_SUCCESS);
        for (int k = 1; k <= 3; k++) {
            assertThat(known(c, k)).as("kernel %d", k).isEqualTo(baseline[k]);
        }
        assertThat(forgotten(c, 1)).as("kernel 1 is the uid's origin: no tombstone").isZero();
        assertThat(forgotten(c, 2)).isEqualTo(1);
        assertThat(forgotten(c, 3)).isEqualTo(1);
    }

    @Test
    void aRightToALivePortArrivingAgainAfterItsProxyWasForgottenWorksAndNoSendersComesOnce() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(1);
        int notify = c.allocate(1);
        c.request(1, port, Mach.MACH_NOTIFY_NO_SENDERS, notify);
        c.give(1, port, MsgType.MAKE_SEND, 2, NAME);
        assertThat(known(c, 2)).isEqualTo(1);
        c.send(2, to(NAME, 1));
        c.core(2).machPortDeallocate(2, NAME);
        c.deliverAll();
        assertThat(known(c, 2)).as("the proxy, once its last right went").isZero();
        assertThat(c.take(1, port).id()).isEqualTo(1);
        assertThat(c.take(1, notify).id()).isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);

        c.give(1, port, MsgType.MAKE_SEND, 2, NAME + 1);
        c.give(1, port, MsgType.MAKE_SEND, 2, NAME + 1); // merged: two user references
        c.request(1, port, Mach.MACH_NOTIFY_NO_SENDERS, notify); // (with no sender it would fire at once)
        assertThat(c.poll(1, notify).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(known(c, 2)).as("a fresh proxy").isEqualTo(1);
        for (int id = 2; id <= 4; id++) {
            assertThat(c.send(2, to(NAME + 1, id)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        }
        c.core(2).machPortDeallocate(2, NAME + 1);
        c.deliverAll();
        for (int id = 2; id <= 4; id++) {
            assertThat(c.take(1, port).id()).isEqualTo(id);
        }
        assertThat(c.poll(1, notify).code()).as("a send right is left").isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        c.core(2).machPortDeallocate(2, NAME + 1);
        c.deliverAll();
        MachMessage ns = c.take(1, notify);
        assertThat(ns.id()).isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
        assertThat(ns.intItem(0)).as("make-send count since the request").isEqualTo(3);
        assertThat(c.poll(1, notify).code()).as("once").isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(known(c, 2)).isZero();
    }

    /**
     * Kernel 1's port, a send right to it on kernel 2, and kernel 3's inbox: kernel 2 passes the
     * right to kernel 3 (RefTransfer on link 2 -> 1, the message on 2 -> 3), then kernel 1 destroys
     * the port, and its PortDied reaches kernel 3 before the right.
     */
    private record Overtaken(IpcCluster c, int inbox3) {}

    private static Overtaken rightOvertakenByTheDeath(int recordsOnThree) {
        IpcCluster c = new IpcCluster(3);
        c.core(3).remoteRights.limitForgotten(recordsOnThree);
        int port = c.allocate(1);
        c.give(1, port, MsgType.MAKE_SEND, 2, NAME);
        int inbox3 = c.allocate(3);
        c.give(3, inbox3, MsgType.MAKE_SEND, 2, NAME + 1);
        c.send(2, to(NAME + 1, 5).withBody(new MsgItem.Port(NAME, MsgType.COPY_SEND)));
        assertThat(c.core(1).machPortDestroy(1, port)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(known(c, 1)).as("the origin forgets its dead port at once").isZero();
        c.deliver(1, 3);
        return new Overtaken(c, inbox3);
    }

    @Test
    void aDeadUidNamedAfterItWasForgottenArrivesDead() {
        Overtaken o = rightOvertakenByTheDeath(RemoteRights.DEFAULT_MAX_FORGOTTEN);
        IpcCluster c = o.c();
        assertThat(forgotten(c, 3)).isEqualTo(1);
        c.deliverAll();
        MachMessage m = c.take(3, o.inbox3());
        assertThat(m.body()).containsExactly(new MsgItem.Port(Mach.MACH_PORT_DEAD, MsgType.PORT_SEND));
        for (int k = 1; k <= 3; k++) {
            assertThat(known(c, k)).as("kernel %d: only kernel 3's inbox is known (on 3 and 2)", k)
                    .isEqualTo(k == 1 ? 0 : 1);
        }
    }

    @Test
    void aDeadRightReachesItsOriginAfterThePortWasForgottenAndArrivesDead() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(1);
        int inbox1 = c.allocate(1);
        c.give(1, port, MsgType.MAKE_SEND, 2, NAME);
        c.give(1, inbox1, MsgType.MAKE_SEND, 2, NAME + 1);
        c.core(1).machPortDestroy(1, port); // PortDied waits on link 1 -> 2
        c.send(2, to(NAME + 1, 7).withBody(new MsgItem.Port(NAME, MsgType.COPY_SEND)));
        c.deliver(2, 1);
        MachMessage m = c.take(1, inbox1);
        assertThat(m.body()).containsExactly(new MsgItem.Port(Mach.MACH_PORT_DEAD, MsgType.PORT_SEND));
        assertThat(known(c, 1)).as("inbox1 only").isEqualTo(1);
        assertThat(forgotten(c, 1)).isZero();
    }

    @Test
    void aRightWhoseTombstoneWasPushedOutLearnsOfTheDeathFromItsOrigin() {
        Overtaken o = rightOvertakenByTheDeath(0);
        IpcCluster c = o.c();
        assertThat(forgotten(c, 3)).as("bound 0: remembered by no one but the origin").isZero();
        c.deliver(2, 3);
        MachMessage m = c.take(3, o.inbox3());
        int name = right(m, 0).name();
        assertThat(c.type(3, name)).as("a live proxy for now").isEqualTo(PortRight.SEND.typeBit());
        int notify = c.allocate(3);
        c.request(3, name, Mach.MACH_NOTIFY_DEAD_NAME, notify);
        c.deliverAll(); // kernel 2's RefTransfer reaches kernel 1, which answers PortDied to kernel 3
        assertThat(c.type(3, name)).isEqualTo(PortRight.DEAD_NAME.typeBit());
        MachMessage dn = c.take(3, notify);
        assertThat(dn.id()).isEqualTo(Mach.MACH_NOTIFY_DEAD_NAME);
        assertThat(right(dn, 0).name()).isEqualTo(name);
        assertThat(known(c, 3)).as("the inbox only").isEqualTo(1);
    }

    /**
     * Kernel 1's port; kernel 3 sends it message 1 (still on link 3 -> 1) and lets go of its send
     * right. Kernel 1 holds a send right to an inbox on kernel 2 and one on kernel 3.
     */
    private record Forgotten(IpcCluster c, int port, int inbox2, int inbox3) {}

    private static Forgotten sentThenForgotten() {
        IpcCluster c = new IpcCluster(3);
        int inbox2 = c.allocate(2);
        c.give(2, inbox2, MsgType.MAKE_SEND, 1, NAME + 2);
        int inbox3 = c.allocate(3);
        c.give(3, inbox3, MsgType.MAKE_SEND, 1, NAME + 3);
        int port = c.allocate(1);
        c.give(1, port, MsgType.MAKE_SEND, 3, NAME);
        assertThat(c.send(3, to(NAME, 1)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(c.core(3).machPortDeallocate(3, NAME)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(known(c, 3)).as("forgotten, its path recorded: only the inbox").isEqualTo(1);
        assertThat(forgotten(c, 3)).isEqualTo(1);
        return new Forgotten(c, port, inbox2, inbox3);
    }

    @Test
    void aNewProxyForAForgottenPortTakesTheOldPathSoItsMessagesFollowTheEarlierOnes() {
        Forgotten f = sentThenForgotten();
        IpcCluster c = f.c();
        c.send(1, to(NAME + 2, 9).withBody(new MsgItem.Port(f.port(), MsgType.MOVE_RECEIVE)));
        c.deliver(1, 2);
        int moved = right(c.take(2, f.inbox2()), 0).name();
        c.core(2).machPortInsertRemote(2, moved, MsgType.MAKE_SEND, 3, 3, NAME + 4); // names kernel 2 as its place
        c.deliver(2, 3);
        assertThat(c.send(3, to(NAME + 4, 2)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliver(3, 2); // nothing for the port on this link: the new proxy goes through kernel 1, as the old one did
        c.deliverAll();
        assertThat(c.take(2, moved).id()).isEqualTo(1);
        assertThat(c.take(2, moved).id()).isEqualTo(2);
    }

    @Test
    void aReceiveRightArrivingWhereItsProxyWasForgottenWaitsForWhatWasSentThroughIt() {
        Forgotten f = sentThenForgotten();
        IpcCluster c = f.c();
        c.send(1, to(NAME + 3, 9).withBody(new MsgItem.Port(f.port(), MsgType.MOVE_RECEIVE)));
        c.deliver(1, 3);
        int moved = right(c.take(3, f.inbox3()), 0).name();
        assertThat(c.send(3, MachMessage.to(moved, MsgType.MAKE_SEND, 2)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(c.poll(3, moved).code()).as("held until message 1 is in").isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        c.deliverAll();
        assertThat(c.take(3, moved).id()).isEqualTo(1);
        assertThat(c.take(3, moved).id()).isEqualTo(2);
    }

    @Test
    void aPeerNamingEndlessUidsMakesThisKernelKeepOnlyBoundedTombstones() {
        IpcCluster c = new IpcCluster(2);
        c.core(1).remoteRights.limitForgotten(10);
        int inbox = c.allocate(1);
        c.give(1, inbox, MsgType.MAKE_SEND, 2, NAME);
        int baseline = known(c, 1);
        for (long id = 1; id <= 1_000; id++) {
            io.machxp.proto.link.PortUid theirs = io.machxp.proto.link.PortUid.newBuilder().setOrigin(2).setId(id + 10_000).build();
            io.machxp.proto.link.PortUid ours = io.machxp.proto.link.PortUid.newBuilder().setOrigin(1).setId(id + 10_000).build();
            c.core(1).linkReceive(2, LinkFrame.newBuilder().setPortDied(PortDied.newBuilder().setPort(theirs)).build());
            LinkRight dest = LinkRight.newBuilder().setPort(RemoteRights.uid(ipcUid(c, inbox)))
                    .setType(MsgType.PORT_SEND.value).setReceiverKernel(1).build();
            c.core(1).linkReceive(2, LinkFrame.newBuilder().setMessage(LinkMessage.newBuilder().setDest(dest)
                    .setId((int) id).setComplex(true).setSize(64)
                    .addItems(LinkItem.newBuilder().setRight(LinkRight.newBuilder().setPort(ours)
                            .setType(MsgType.PORT_SEND.value).setReceiverKernel(2)))
                    .addItems(LinkItem.newBuilder().setRight(LinkRight.newBuilder()
                            .setPort(io.machxp.proto.link.PortUid.newBuilder().setOrigin(2).setId(id + 20_000))
                            .setType(MsgType.PORT_SEND_ONCE.value).setReceiverKernel(2)))).build());
            MachMessage m = c.take(1, inbox);
            assertThat(right(m, 0).name()).as("an own uid not known here is dead").isEqualTo(Mach.MACH_PORT_DEAD);
            assertThat(c.core(1).machPortDestroy(1, right(m, 1).name())).isEqualTo(KernReturn.KERN_SUCCESS);
        }
        c.deliverAll(); // the send-once rights' notifications reach kernel 2, which knows no such ports
        assertThat(known(c, 1)).isEqualTo(baseline);
        assertThat(forgotten(c, 1)).isEqualTo(10);
    }

    /** The uid kernel 1 gave its port {@code name} (it has left the kernel). */
    private static PortUid ipcUid(IpcCluster c, int name) {
        return c.core(1).space(1).lookup(name).port().uid;
    }
}
