package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static io.machxp.kernel.ipc.IpcFixture.TA;
import static io.machxp.kernel.ipc.IpcFixture.TB;
import static io.machxp.kernel.ipc.IpcFixture.to;
import static io.machxp.kernel.ipc.KernReturn.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** mach_msg on one kernel: headers, dispositions, bodies, queue limits, timeouts and receive errors. */
class MachMsgTest {
    private final IpcFixture f = new IpcFixture();
    private final int port = f.allocate(B);
    /** A's send right to B's port. */
    private final int send = f.sendRightIn(B, port, A);

    /** A message is received as sent: id, inline data, seqno counting from 0, header reversed (local = the receive right, bits PORT_SEND). */
    @Test
    void aMessageArrivesWithItsDataAndAReversedHeader() {
        assertThat(f.send(A, to(send, 7).withBody(new MsgItem.Inline(new byte[] {1, 2, 3}))).code())
                .isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.send(A, to(send, 8)).code()).isEqualTo(MACH_MSG_SUCCESS);
        MachMessage m = f.take(B, port);
        assertThat(m.id()).isEqualTo(7);
        assertThat(((MsgItem.Inline) m.body().get(0)).data()).containsExactly(1, 2, 3);
        assertThat(m.localPort()).isEqualTo(port);
        assertThat(m.localType()).isEqualTo(MsgType.PORT_SEND);
        assertThat(m.remotePort()).isEqualTo(Mach.MACH_PORT_NULL);
        assertThat(m.seqno()).isZero();
        assertThat(m.size()).isEqualTo(MachMessage.HEADER_SIZE + 8);
        assertThat(f.take(B, port).seqno()).isEqualTo(1);
        assertThat(f.refs(A, send, PortRight.SEND)).as("COPY_SEND leaves the sender's right").isEqualTo(1);
    }

    /** The RPC idiom: send with a MAKE_SEND_ONCE reply and receive on the reply port in one call; the server replies through the send-once right. */
    @Test
    void sendAndReceiveInOneCallIsAnRpc() {
        int reply = f.allocate(A);
        IpcFixture.Call rpc = f.msg(A, TA, to(send, 1).withReply(reply, MsgType.MAKE_SEND_ONCE),
                Mach.MACH_SEND_MSG | Mach.MACH_RCV_MSG, IpcFixture.BIG, reply, 0);
        assertThat(rpc.done()).as("waits for the reply").isFalse();
        MachMessage request = f.take(B, port);
        assertThat(request.remoteType()).isEqualTo(MsgType.PORT_SEND_ONCE);
        assertThat(f.type(B, request.remotePort())).isEqualTo(PortRight.SEND_ONCE.typeBit());
        assertThat(f.send(B, MachMessage.to(request.remotePort(), MsgType.MOVE_SEND_ONCE, 2)).code())
                .isEqualTo(MACH_MSG_SUCCESS);
        assertThat(rpc.message().id()).isEqualTo(2);
        assertThat(rpc.message().localType()).isEqualTo(MsgType.PORT_SEND_ONCE);
        assertThat(f.ipc.machPortType(B, request.remotePort()).code()).as("the send-once right is used up")
                .isEqualTo(KERN_INVALID_NAME);
        assertThat(f.status(A, reply).sorights()).isZero();
    }

    /** A send error skips the receive of a send+receive call. */
    @Test
    void aSendErrorSkipsTheReceive() {
        int reply = f.allocate(A);
        IpcFixture.Call c = f.msg(A, TA, to(0x777, 1), Mach.MACH_SEND_MSG | Mach.MACH_RCV_MSG, IpcFixture.BIG, reply, 0);
        assertThat(c.code()).isEqualTo(MACH_SEND_INVALID_DEST);
    }

    /** Header dispositions: MOVE_SEND takes a uref, MAKE_SEND counts in mscount, MOVE_SEND_ONCE consumes; MOVE_RECEIVE is not a header disposition. */
    @Test
    void headerDispositionsMoveCopyAndMakeRights() {
        f.ipc.machPortModRefs(A, send, PortRight.SEND.value, 1);
        assertThat(f.send(A, MachMessage.to(send, MsgType.MOVE_SEND, 1)).code()).isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.refs(A, send, PortRight.SEND)).isEqualTo(1);
        int own = f.allocate(A);
        assertThat(f.send(A, to(send, 2).withReply(own, MsgType.MAKE_SEND)).code()).isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.status(A, own).mscount()).isEqualTo(1);
        assertThat(f.send(A, MachMessage.to(own, MsgType.MOVE_RECEIVE, 3)).code()).isEqualTo(MACH_SEND_INVALID_HEADER);
        assertThat(f.send(A, new MachMessage(Mach.msghBits(MsgType.COPY_SEND, null), send, own, 0, 4, List.of())).code())
                .as("local bits 0 with a reply name").isEqualTo(MACH_SEND_INVALID_HEADER);
        f.take(B, port);
        MachMessage second = f.take(B, port);
        assertThat(second.remoteType()).isEqualTo(MsgType.PORT_SEND);
        assertThat(f.send(B, to(second.remotePort(), 5)).code()).isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.take(A, own).id()).isEqualTo(5);
        int so = f.ipc.machPortExtractRight(B, port, MsgType.MAKE_SEND_ONCE, A).value().name();
        assertThat(f.send(A, MachMessage.to(so, MsgType.MOVE_SEND_ONCE, 6)).code()).isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.ipc.machPortType(A, so).code()).isEqualTo(KERN_INVALID_NAME);
    }

    /** Destination errors: NULL, unknown names, rights of the wrong kind and dead names are MACH_SEND_INVALID_DEST; a bad reply MACH_SEND_INVALID_REPLY; nothing changes. */
    @Test
    void badDestinationsAndRepliesChangeNothing() {
        assertThat(f.send(A, to(Mach.MACH_PORT_NULL, 1)).code()).isEqualTo(MACH_SEND_INVALID_DEST);
        assertThat(f.send(A, to(0x777, 1)).code()).isEqualTo(MACH_SEND_INVALID_DEST);
        assertThat(f.send(A, MachMessage.to(send, MsgType.MAKE_SEND, 1)).code()).isEqualTo(MACH_SEND_INVALID_DEST);
        assertThat(f.send(A, to(send, 1).withReply(0x777, MsgType.MAKE_SEND_ONCE)).code())
                .isEqualTo(MACH_SEND_INVALID_REPLY);
        assertThat(f.send(A, MachMessage.to(send, MsgType.MOVE_SEND, 1).withReply(send, MsgType.MOVE_SEND)).code())
                .as("one uref cannot be moved twice (GNU: a destination error)").isEqualTo(MACH_SEND_INVALID_DEST);
        assertThat(f.refs(A, send, PortRight.SEND)).isEqualTo(1);
        f.ipc.machPortDestroy(B, port);
        assertThat(f.send(A, to(send, 1)).code()).isEqualTo(MACH_SEND_INVALID_DEST);
    }

    /** A body right the sender does not hold is MACH_SEND_INVALID_RIGHT and the message is destroyed with its header rights (a send-once reply sends SEND_ONCE). */
    @Test
    void aBadBodyRightDestroysTheMessage() {
        int reply = f.allocate(A);
        IpcFixture.Call c = f.send(A, to(send, 1).withReply(reply, MsgType.MAKE_SEND_ONCE)
                .withBody(new MsgItem.Port(0x777, MsgType.COPY_SEND)));
        assertThat(c.code()).isEqualTo(MACH_SEND_INVALID_RIGHT);
        assertThat(f.status(B, port).msgcount()).isZero();
        MachMessage n = f.take(A, reply);
        assertThat(n.id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        assertThat(f.send(A, to(send, 1).withBody(new MsgItem.Port(reply, null))).code()).isEqualTo(MACH_SEND_INVALID_TYPE);
    }

    /** Port-right descriptors: a send right joins the receiver's existing name (+1 uref); a dead name arrives as MACH_PORT_DEAD; PORT_NAME passes the bare name. */
    @Test
    void portDescriptorsCarryRights() {
        int p = f.allocate(A);
        int bSend = f.sendRightIn(A, p, B);
        int dead = f.ipc.machPortAllocate(A, PortRight.DEAD_NAME.value).value();
        f.send(A, to(send, 1).withBody(new MsgItem.Port(p, MsgType.MAKE_SEND), new MsgItem.Port(dead, MsgType.MOVE_SEND),
                new MsgItem.Port(0x1234, MsgType.PORT_NAME), new MsgItem.Port(Mach.MACH_PORT_NULL, MsgType.COPY_SEND)));
        MachMessage m = f.take(B, port);
        assertThat(m.complex()).isTrue();
        assertThat(m.body()).containsExactly(new MsgItem.Port(bSend, MsgType.PORT_SEND),
                new MsgItem.Port(Mach.MACH_PORT_DEAD, MsgType.PORT_SEND), new MsgItem.Port(0x1234, MsgType.PORT_NAME),
                new MsgItem.Port(Mach.MACH_PORT_NULL, MsgType.COPY_SEND));
        assertThat(f.refs(B, bSend, PortRight.SEND)).isEqualTo(2);
        assertThat(f.ipc.machPortType(A, dead).code()).as("moved: its only uref").isEqualTo(KERN_INVALID_NAME);
    }

    /** A receive right moves in a message with the messages queued on it, and seqno/mscount start again. */
    @Test
    void aReceiveRightMovesWithItsQueue() {
        int p = f.allocate(A);
        int bSend = f.sendRightIn(A, p, B);
        f.send(B, to(bSend, 10));
        f.send(B, to(bSend, 11));
        f.take(A, p);
        f.send(A, to(send, 1).withBody(new MsgItem.Port(p, MsgType.MOVE_RECEIVE)));
        assertThat(f.send(B, to(bSend, 12)).code()).as("sends go on while it is in transit").isEqualTo(MACH_MSG_SUCCESS);
        MachMessage m = f.take(B, port);
        MsgItem.Port moved = (MsgItem.Port) m.body().get(0);
        assertThat(moved.type()).isEqualTo(MsgType.PORT_RECEIVE);
        assertThat(moved.name()).as("joins B's send right's name").isEqualTo(bSend);
        assertThat(f.status(B, bSend).mscount()).isZero();
        MachMessage queued = f.take(B, bSend);
        assertThat(queued.id()).isEqualTo(11);
        assertThat(queued.seqno()).as("seqno restarts when the receive right moves").isZero();
        assertThat(f.take(B, bSend).id()).isEqualTo(12);
    }

    /** A message carrying the receive right of its own destination could never be received: it is destroyed, and the port with it. */
    @Test
    void aReceiveRightSentToItselfIsDestroyed() {
        int p = f.allocate(A);
        f.ipc.machPortInsertRight(A, p, A, p, MsgType.MAKE_SEND);
        assertThat(f.send(A, to(p, 1).withBody(new MsgItem.Port(p, MsgType.MOVE_RECEIVE))).code()).isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.type(A, p)).isEqualTo(PortRight.DEAD_NAME.typeBit());
    }

    /**
     * Review F6: a cycle of receive rights closed through a blocked sender's message (P's receive
     * right waits to enter Q, then Q's receive right is sent to P) is found, as GNU Mach sets
     * ip_destination at copyin: the message closing it is destroyed (the send succeeds), so Q
     * dies, the blocked message with P's receive right is destroyed (its send succeeds) and P
     * dies. Before, the sender stayed blocked for ever and both ports were unreachable.
     */
    @Test
    void aCycleThroughABlockedSendersMessageIsDestroyed() {
        int q = f.allocate(A);
        int p = f.allocate(A);
        assertThat(f.ipc.machPortInsertRight(A, p, A, p, MsgType.MAKE_SEND)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortSetQlimit(A, q, 0)).isEqualTo(KERN_SUCCESS);
        IpcFixture.Call blocked = f.msg(A, 501, MachMessage.to(q, MsgType.MAKE_SEND, 1)
                .withBody(new MsgItem.Port(p, MsgType.MOVE_RECEIVE)), Mach.MACH_SEND_MSG, 0, 0, 0);
        assertThat(blocked.done()).isFalse();
        assertThat(f.msg(A, 502, MachMessage.to(p, MsgType.COPY_SEND, 2).withBody(new MsgItem.Port(q, MsgType.MOVE_RECEIVE)),
                Mach.MACH_SEND_MSG, 0, 0, 0).code()).isEqualTo(MACH_MSG_SUCCESS);
        assertThat(blocked.done()).as("its port died with the cycle").isTrue();
        assertThat(blocked.code()).isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.type(A, p)).isEqualTo(PortRight.DEAD_NAME.typeBit());
        assertThat(f.ipc.queuedBytes()).isZero();
    }

    /** A message closing a cycle that would itself block (the queue full) is destroyed at copyin, not blocked. */
    @Test
    void aCycleClosedByAMessageThatWouldBlockIsDestroyedAtOnce() {
        int q = f.allocate(A);
        int p = f.allocate(A);
        assertThat(f.ipc.machPortInsertRight(A, p, A, p, MsgType.MAKE_SEND)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortSetQlimit(A, q, 0)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.machPortSetQlimit(A, p, 0)).isEqualTo(KERN_SUCCESS);
        IpcFixture.Call first = f.msg(A, 501, MachMessage.to(q, MsgType.MAKE_SEND, 1)
                .withBody(new MsgItem.Port(p, MsgType.MOVE_RECEIVE)), Mach.MACH_SEND_MSG, 0, 0, 0);
        IpcFixture.Call second = f.msg(A, 502, MachMessage.to(p, MsgType.COPY_SEND, 2)
                .withBody(new MsgItem.Port(q, MsgType.MOVE_RECEIVE)), Mach.MACH_SEND_MSG, 0, 0, 0);
        assertThat(second.code()).isEqualTo(MACH_MSG_SUCCESS);
        assertThat(first.code()).isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.type(A, p)).isEqualTo(PortRight.DEAD_NAME.typeBit());
    }

    /** Out-of-line memory: the receiver sees the bytes as they were when sent; nothing is copied until someone writes. */
    @Test
    void outOfLineMemoryIsCopiedOnWrite() {
        OolRegion mine = OolRegion.of(new byte[] {1, 2, 3, 4});
        f.send(A, to(send, 1).withBody(new MsgItem.OutOfLine(mine, false)));
        assertThat(mine.shared()).as("no copy yet").isTrue();
        mine.write(0, new byte[] {9});
        assertThat(mine.shared()).isFalse();
        OolRegion got = ((MsgItem.OutOfLine) f.take(B, port).body().get(0)).region();
        assertThat(got.read()).containsExactly(1, 2, 3, 4);
        assertThat(mine.read()).containsExactly(9, 2, 3, 4);
        OolRegion moved = OolRegion.of(new byte[] {5});
        f.send(A, to(send, 2).withBody(new MsgItem.OutOfLine(moved, true)));
        assertThat(((MsgItem.OutOfLine) f.take(B, port).body().get(0)).region().read()).containsExactly(5);
        assertThat(f.send(A, to(send, 3).withBody(new MsgItem.OutOfLine(moved, false))).code())
                .as("deallocate moved the sender's region away").isEqualTo(MACH_SEND_INVALID_MEMORY);
    }

    /** A full queue blocks senders (FIFO) until the receiver makes room; a send-once destination ignores the limit. */
    @Test
    void aFullQueueBlocksSendersButNotSendOnce() {
        f.ipc.machPortSetQlimit(B, port, 1);
        f.send(A, to(send, 1));
        IpcFixture.Call blocked = f.send(A, to(send, 2));
        assertThat(blocked.done()).isFalse();
        assertThat(f.ipc.waiting(TA)).isTrue();
        int so = f.ipc.machPortExtractRight(B, port, MsgType.MAKE_SEND_ONCE, B).value().name();
        assertThat(f.msg(B, TB, MachMessage.to(so, MsgType.MOVE_SEND_ONCE, 3), Mach.MACH_SEND_MSG, 0, 0, 0).code())
                .isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.take(B, port).id()).isEqualTo(1);
        assertThat(blocked.done()).as("the send-once message counts in the queue").isFalse();
        assertThat(f.take(B, port).id()).isEqualTo(3);
        assertThat(blocked.code()).isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.take(B, port).id()).isEqualTo(2);
    }

    /** MACH_SEND_TIMEOUT: 0 fails at once, t fails after t ms of virtual time; the message's rights go back to the sender. */
    @Test
    void sendTimeoutsReturnTheRights() {
        f.ipc.machPortSetQlimit(B, port, 0);
        int mine = f.allocate(A);
        f.ipc.machPortModRefs(A, send, PortRight.SEND.value, 1);
        IpcFixture.Call now = f.sendTimeout(A, MachMessage.to(send, MsgType.MOVE_SEND, 1).withReply(mine, MsgType.MAKE_SEND), 0);
        assertThat(now.code()).isEqualTo(MACH_SEND_TIMED_OUT);
        assertThat(f.refs(A, send, PortRight.SEND)).as("pseudo-received: the moved uref is back").isEqualTo(2);
        assertThat(f.refs(A, mine, PortRight.SEND)).as("the made right lands on the receive right's name").isEqualTo(1);
        IpcFixture.Call later = f.sendTimeout(A, to(send, 2), 30);
        f.advanceMs(29);
        assertThat(later.done()).isFalse();
        f.advanceMs(1);
        assertThat(later.code()).isEqualTo(MACH_SEND_TIMED_OUT);
        assertThat(f.ipc.waiting(TA)).isFalse();
    }

    /** Receive timeouts: 0 polls, t waits t ms of virtual time; without MACH_RCV_TIMEOUT it waits until a message comes. */
    @Test
    void receiveTimeouts() {
        assertThat(f.poll(B, port).code()).isEqualTo(MACH_RCV_TIMED_OUT);
        IpcFixture.Call c = f.msg(B, TB, null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_TIMEOUT, IpcFixture.BIG, port, 50);
        f.advanceMs(49);
        assertThat(c.done()).isFalse();
        f.advanceMs(1);
        assertThat(c.code()).isEqualTo(MACH_RCV_TIMED_OUT);
        IpcFixture.Call forever = f.receive(B, port);
        f.advanceMs(1_000_000);
        assertThat(forever.done()).isFalse();
        f.send(A, to(send, 4));
        assertThat(forever.message().id()).isEqualTo(4);
    }

    /** MACH_RCV_TOO_LARGE: with MACH_RCV_LARGE the message stays and the size is returned; without, it is destroyed and its header returned. */
    @Test
    void tooLargeMessages() {
        int reply = f.allocate(A);
        f.send(A, to(send, 1).withReply(reply, MsgType.MAKE_SEND_ONCE).withBody(new MsgItem.Inline(new byte[100])));
        int size = MachMessage.HEADER_SIZE + 104;
        MsgReturn large = f.msg(B, TB, null, Mach.MACH_RCV_MSG | Mach.MACH_RCV_LARGE, 64, port, 0).result();
        assertThat(large.code()).isEqualTo(MACH_RCV_TOO_LARGE);
        assertThat(large.size()).isEqualTo(size);
        assertThat(f.status(B, port).msgcount()).isEqualTo(1);
        MsgReturn small = f.msg(B, TB, null, Mach.MACH_RCV_MSG, 64, port, 0).result();
        assertThat(small.code()).isEqualTo(MACH_RCV_TOO_LARGE);
        assertThat(small.message().id()).isEqualTo(1);
        assertThat(small.message().remotePort()).isEqualTo(Mach.MACH_PORT_NULL);
        assertThat(small.message().bits()).as("GNU's copyout_dest: the reply's type stays in the bits")
                .isEqualTo(MsgType.PORT_SEND.value << 8 | MsgType.PORT_SEND_ONCE.value);
        assertThat(f.status(B, port).msgcount()).isZero();
        assertThat(f.take(A, reply).id()).as("the destroyed reply right said SEND_ONCE").isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
    }

    /** Receive errors: MACH_RCV_INVALID_NAME for names without a receive right, MACH_RCV_IN_SET for a member, MACH_RCV_PORT_DIED when the port dies. */
    @Test
    void receiveErrors() {
        assertThat(f.receive(A, send).code()).isEqualTo(MACH_RCV_INVALID_NAME);
        assertThat(f.receive(A, 0x777).code()).isEqualTo(MACH_RCV_INVALID_NAME);
        int set = f.allocateSet(B);
        IpcFixture.Call waiting = f.receive(B, port);
        f.ipc.machPortMoveMember(B, port, set);
        assertThat(waiting.code()).isEqualTo(MACH_RCV_PORT_CHANGED);
        assertThat(f.receive(B, port).code()).isEqualTo(MACH_RCV_IN_SET);
        f.ipc.machPortMoveMember(B, port, Mach.MACH_PORT_NULL);
        IpcFixture.Call dies = f.receive(B, port);
        f.ipc.machPortModRefs(B, port, PortRight.RECEIVE.value, -1);
        assertThat(dies.code()).isEqualTo(MACH_RCV_PORT_DIED);
    }

    /** A port set serves its members' messages oldest first; the message names its port; a waiting set receiver is woken by any member. */
    @Test
    void portSetsReceiveFromAnyMemberOldestFirst() {
        int other = f.allocate(B);
        int otherSend = f.sendRightIn(B, other, A);
        int set = f.allocateSet(B);
        f.ipc.machPortMoveMember(B, port, set);
        f.ipc.machPortMoveMember(B, other, set);
        f.send(A, to(otherSend, 1));
        f.send(A, to(send, 2));
        f.send(A, to(otherSend, 3));
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            MachMessage m = f.take(B, set);
            order.add(m.id());
            assertThat(m.localPort()).isEqualTo(m.id() == 2 ? port : other);
        }
        assertThat(order).containsExactly(1, 2, 3);
        IpcFixture.Call w = f.receive(B, set);
        f.send(A, to(send, 4));
        assertThat(w.message().id()).isEqualTo(4);
    }

    /** Messages from one thread arrive in the order sent, through blocked sends, with none lost or duplicated. */
    @Test
    void perSenderOrderHoldsThroughAFullQueue() {
        f.ipc.machPortSetQlimit(B, port, 2);
        List<Integer> received = new ArrayList<>();
        int next = 0;
        for (int round = 0; round < 40; round++) {
            IpcFixture.Call c = f.send(A, to(send, next++));
            if (round % 3 == 0) {
                received.add(f.take(B, port).id());
            }
            while (!c.done()) {
                received.add(f.take(B, port).id());
            }
        }
        while (f.status(B, port).msgcount() > 0) {
            received.add(f.take(B, port).id());
        }
        assertThat(received).containsExactlyElementsOf(java.util.stream.IntStream.range(0, 40).boxed().toList());
    }

    /** A thread that ends while blocked leaves its queue: its message is destroyed and it is never answered. */
    @Test
    void aThreadThatEndsWhileBlockedLeavesTheQueue() {
        f.ipc.machPortSetQlimit(B, port, 0);
        IpcFixture.Call blocked = f.send(A, to(send, 1));
        f.ipc.threadEnded(TA);
        f.ipc.machPortSetQlimit(B, port, 5);
        assertThat(blocked.done()).isFalse();
        assertThat(f.status(B, port).msgcount()).isZero();
        IpcFixture.Call r = f.receive(B, port);
        f.ipc.threadEnded(TB);
        f.send(A, to(send, 2));
        assertThat(r.done()).isFalse();
        assertThat(f.status(B, port).msgcount()).isEqualTo(1);
    }

    /** A port dying under a blocked sender: the message is destroyed and the send returns MACH_MSG_SUCCESS. */
    @Test
    void aBlockedSenderWhosePortDiesSucceeds() {
        f.ipc.machPortSetQlimit(B, port, 0);
        IpcFixture.Call blocked = f.send(A, to(send, 1));
        f.ipc.machPortDestroy(B, port);
        assertThat(blocked.code()).isEqualTo(MACH_MSG_SUCCESS);
        assertThat(f.type(A, send)).isEqualTo(PortRight.DEAD_NAME.typeBit());
    }

    /** MACH_SEND_MSG without a message (no header) is MACH_SEND_MSG_TOO_SMALL. */
    @Test
    void sendingNoMessageIsTooSmall() {
        assertThat(f.msg(A, TA, null, Mach.MACH_SEND_MSG, 0, 0, 0).code()).isEqualTo(MACH_SEND_MSG_TOO_SMALL);
    }

    /** mach_msg on a task with no name space is KERN_INVALID_TASK. */
    @Test
    void unknownTask() {
        assertThat(f.msg(99, 1, to(send, 1), Mach.MACH_SEND_MSG, 0, 0, 0).code()).isEqualTo(KERN_INVALID_TASK);
    }

    /**
     * A receiver waiting on a port whose receive right its task loses - moved away in a message or
     * taken by mach_port_extract_right - gets MACH_RCV_PORT_DIED, as GNU Mach's
     * ipc_port_clear_receiver tells it (the manual: "the caller lost the rights specified by
     * rcv_name"; MACH_RCV_PORT_CHANGED is only for a port moved into a set); one waiting on a
     * destroyed set gets MACH_RCV_PORT_DIED too.
     */
    @Test
    void receiversLearnThatTheyLostTheirPortOrTheirSetDied() {
        IpcFixture.Call waiting = f.receive(B, port);
        int aPort = f.allocate(A);
        int aSend = f.sendRightIn(A, aPort, B);
        f.send(B, to(aSend, 1).withBody(new MsgItem.Port(port, MsgType.MOVE_RECEIVE)));
        assertThat(waiting.code()).as("moved away in a message").isEqualTo(MACH_RCV_PORT_DIED);
        int moved = ((MsgItem.Port) f.take(A, aPort).body().get(0)).name();
        IpcFixture.Call onA = f.receive(A, moved);
        f.ipc.machPortExtractRight(A, moved, MsgType.MOVE_RECEIVE, B).orThrow("mach_port_extract_right");
        assertThat(onA.code()).as("taken by mach_port_extract_right").isEqualTo(MACH_RCV_PORT_DIED);
        int set = f.allocateSet(A);
        IpcFixture.Call onSet = f.receive(A, set);
        f.ipc.machPortDestroy(A, set);
        assertThat(onSet.code()).isEqualTo(MACH_RCV_PORT_DIED);
    }

    /** A send right received by a name at its maximum (0xFFFE) is merged silently: urefs stay pegged there. */
    @Test
    void aSendRightReceivedAtTheMaximumIsPegged() {
        int p = f.allocate(A);
        int bSend = f.sendRightIn(A, p, B);
        f.ipc.machPortModRefs(B, bSend, PortRight.SEND.value, Mach.SEND_UREFS_MAX - 1);
        int own = f.allocate(B);
        int aToOwn = f.sendRightIn(B, own, A);
        f.send(A, to(aToOwn, 1).withBody(new MsgItem.Port(p, MsgType.MAKE_SEND)));
        MachMessage m = f.take(B, own);
        assertThat(m.body()).containsExactly(new MsgItem.Port(bSend, MsgType.PORT_SEND));
        assertThat(f.refs(B, bSend, PortRight.SEND)).isEqualTo(Mach.SEND_UREFS_MAX);
        f.ipc.machPortModRefs(B, bSend, PortRight.SEND.value, -Mach.SEND_UREFS_MAX);
        assertThat(f.status(A, p).srights()).as("the merged right was counted once").isFalse();
    }
}
