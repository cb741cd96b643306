package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Mach IPC across kernels in the sans-IO cores, links delivered by hand ({@link IpcCluster}):
 * messages and rights through proxies, per-sender order, a receive right migrating with its
 * queue, no-senders counted across kernels (with rights in flight), dead names after a port's or
 * a kernel's death. The rules are in docs/mach-ipc.md, "Across kernels".
 */
class RemoteIpcTest {
    private static final int NAME = 0x500;

    private static MachMessage to(int dest, int id) {
        return MachMessage.to(dest, MsgType.COPY_SEND, id);
    }

    /**
     * docs/mach-ipc.md "No queue limit across kernels": a message to a proxy is carried at once,
     * whatever the port's qlimit (here 0), and queued past it on the receive right's kernel, while a
     * sender on that kernel blocks.
     */
    @Test
    void theQueueLimitBindsOnlyTheReceiveRightsKernelsSenders() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(1);
        assertThat(c.core(1).machPortSetQlimit(1, port, 0)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.give(1, port, MsgType.MAKE_SEND, 2, NAME);
        for (int i = 0; i < 3; i++) {
            assertThat(c.send(2, to(NAME, i)).code()).as("not blocked").isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        }
        c.deliverAll();
        assertThat(c.core(1).machPortGetReceiveStatus(1, port).orThrow("status").msgcount()).as("past qlimit 0")
                .isEqualTo(3);
        assertThat(c.core(1).machPortInsertRight(1, port, 1, port, MsgType.MAKE_SEND)).isEqualTo(KernReturn.KERN_SUCCESS);
        IpcFixture.Call local = c.send(1, to(port, 9));
        assertThat(local.done()).as("a sender on the receive right's kernel waits").isFalse();
        for (int i = 0; i < 3; i++) {
            assertThat(c.take(1, port).id()).isEqualTo(i);
        }
        assertThat(local.done()).as("qlimit 0: still waiting").isFalse();
        assertThat(c.core(1).machPortSetQlimit(1, port, 1)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(local.code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(c.take(1, port).id()).isEqualTo(9);
    }

    @Test
    void messagesToAPortOnAnotherKernelArriveInOrderOnce() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(1);
        c.give(1, port, MsgType.MAKE_SEND, 2, NAME);
        assertThat(c.type(2, NAME)).isEqualTo(PortRight.SEND.typeBit());
        for (int i = 0; i < 5; i++) {
            assertThat(c.send(2, to(NAME, i).withBody(MachMessage.int32(i * 7))).code())
                    .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        }
        assertThat(c.poll(1, port).code()).as("nothing before the link delivers").isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        c.deliverAll();
        for (int i = 0; i < 5; i++) {
            MachMessage m = c.take(1, port);
            assertThat(m.id()).isEqualTo(i);
            assertThat(m.intItem(0)).isEqualTo(i * 7);
            assertThat(m.seqno()).isEqualTo(i);
        }
        assertThat(c.poll(1, port).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
    }

    @Test
    void anRpcAcrossKernelsGetsItsReplyThroughTheSendOnceRight() {
        IpcCluster c = new IpcCluster(2);
        int service = c.allocate(1);
        c.give(1, service, MsgType.MAKE_SEND, 2, NAME);
        int replyPort = c.allocate(2);
        IpcFixture.Call rpc = c.msg(2, IpcCluster.tid(2),
                to(NAME, 42).withReply(replyPort, MsgType.MAKE_SEND_ONCE).withBody(MachMessage.int32(20)),
                Mach.MACH_SEND_MSG | Mach.MACH_RCV_MSG, replyPort);
        c.deliverAll();
        MachMessage request = c.take(1, service);
        assertThat(request.localType()).isEqualTo(MsgType.PORT_SEND);
        assertThat(request.remoteType()).isEqualTo(MsgType.PORT_SEND_ONCE);
        assertThat(rpc.done()).isFalse();
        c.send(1, MachMessage.to(request.remotePort(), MsgType.MOVE_SEND_ONCE, 43)
                .withBody(MachMessage.int32(request.intItem(0) + 1)));
        c.deliverAll();
        assertThat(rpc.message().id()).isEqualTo(43);
        assertThat(rpc.message().intItem(0)).isEqualTo(21);
        assertThat(c.core(1).machPortType(1, request.remotePort()).code()).as("the reply right was used up")
                .isEqualTo(KernReturn.KERN_INVALID_NAME);
    }

    @Test
    void aReceiveRightMovesToAnotherKernelWithItsQueueAndLaterMessagesFollowInOrder() {
        IpcCluster c = new IpcCluster(3);
        int moving = c.allocate(1);
        c.give(1, moving, MsgType.MAKE_SEND, 3, NAME); // kernel 3 sends to it throughout
        c.send(3, to(NAME, 1));
        c.send(3, to(NAME, 2));
        c.deliverAll();
        int inbox = c.allocate(2);
        c.give(2, inbox, MsgType.MAKE_SEND, 1, NAME);
        c.send(3, to(NAME, 3)); // still on its way to kernel 1 while the receive right leaves
        c.send(1, to(NAME, 9).withBody(new MsgItem.Port(moving, MsgType.MOVE_RECEIVE)));
        assertThat(c.core(1).machPortType(1, moving).code()).isEqualTo(KernReturn.KERN_INVALID_NAME);
        c.deliverAll();
        c.send(3, to(NAME, 4)); // through kernel 1, which forwards
        c.deliverAll();
        MachMessage carrier = c.take(2, inbox);
        MsgItem.Port right = (MsgItem.Port) carrier.body().get(0);
        assertThat(right.type()).isEqualTo(MsgType.PORT_RECEIVE);
        assertThat(c.type(2, right.name())).isEqualTo(PortRight.RECEIVE.typeBit());
        for (int id = 1; id <= 4; id++) {
            assertThat(c.take(2, right.name()).id()).as("message %d, in order, once", id).isEqualTo(id);
        }
        assertThat(c.poll(2, right.name()).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
    }

    @Test
    void noSendersComesWhenTheLastRemoteSendRightGoes() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(1);
        int notify = c.allocate(1);
        c.give(1, port, MsgType.MAKE_SEND, 2, NAME);
        c.request(1, port, Mach.MACH_NOTIFY_NO_SENDERS, notify);
        assertThat(c.poll(1, notify).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(c.core(2).machPortDeallocate(2, NAME)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(c.poll(1, notify).code()).as("not before the release arrives").isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        c.deliverAll();
        MachMessage ns = c.take(1, notify);
        assertThat(ns.id()).isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
        assertThat(ns.intItem(0)).as("make-send count").isEqualTo(1);
    }

    /** Kernel 3's port inbox3 and kernel 1's port, whose no-senders request goes to notifyPort. */
    private record Passed(IpcCluster c, int port, int notifyPort, int inbox3) {}

    /**
     * Kernel 1's port with a no-senders request; kernel 2 holds its only send right and passes it
     * to kernel 3 in a message (MOVE_SEND): RefTransfer then RefRelease wait on link 2 -> 1, the
     * message on link 2 -> 3.
     */
    private static Passed passed() {
        IpcCluster c = new IpcCluster(3);
        int port = c.allocate(1);
        int notify = c.allocate(1);
        c.give(1, port, MsgType.MAKE_SEND, 2, NAME);
        int inbox3 = c.allocate(3);
        c.give(3, inbox3, MsgType.MAKE_SEND, 2, NAME + 1);
        c.request(1, port, Mach.MACH_NOTIFY_NO_SENDERS, notify);
        c.send(2, to(NAME + 1, 5).withBody(new MsgItem.Port(NAME, MsgType.MOVE_SEND)));
        return new Passed(c, port, notify, inbox3);
    }

    @Test
    void aReleaseOvertakingTheTransferThatRegisteredItDoesNotFireNoSendersEarly() {
        Passed p = passed();
        IpcCluster c = p.c();
        int notify = p.notifyPort();
        int inbox3 = p.inbox3();
        assertThat(c.pending(2, 1)).isEqualTo(2);
        c.deliver(2, 3);
        MachMessage got = c.take(3, inbox3);
        int right = ((MsgItem.Port) got.body().get(0)).name();
        assertThat(c.core(3).machPortDeallocate(3, right)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliver(3, 1); // kernel 3's release reaches the port first: c[3] = -1, c[2] = +1
        assertThat(c.poll(1, notify).code()).as("the counts sum to 0 but are not all 0")
                .isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        c.deliver(2, 1);
        assertThat(c.take(1, notify).id()).isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
        c.deliverAll();
        assertThat(c.poll(1, notify).code()).as("once").isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
    }

    @Test
    void aSendRightInFlightKeepsThePortFromNoSenders() {
        Passed p = passed();
        IpcCluster c = p.c();
        int notify = p.notifyPort();
        int inbox3 = p.inbox3();
        c.deliver(2, 1); // kernel 2 has let go; the right is still on the link to kernel 3
        assertThat(c.poll(1, notify).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        c.deliver(2, 3);
        int right = ((MsgItem.Port) c.take(3, inbox3).body().get(0)).name();
        assertThat(c.send(3, to(right, 77)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        assertThat(c.take(1, p.port()).id()).isEqualTo(77);
        assertThat(c.poll(1, notify).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
    }

    @Test
    void aPortsDeathMakesDeadNamesOnOtherKernelsWithTheirNotifications() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(1);
        c.give(1, port, MsgType.MAKE_SEND, 2, NAME);
        int notify = c.allocate(2);
        c.request(2, NAME, Mach.MACH_NOTIFY_DEAD_NAME, notify);
        assertThat(c.core(1).machPortDestroy(1, port)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliverAll();
        assertThat(c.type(2, NAME)).isEqualTo(PortRight.DEAD_NAME.typeBit());
        MachMessage dn = c.take(2, notify);
        assertThat(dn.id()).isEqualTo(Mach.MACH_NOTIFY_DEAD_NAME);
        assertThat(((MsgItem.Port) dn.body().get(0)).name()).isEqualTo(NAME);
        assertThat(c.send(2, to(NAME, 1)).code()).isEqualTo(KernReturn.MACH_SEND_INVALID_DEST);
    }

    @Test
    void aMessageCrossingThePortsDeathIsDestroyedWithItsRights() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(1);
        c.give(1, port, MsgType.MAKE_SEND, 2, NAME);
        int reply = c.allocate(2);
        c.core(1).machPortDestroy(1, port);
        assertThat(c.send(2, to(NAME, 1).withReply(reply, MsgType.MAKE_SEND_ONCE)).code())
                .as("queued: success is not delivery").isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliver(2, 1);
        c.deliverAll();
        assertThat(c.type(2, NAME)).isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(c.take(2, reply).id()).as("the destroyed message's send-once right comes home unused")
                .isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
    }

    @Test
    void aKernelsDeathTurnsRightsToItsPortsIntoDeadNamesAndDropsItsSendRights() {
        IpcCluster c = new IpcCluster(3);
        int onOne = c.allocate(1);
        c.give(1, onOne, MsgType.MAKE_SEND, 2, NAME);
        int notify = c.allocate(2);
        c.request(2, NAME, Mach.MACH_NOTIFY_DEAD_NAME, notify);
        int onThree = c.allocate(3);
        int ns = c.allocate(3);
        c.give(3, onThree, MsgType.MAKE_SEND, 1, NAME);
        c.request(3, onThree, Mach.MACH_NOTIFY_NO_SENDERS, ns);
        c.kill(1);
        assertThat(c.type(2, NAME)).isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(c.take(2, notify).id()).isEqualTo(Mach.MACH_NOTIFY_DEAD_NAME);
        assertThat(c.take(3, ns).id()).as("the dead kernel's send rights died with it")
                .isEqualTo(Mach.MACH_NOTIFY_NO_SENDERS);
    }

    @Test
    void aRightToAPortThatDiedArrivesAsADeadName() {
        IpcCluster c = new IpcCluster(3);
        int port = c.allocate(1);
        c.give(1, port, MsgType.MAKE_SEND, 2, NAME);
        int inbox3 = c.allocate(3);
        c.give(3, inbox3, MsgType.MAKE_SEND, 2, NAME + 1);
        c.send(2, to(NAME + 1, 5).withBody(new MsgItem.Port(NAME, MsgType.COPY_SEND)));
        c.core(1).machPortDestroy(1, port);
        c.deliver(1, 3); // PortDied reaches kernel 3 before the right does
        c.deliverAll();
        MachMessage m = c.take(3, inbox3);
        assertThat(m.body()).containsExactly(new MsgItem.Port(Mach.MACH_PORT_DEAD, MsgType.PORT_SEND));
    }

    @Test
    void outOfLineMemoryTravelsAsItWasWhenSent() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(1);
        c.give(1, port, MsgType.MAKE_SEND, 2, NAME);
        OolRegion region = OolRegion.of(new byte[] {1, 2, 3});
        c.send(2, to(NAME, 1).withBody(new MsgItem.OutOfLine(region, false)));
        region.write(0, new byte[] {9});
        c.deliverAll();
        MsgItem.OutOfLine got = (MsgItem.OutOfLine) c.take(1, port).body().get(0);
        assertThat(got.region().read()).containsExactly(1, 2, 3);
        assertThat(region.read()).as("the sender's own copy").containsExactly(9, 2, 3);
    }
}
