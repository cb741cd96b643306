package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.link.LinkConsumed;
import io.machxp.proto.link.LinkFrame;
import org.junit.jupiter.api.Test;

/**
 * A message a task sends to a port on another kernel counts against its own kernel's budget of
 * queued bytes, and its task's share, until a task on the kernel holding the receive right has
 * received it or it was destroyed there ({@link InFlight}): a task cannot queue without bound on
 * another kernel's ports, and every byte comes back - received, destroyed, passed through a
 * forwarder, or lost with a dead kernel. Links delivered by hand ({@link IpcCluster});
 * docs/mach-ipc.md, "Queued bytes across kernels".
 */
class QueuedBytesAcrossKernelsTest {
    private static final int NAME = 0x500;
    /** Kernel 1's budget: a task's share is a quarter, 16 KiB, so three of these messages and not four. */
    private static final long BUDGET = 64 << 10;
    private static final int PAYLOAD = 4 << 10;

    private static MachMessage filler(int id) {
        return MachMessage.to(NAME, MsgType.COPY_SEND, id).withBody(new MsgItem.Inline(new byte[PAYLOAD]));
    }

    /** Kernel 1's task sends to NAME until refused (at most 100 tries), links delivered each time; how many went. */
    private static int sendUntilRefused(IpcCluster c) {
        for (int sent = 0; sent < 100; sent++) {
            KernReturn r = c.send(1, filler(sent)).code();
            c.deliverAll();
            if (r != KernReturn.MACH_MSG_SUCCESS) {
                assertThat(r).isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
                return sent;
            }
        }
        throw new AssertionError("100 messages of " + PAYLOAD + " bytes queued on another kernel, past a share of "
                + BUDGET / IpcCore.TASK_SHARES + " bytes, and none refused");
    }

    @Test
    void aTaskQueueingOnAnotherKernelsPortIsRefusedByItsOwnKernelUntilThatKernelsTaskReceives() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        c.core(1).limitQueuedBytes(BUDGET);

