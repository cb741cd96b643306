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
    private static final int INBOX = 0x600;
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

    private static void assertAllBack(IpcCluster c, int... kernels) {
        for (int k : kernels) {
            assertThat(c.core(k).queuedBytes()).as("kernel %d's budget in use", k).isZero();
            assertThat(c.core(k).inFlightMessages()).as("kernel %d's messages not answered", k).isZero();
        }
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
        assertAllBack(c, 1, 2);
    }

    @Test
    void messagesPassedOnByAForwarderStayChargedToTheSenderUntilReceivedWhereTheReceiveRightWent() {
        IpcCluster c = new IpcCluster(3);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        int inbox = c.allocate(3);
        c.give(3, inbox, MsgType.MAKE_SEND, 2, INBOX);
        c.send(1, filler(100)); // queued on kernel 2: it follows the receive right
        c.deliverAll();
        c.send(2, MachMessage.to(INBOX, MsgType.COPY_SEND, 9).withBody(new MsgItem.Port(port, MsgType.MOVE_RECEIVE)));
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
        assertAllBack(c, 1, 2, 3);
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
        assertAllBack(c, 1, 2);
    }

    @Test
    void whatWasCarriedToAKernelThatDiedComesBack() {
        IpcCluster c = new IpcCluster(2);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        c.core(1).limitQueuedBytes(BUDGET);
        assertThat(sendUntilRefused(c)).isEqualTo(3);

        c.kill(2);
        assertAllBack(c, 1);
    }

    @Test
    void whenTheKernelAForwarderPassedMessagesToDiesTheForwarderAnswersForIt() {
        IpcCluster c = new IpcCluster(3);
        int port = c.allocate(2);
        c.give(2, port, MsgType.MAKE_SEND, 1, NAME);
        int inbox = c.allocate(3);
        c.give(3, inbox, MsgType.MAKE_SEND, 2, INBOX);
        c.send(2, MachMessage.to(INBOX, MsgType.COPY_SEND, 9).withBody(new MsgItem.Port(port, MsgType.MOVE_RECEIVE)));
        c.deliverAll();
        c.take(3, inbox);
        c.deliverAll();
        c.core(1).limitQueuedBytes(BUDGET);
        assertThat(sendUntilRefused(c)).isEqualTo(3);
        assertThat(c.core(2).inFlightMessages()).isEqualTo(3);

        c.kill(3);
        c.deliverAll();
        assertAllBack(c, 1, 2);
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
        assertAllBack(c, 1, 2);
    }
}