        int sent = sendUntilRefused(c);
        assertThat(sent).isEqualTo(3);
        long each = MsgSend.cost(filler(0));
        assertThat(c.core(1).queuedBytes()).isEqualTo(3 * each);
        assertThat(c.core(1).inFlightBytes()).isEqualTo(3 * each);
        assertThat(c.core(2).queuedBytes()).as("charged where it was sent, not where it waits").isZero();
        assertThat(c.send(1, filler(99)).code()).as("refused before anything happened").isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);

        assertThat(c.take(2, port).id()).isEqualTo(0);
        assertThat(c.send(1, filler(3)).code()).as("not before kernel 2's answer arrives").isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
        c.deliverAll();
        assertThat(c.core(1).queuedBytes()).isEqualTo(2 * each);
        assertThat(c.send(1, filler(3)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        c.deliverAll();
        for (int id = 1; id <= 3; id++) {
            assertThat(c.take(2, port).id()).as("in order, once").isEqualTo(id);
        }
        c.deliverAll();
        c.assertAllBack(1, 2);
    }

    @Test
    void messagesPassedOnByAForwarderStayChargedToTheSenderUntilReceivedWhereTheReceiveRightWent() {
        IpcCluster c = new IpcCluster(3);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        int inbox = c.allocate(3);
        c.give(3, inbox, MsgType.MAKE_SEND, 2, IpcCluster.INBOX);
        c.send(1, filler(100)); // queued on kernel 2: it follows the receive right
        c.deliverAll();
        c.send(2, MachMessage.to(IpcCluster.INBOX, MsgType.COPY_SEND, 9).withBody(new MsgItem.Port(port, MsgType.MOVE_RECEIVE)));
        c.deliverAll();
        MachMessage carrier = c.take(3, inbox);
        int moved = ((MsgItem.Port) carrier.body().get(0)).name();
        c.core(1).limitQueuedBytes(BUDGET);

        int sent = sendUntilRefused(c); // kernel 1's proxy still points to kernel 2, which forwards
        assertThat(sent).as("the first message still counts: it waits on kernel 3").isEqualTo(2);
        assertThat(c.core(2).inFlightMessages()).as("kernel 2 remembers what it passed on").isEqualTo(3);
        assertThat(c.core(2).queuedBytes()).isZero();
        assertThat(c.core(3).queuedBytes()).isZero();

        assertThat(c.take(3, moved).id()).isEqualTo(100);
        assertThat(c.take(3, moved).id()).isEqualTo(0);
        assertThat(c.take(3, moved).id()).isEqualTo(1);
        c.deliverAll();
        c.assertAllBack(1, 2, 3);
        assertThat(sendUntilRefused(c)).as("the whole share again").isEqualTo(3);
    }

    @Test
    void messagesDestroyedOnTheReceiversKernelComeBack() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        c.core(1).limitQueuedBytes(BUDGET);
        assertThat(sendUntilRefused(c)).isEqualTo(3);

        assertThat(c.core(2).machPortDestroy(2, port)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliverAll();
        c.assertAllBack(1, 2);
    }

    @Test
    void whatWasCarriedToAKernelThatDiedComesBack() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        c.core(1).limitQueuedBytes(BUDGET);
        assertThat(sendUntilRefused(c)).isEqualTo(3);

        c.kill(2);
        c.assertAllBack(1);
    }

    @Test
    void whenTheKernelAForwarderPassedMessagesToDiesTheForwarderAnswersForIt() {
        IpcCluster c = new IpcCluster(3);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        int inbox = c.allocate(3);
        c.give(3, inbox, MsgType.MAKE_SEND, 2, IpcCluster.INBOX);
        c.send(2, MachMessage.to(IpcCluster.INBOX, MsgType.COPY_SEND, 9).withBody(new MsgItem.Port(port, MsgType.MOVE_RECEIVE)));
        c.deliverAll();
        c.take(3, inbox);
        c.deliverAll();
        c.core(1).limitQueuedBytes(BUDGET);
        assertThat(sendUntilRefused(c)).isEqualTo(3);
        assertThat(c.core(2).inFlightMessages()).isEqualTo(3);

        c.kill(3);
        c.deliverAll();
        c.assertAllBack(1, 2);
    }

    /** A port's death destroys its whole queue in one turn: the answers go back in frames of a bounded size. */
    @Test
    void manyAnswersAtOnceGoBackInFramesOfBoundedSize() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        int messages = InFlight.TICKETS_PER_FRAME + 1;
        for (int i = 0; i < messages; i++) {
            assertThat(c.send(1, MachMessage.to(NAME, MsgType.COPY_SEND, i)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        }
        c.deliverAll();
        assertThat(c.core(1).inFlightMessages()).isEqualTo(messages);
        int before = c.deliveredByKind.getOrDefault(LinkFrame.BodyCase.CONSUMED, 0);

        assertThat(c.core(2).machPortDestroy(2, port)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliverAll();
        assertThat(c.deliveredByKind.getOrDefault(LinkFrame.BodyCase.CONSUMED, 0) - before).isEqualTo(2);
        c.assertAllBack(1, 2);
    }

    @Test
    void answersWithTicketsTheKernelDidNotGiveThatKernelAreIgnored() {
        IpcCluster c = new IpcCluster(3);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        c.core(1).limitQueuedBytes(BUDGET);
        assertThat(sendUntilRefused(c)).isEqualTo(3);
        long charged = c.core(1).queuedBytes();

        LinkConsumed.Builder tickets = LinkConsumed.newBuilder();
        for (long t = 0; t < 1_000; t++) {
            tickets.addTickets(t).addTickets((1L << 40) | t).addTickets(-t);
        }
        LinkFrame bogus = LinkFrame.newBuilder().setConsumed(tickets).build();
        c.inject(3, 1, bogus); // kernel 3 was given none of kernel 1's tickets
        assertThat(c.core(1).queuedBytes()).isEqualTo(charged);
        c.inject(2, 1, LinkFrame.newBuilder().setConsumed(LinkConsumed.newBuilder()
                .addTickets((1L << 40) | 1).addTickets(0)).build()); // another session's, and none
        assertThat(c.core(1).queuedBytes()).isEqualTo(charged);

        for (int id = 0; id < 3; id++) {
            assertThat(c.take(2, port).id()).isEqualTo(id);
        }
        c.deliverAll();
        c.assertAllBack(1, 2);
    }

    /**
     * A notification kernel 1 makes for a port whose receive right is on kernel 2 (here SEND_ONCE,
     * for requests its server drops unanswered) is charged to the task holding that receive right
     * once kernel 2 queues it, as one kernel 2 made itself would be: kernel 1 charges nobody (no
     * task there holds the receive right). Before, such notifications were charged on neither
     * kernel, and a client's unanswered requests queued notifications without bound.
     */
    @Test
    void aNotificationFromAnotherKernelIsChargedToTheTaskHoldingItsPortsReceiveRight() {
        IpcCluster c = new IpcCluster(2);
        int server = c.allocate(1);
        c.give(1, server, MsgType.MAKE_SEND, 2, NAME);
        int replies = c.allocate(2);
        c.core(2).limitQueuedBytes(BUDGET);
        long each = MachMessage.HEADER_SIZE; // a SEND_ONCE notification: a header
        long share = BUDGET / IpcCore.TASK_SHARES;
        for (int round = 0; round < 2_000; round++) {
            KernReturn r = c.send(2, MachMessage.to(NAME, MsgType.COPY_SEND, round).withReply(replies,
                    MsgType.MAKE_SEND_ONCE)).code();
            if (r != KernReturn.MACH_MSG_SUCCESS) {
                assertThat(r).isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
                break;
            }
            c.deliverAll();
            MachMessage request = c.take(1, server);
            assertThat(c.core(1).machPortDeallocate(1, request.remotePort())).isEqualTo(KernReturn.KERN_SUCCESS);
            c.deliverAll(); // kernel 1 sends SEND_ONCE to the reply port
        }
        int queued = c.core(2).machPortGetReceiveStatus(2, replies).orThrow("mach_port_get_receive_status").msgcount();
        assertThat(c.core(2).queuedBytes()).as("the notifications count on kernel 2").isEqualTo(queued * each);
        assertThat((long) queued).as("at most the client's share, as on one kernel (refused or dropped beyond it)")
                .isBetween(share / each - 1, share / each);
        assertThat(c.core(1).queuedBytes()).isZero();

        for (int i = 0; i < queued; i++) {
            assertThat(c.take(2, replies).id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        }
        c.deliverAll();
        c.assertAllBack(1, 2);
    }

    /**
     * A notification from another kernel is never dropped, beyond its receiver's share too (each
     * is the one message of a send-once right, made on the kernel of the receive right while it
     * had room): it is charged there, and that task makes no more send-once rights until it
     * receives.
     */
    @Test
    void aNotificationFromAnotherKernelBeyondItsReceiversShareIsQueuedAndCharged() {
        IpcCluster c = new IpcCluster(2);
        int server = c.allocate(1);
        c.give(1, server, MsgType.MAKE_SEND, 2, NAME);
        int replies = c.allocate(2);
        for (int id = 0; id < 10; id++) {
            assertThat(c.send(2, MachMessage.to(NAME, MsgType.COPY_SEND, id).withReply(replies, MsgType.MAKE_SEND_ONCE))
                    .code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        }
        c.deliverAll();
        int[] unanswered = new int[10];
        for (int id = 0; id < 10; id++) {
            unanswered[id] = c.take(1, server).remotePort();
        }
        c.deliverAll();
        long each = MachMessage.HEADER_SIZE;
        c.core(2).limitQueuedBytes(5 * each * IpcCore.TASK_SHARES); // a share of 5 notifications
        for (int name : unanswered) {
            assertThat(c.core(1).machPortDeallocate(1, name)).isEqualTo(KernReturn.KERN_SUCCESS);
        }
        c.deliverAll();
        var status = c.core(2).machPortGetReceiveStatus(2, replies).orThrow("mach_port_get_receive_status");
        assertThat(status.msgcount()).as("each send-once right said its one message").isEqualTo(10);
        assertThat(status.sorights()).as("none ended without its message").isEqualTo(10);
        assertThat(c.core(2).queuedBytes()).isEqualTo(10 * each);
        assertThat(c.send(2, MachMessage.to(NAME, MsgType.COPY_SEND, 99).withReply(replies, MsgType.MAKE_SEND_ONCE))
                .code()).as("no room for another send-once right").isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
        for (int i = 0; i < 10; i++) {
            assertThat(c.take(2, replies).id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        }
        c.deliverAll();
        c.assertAllBack(1, 2);
    }

    /**
     * A notification that follows a moved receive right (one of its queued messages) arrives
     * beyond its receiver's share: queued and charged on the new kernel all the same (never
     * dropped), and what the new kernel held back until the followers were in goes in after it.
     */
    @Test
    void aNotificationAmongAMovedQueuesFollowersBeyondTheShareIsChargedAndLetsTheHeldMessagesIn() {
        IpcCluster c = new IpcCluster(3);
        int port = c.allocate(2);
        int inbox3 = c.allocate(3);
        c.give(3, inbox3, MsgType.MAKE_SEND, 2, IpcCluster.INBOX);
        int inbox1 = c.allocate(1);
        c.give(1, inbox1, MsgType.MAKE_SEND, 2, IpcCluster.INBOX + 1);
        c.send(2, MachMessage.to(IpcCluster.INBOX, MsgType.COPY_SEND, 1).withBody(new MsgItem.Port(port, MsgType.MAKE_SEND_ONCE)));
        c.deliverAll();
        int sendOnce = ((MsgItem.Port) c.take(3, inbox3).body().get(0)).name();
        assertThat(c.core(3).machPortDeallocate(3, sendOnce)).isEqualTo(KernReturn.KERN_SUCCESS);
        c.deliverAll(); // SEND_ONCE, made on kernel 3 (a proxy's port), queued on kernel 2

        c.send(2, MachMessage.to(IpcCluster.INBOX + 1, MsgType.COPY_SEND, 2).withBody(new MsgItem.Port(port, MsgType.MOVE_RECEIVE)));
        c.deliverNext(2, 1); // the receive right, with one follower still on the link: the notification
        int moved = ((MsgItem.Port) c.take(1, inbox1).body().get(0)).name();
        assertThat(c.core(1).machPortInsertRight(1, moved, 1, moved, MsgType.MAKE_SEND)).isEqualTo(KernReturn.KERN_SUCCESS);
        assertThat(c.send(1, MachMessage.to(moved, MsgType.COPY_SEND, 3)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(c.core(1).machPortGetReceiveStatus(1, moved).orThrow("status").msgcount())
                .as("held until the follower is in").isZero();
        c.core(1).limitQueuedBytes(0); // no room for the notification: queued all the same
        c.deliverAll();
        assertThat(c.core(1).machPortGetReceiveStatus(1, moved).orThrow("status").msgcount())
                .as("the held message went in after the follower").isEqualTo(2);
        assertThat(c.core(1).queuedBytes()).as("the notification and message 3, both charged on kernel 1 where queued")
                .isEqualTo(2L * MachMessage.HEADER_SIZE);
        c.core(1).limitQueuedBytes(BUDGET);
        assertThat(c.take(1, moved).id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        assertThat(c.take(1, moved).id()).isEqualTo(3);
        c.deliverAll();
        c.assertAllBack(1, 2, 3);
    }

    /**
     * Review R1 (probe 1): a receive right bounced between two kernels keeps its notifications
     * (made for the other kernel's send-once rights, deallocated there) charged on the kernel
     * where they are queued after every move, so the making (and then the moving, whose message
     * needs room too) stops at the holder's share instead of queueing without bound and charged
     * nowhere.
     */
    @Test
    void notificationsOnAReceiveRightBouncedBetweenKernelsStayChargedWhereQueued() {
        IpcCluster c = new IpcCluster(2);
        c.core(1).limitQueuedBytes(4096);
        c.core(2).limitQueuedBytes(4096);
        int in1 = c.inbox(1, 2);
        int in2 = c.inbox(2, 1);
        int r = c.allocate(2);
        int at = 2;
        boolean refused = false;
        for (int round = 0; round < 10; round++) {
            int other = at == 2 ? 1 : 2;
            int made = 0;
            for (; made < 30; made++) {
                KernReturn kr = c.core(at).machPortInsertRemote(at, r, MsgType.MAKE_SEND_ONCE, other, other, 0x900 + made);
                c.deliverAll();
                if (kr != KernReturn.KERN_SUCCESS) {
                    assertThat(kr).isEqualTo(KernReturn.KERN_RESOURCE_SHORTAGE);
                    refused = true;
                    break;
                }
            }
            for (int i = 0; i < made; i++) {
                assertThat(c.core(other).machPortDeallocate(other, 0x900 + i)).isEqualTo(KernReturn.KERN_SUCCESS);
            }
            c.deliverAll();
            KernReturn move = c.send(at, MachMessage.to(IpcCluster.INBOX + other, MsgType.COPY_SEND, 9)
                    .withBody(new MsgItem.Port(r, MsgType.MOVE_RECEIVE))).code();
            if (move != KernReturn.MACH_MSG_SUCCESS) {
                assertThat(move).as("the holder's share is full: its notifications are charged to it")
                        .isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
                refused = true;
                break;
            }
            c.deliverAll();
            r = c.receivedRight(other, other == 1 ? in1 : in2);
            c.deliverAll();
            at = other;
            long msgs = c.core(at).machPortGetReceiveStatus(at, r).orThrow("status").msgcount();
            assertThat(c.core(1).queuedBytes() + c.core(2).queuedBytes())
                    .as("round %d: the %d notifications queued on kernel %d, charged on the kernels", round, msgs, at)
                    .isEqualTo(msgs * MachMessage.HEADER_SIZE);
            assertThat(c.core(at).queuedBytes()).as("round %d: charged where queued", round)
                    .isEqualTo(msgs * MachMessage.HEADER_SIZE);
        }
        assertThat(refused).as("making send-once rights or moving the right stops at the holder's share").isTrue();
        long msgs = c.core(at).machPortGetReceiveStatus(at, r).orThrow("status").msgcount();
        assertThat(msgs * MachMessage.HEADER_SIZE).as("bounded by the holder's share, a send-once right's notification each")
                .isLessThanOrEqualTo(4096 / IpcCore.TASK_SHARES + 30 * MachMessage.HEADER_SIZE);
        for (long i = 0; i < msgs; i++) {
            assertThat(c.take(at, r).id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        }
        c.deliverAll();
        c.assertAllBack(1, 2);
    }

    /**
     * Review R4: MachPortInsertRemote of MAKE_SEND_ONCE with no room in the inserting task's share
     * for the right's notification is KERN_RESOURCE_SHORTAGE, and nothing arrives on the other kernel.
     */
    @Test
    void aRemoteInsertOfASendOnceRightBeyondTheShareIsResourceShortage() {
        IpcCluster c = new IpcCluster(2);
        c.core(1).limitQueuedBytes(4096); // share 1,024 bytes
        int p = c.allocate(1);
        fillShare:
        for (int port = 0; port < 10; port++) {
            int q = c.allocate(1);
            assertThat(c.core(1).machPortSetQlimit(1, q, Mach.MACH_PORT_QLIMIT_MAX)).isEqualTo(KernReturn.KERN_SUCCESS);
            for (int i = 0; i < Mach.MACH_PORT_QLIMIT_MAX; i++) {
                KernReturn r = c.send(1, MachMessage.to(q, MsgType.MAKE_SEND, i)).code();
                if (r != KernReturn.MACH_MSG_SUCCESS) {
                    assertThat(r).isEqualTo(KernReturn.MACH_SEND_NO_BUFFER);
                    break fillShare;
                }
            }
        }
        assertThat(c.core(1).machPortInsertRemote(1, p, MsgType.MAKE_SEND_ONCE, 2, 2, 0x777))
                .isEqualTo(KernReturn.KERN_RESOURCE_SHORTAGE);
        c.deliverAll();
        assertThat(c.core(2).machPortType(2, 0x777).code()).as("nothing inserted there").isNotEqualTo(KernReturn.KERN_SUCCESS);
    }

    /**
     * Review R5 (probe 3): a blocked sender's message, charged while it waits, follows its port's
     * receive right to another kernel: the sender's call succeeds, the message is charged on its
     * kernel exactly once on the way (given back as it leaves the wait, charged as carried), and
     * everything comes back once it is received there.
     */
    @Test
    void aBlockedSendersMessageFollowsTheReceiveRightToAnotherKernelChargedOnce() {
        IpcCluster c = new IpcCluster(2);
        int in2 = c.inbox(2, 1);
        int r = c.allocate(1);
        assertThat(c.core(1).machPortSetQlimit(1, r, 0)).isEqualTo(KernReturn.KERN_SUCCESS);
        IpcFixture.Call blocked = c.msg(1, IpcCluster.tid(1) + 5,
                MachMessage.to(r, MsgType.MAKE_SEND, 7).withBody(new MsgItem.Inline(new byte[100])), Mach.MACH_SEND_MSG, 0);
        assertThat(blocked.done()).as("qlimit 0: the sender waits").isFalse();
        long whileBlocked = c.core(1).queuedBytes();
        assertThat(whileBlocked).as("charged while it waits").isPositive();
        c.sendReceiveRight(1, r, 2);
        c.deliverAll();
        assertThat(blocked.code()).as("carried after the receive right").isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        int moved = c.receivedRight(2, in2);
        c.deliverAll();
        assertThat(c.core(1).queuedBytes()).as("the blocked message, carried and not yet received: charged once")
                .isEqualTo(whileBlocked);
        assertThat(c.take(2, moved).id()).isEqualTo(7);
        c.deliverAll();
        c.assertAllBack(1, 2);
    }
}
