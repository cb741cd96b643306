package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.LinkInsertRight;
import io.machxp.proto.link.LinkRight;
import org.junit.jupiter.api.Test;

/**
 * The hop bound on frames passed along proxies ({@link Hops}, docs/mach-ipc.md "Trust between
 * kernels"), in the sans-IO cores with links delivered by hand ({@link IpcCluster}): a rogue
 * kernel 3 (frames a test makes, never a core) gives kernels 1 and 2 proxies for one port uid that
 * point at each other; a message to it is passed round a bounded number of times, then destroyed,
 * and the ref frames it made end too - counted in frames, not time. Honest paths longer than the
 * cluster (a receive right that moves on while messages chase it) still deliver.
 */
class HopBoundTest {
    private static final int ROGUE = 3;
    private static final int NAME = 0x500;
    private static final int INBOX = 0x600;
    /** Far more frames than a bounded loop makes (about 2 x bound^2), far fewer than "for ever". */
    private static final int MAX_FRAMES = 50_000;

    private static MachMessage to(int dest, int id) {
        return MachMessage.to(dest, MsgType.COPY_SEND, id);
    }

    /** Kernels 1 and 2 of a two-core cluster, each holding under NAME a send right to port3.1 through a proxy to the other. */
    private static IpcCluster loop() {
        IpcCluster c = new IpcCluster(2);
        io.machxp.proto.link.PortUid uid = io.machxp.proto.link.PortUid.newBuilder().setOrigin(ROGUE).setId(1).build();
        c.inject(ROGUE, 1, insert(1, uid, 2));
        c.inject(ROGUE, 2, insert(2, uid, 1));
        assertThat(c.type(1, NAME)).isEqualTo(PortRight.SEND.typeBit());
        assertThat(c.type(2, NAME)).isEqualTo(PortRight.SEND.typeBit());
        return c;
    }

    /** mach_port_insert_right from the rogue: a send right to {@code uid} "whose receive right is on {@code receiver}". */
    private static LinkFrame insert(int task, io.machxp.proto.link.PortUid uid, int receiver) {
        return LinkFrame.newBuilder().setInsert(LinkInsertRight.newBuilder().setTask(task).setName(NAME)
                .setRight(LinkRight.newBuilder().setPort(uid).setType(MsgType.PORT_SEND.value)
                        .setReceiverKernel(receiver))).build();
    }

    private static int frames(IpcCluster c, LinkFrame.BodyCase kind) {
        return c.deliveredByKind.getOrDefault(kind, 0);
    }

    /** Kernel {@code from}'s task gives kernel {@code to}'s a send right to a new port and sends to it; it arrives. */
    private static void assertMessagesStillArrive(IpcCluster c, int from, int to, int name) {
        int port = c.allocate(to);
        c.give(to, port, MsgType.MAKE_SEND, from, name);
        assertThat(c.send(from, to(name, 99).withBody(MachMessage.int32(from))).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(c.deliverAll(MAX_FRAMES)).isTrue();
        MachMessage got = c.take(to, port);
        assertThat(got.id()).isEqualTo(99);
        assertThat(got.intItem(0)).isEqualTo(from);
    }

    @Test
    void aMessageToProxiesThatPointAtEachOtherIsDroppedAtTheHopBound() {
        IpcCluster c = loop();
        int bound = Hops.bound(2);
        assertThat(c.send(1, to(NAME, 7).withBody(MachMessage.int32(7))).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(c.deliverAll(MAX_FRAMES)).as("the loop ends (before the hop bound: it never did)").isTrue();
        // made by kernel 1 (hops 0), passed on `bound` times (hops 1..bound), dropped by the kernel it then reached
        assertThat(frames(c, LinkFrame.BodyCase.MESSAGE)).isEqualTo(bound + 1);
        // each of those bound + 1 arrivals at a proxy registered its send right: a RefTransfer, itself bounded
        assertThat(frames(c, LinkFrame.BodyCase.TRANSFER)).isEqualTo((bound + 1) * (bound + 1));
        assertThat(c.hopBoundDrops.get(0)).isEqualTo("kernel 2: LinkMessage for port3.1 from 1 to 1 (bound " + bound + ")");
        assertThat(c.hopBoundDrops.stream().filter(d -> d.contains("LinkMessage"))).hasSize(1);
        assertThat(c.hopBoundDrops.stream().filter(d -> d.contains("RefTransfer"))).hasSize(bound + 1);
        assertThat(c.toOthers).as("nothing went to the rogue").isEmpty();
        assertThat(c.type(1, NAME)).as("the names stay send rights").isEqualTo(PortRight.SEND.typeBit());
        assertThat(c.type(2, NAME)).isEqualTo(PortRight.SEND.typeBit());
        assertMessagesStillArrive(c, 1, 2, NAME + 1);
        assertMessagesStillArrive(c, 2, 1, NAME + 1);
    }

    /** As a message to a dead port: the destroyed message's send-once reply right comes home as SEND_ONCE. */
    @Test
    void aLoopingRequestsReplyRightGetsTheSendOnceNotification() {
        IpcCluster c = loop();
        int reply = c.allocate(1);
        c.send(1, to(NAME, 7).withReply(reply, MsgType.MAKE_SEND_ONCE));
        assertThat(c.deliverAll(MAX_FRAMES)).isTrue();
        assertThat(c.take(1, reply).id()).isEqualTo(Mach.MACH_NOTIFY_SEND_ONCE);
        assertThat(c.poll(1, reply).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
    }

    /**
     * A send-once right to the looping port: destroying the message must not send SEND_ONCE to
     * that port (it would loop in turn, and its own destruction send another, for ever).
     */
    @Test
    void aMessageThroughASendOnceRightToTheLoopEndsWithoutANotificationThatLoopsInTurn() {
        IpcCluster c = loop();
        LinkFrame once = insert(1, io.machxp.proto.link.PortUid.newBuilder().setOrigin(ROGUE).setId(1).build(), 2);
        c.inject(ROGUE, 1, once.toBuilder().setInsert(once.getInsert().toBuilder().setName(INBOX)
                .setRight(once.getInsert().getRight().toBuilder().setType(MsgType.PORT_SEND_ONCE.value))).build());
        assertThat(c.type(1, INBOX)).isEqualTo(PortRight.SEND_ONCE.typeBit());
        assertThat(c.send(1, MachMessage.to(INBOX, MsgType.MOVE_SEND_ONCE, 8)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(c.deliverAll(MAX_FRAMES)).as("the loop ends").isTrue();
        assertThat(c.hopBoundDrops.stream().filter(d -> d.contains("LinkMessage"))).hasSize(1);
        assertMessagesStillArrive(c, 2, 1, NAME + 2);
    }

    @Test
    void aPortFlushAndARefReleaseInTheLoopAreDroppedAtTheHopBound() {
        IpcCluster c = loop();
        int bound = Hops.bound(2);
        // kernel 1 keeps a send-once right to the port, so its proxy stays when its send right goes
        // (a proxy with no right left here is forgotten, RemoteRights: the loop would end sooner)
        LinkFrame once = insert(1, io.machxp.proto.link.PortUid.newBuilder().setOrigin(ROGUE).setId(1).build(), 2);
        c.inject(ROGUE, 1, once.toBuilder().setInsert(once.getInsert().toBuilder().setName(INBOX)
                .setRight(once.getInsert().getRight().toBuilder().setType(MsgType.PORT_SEND_ONCE.value))).build());
        c.inject(ROGUE, 1, LinkFrame.newBuilder().setFlush(io.machxp.proto.link.PortFlush.newBuilder()
                .setPort(io.machxp.proto.link.PortUid.newBuilder().setOrigin(ROGUE).setId(1)).setOrigin(ROGUE)).build());
        assertThat(c.core(1).machPortDeallocate(1, NAME)).isEqualTo(KernReturn.KERN_SUCCESS); // RefRelease towards "2"
        assertThat(c.deliverAll(MAX_FRAMES)).as("the loop ends").isTrue();
        // the rogue's marker: passed on `bound` times by the two; the release: made by kernel 1, then as many
        assertThat(frames(c, LinkFrame.BodyCase.FLUSH)).isEqualTo(bound);
        assertThat(frames(c, LinkFrame.BodyCase.RELEASE)).isEqualTo(bound + 1);
        // and kernel 1's report of the send-once right the rogue gave it (SendOnceRefs) goes round the loop too
        assertThat(c.hopBoundDrops).containsExactlyInAnyOrder(
                "kernel 1: PortFlush for port3.1 from 2 to 2 (bound " + bound + ")",
                "kernel 2: RefTransfer for port3.1 from 1 to 1 (bound " + bound + ")",
                "kernel 2: RefRelease for port3.1 from 1 to 1 (bound " + bound + ")");
    }

    /**
     * Honest: a receive right moves 1 -> 2 -> 3 while kernel 4 keeps sending to it (messages
     * queued on it, on the link to its old kernels, passed on twice): all arrive, in order, once.
     */
    @Test
    void messagesChasingAReceiveRightAcrossThreeKernelsAllArriveInOrder() {
        IpcCluster c = new IpcCluster(4);
        int port = c.allocate(1);
        c.give(1, port, MsgType.MAKE_SEND, 4, NAME);
        int inbox2 = c.allocate(2);
        c.give(2, inbox2, MsgType.MAKE_SEND, 1, INBOX);
        int inbox3 = c.allocate(3);
        c.give(3, inbox3, MsgType.MAKE_SEND, 2, INBOX);
        c.send(4, to(NAME, 1));
        c.deliver(4, 1); // queued on kernel 1: it follows the receive right
        c.send(4, to(NAME, 2));
        c.send(4, to(NAME, 3));
        c.send(1, to(INBOX, 100).withBody(new MsgItem.Port(port, MsgType.MOVE_RECEIVE)));
        c.deliver(1, 2);
        int at2 = ((MsgItem.Port) c.take(2, inbox2).body().get(0)).name();
        c.send(4, to(NAME, 4));
        c.send(2, to(INBOX, 101).withBody(new MsgItem.Port(at2, MsgType.MOVE_RECEIVE)));
        c.deliver(2, 3);
        int at3 = ((MsgItem.Port) c.take(3, inbox3).body().get(0)).name();
        c.send(4, to(NAME, 5));
        assertThat(c.deliverAll(MAX_FRAMES)).isTrue();
        c.send(4, to(NAME, 6));
        assertThat(c.deliverAll(MAX_FRAMES)).isTrue();
        for (int id = 1; id <= 6; id++) {
            assertThat(c.take(3, at3).id()).as("message %d, in order, once", id).isEqualTo(id);
        }
        assertThat(c.poll(3, at3).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(c.hopBoundDrops).isEmpty();
    }

    /**
     * Honest, and longer than the cluster: a receive right goes round kernels 1 -> 2 -> 3 -> 1 ...
     * twenty times, and each time a message from kernel 4 reaches the kernel the right just left,
     * which passes it on behind it: the message is passed on twenty times in a cluster of four
     * kernels (so a bound of the kernels, or of twice them, would destroy it), and still arrives.
     */
    @Test
    void aMessageChasingAReceiveRightRoundTheClusterMoreTimesThanThereAreKernelsArrives() {
        int moves = 20;
        IpcCluster c = new IpcCluster(4);
        int[] inbox = new int[4];
        for (int k = 1; k <= 3; k++) {
            inbox[k] = c.allocate(k);
        }
        for (int k = 1; k <= 3; k++) {
            c.give(next(k), inbox[next(k)], MsgType.MAKE_SEND, k, INBOX); // kernel k can send to the next one's inbox
        }
        int right = c.allocate(1);
        c.give(1, right, MsgType.MAKE_SEND, 4, NAME);
        c.send(4, to(NAME, 77).withBody(MachMessage.int32(77)));
        int at = 1;
        int from = 4; // the link the message waits on: from -> at
        int messagesBefore = frames(c, LinkFrame.BodyCase.MESSAGE);
        for (int i = 0; i < moves; i++) {
            int to = next(at);
            c.send(at, to(INBOX, 1000 + i).withBody(new MsgItem.Port(right, MsgType.MOVE_RECEIVE)));
            c.deliver(from, at); // the message reaches the kernel the right just left: passed on behind it
            c.deliverNext(at, to); // the carrier, only
            right = ((MsgItem.Port) c.take(to, inbox[to]).body().get(0)).name();
            from = at;
            at = to;
            c.deliverAllExcept(from, at); // everything else settles (flush markers, counts)
        }
        assertThat(c.deliverAll(MAX_FRAMES)).isTrue();
        assertThat(frames(c, LinkFrame.BodyCase.MESSAGE) - messagesBefore - moves)
                .as("the message's crossings: to kernel 1, then once per move").isEqualTo(moves + 1);
        assertThat(moves).isGreaterThan(2 * 4);
        MachMessage got = c.take(at, right);
        assertThat(got.id()).isEqualTo(77);
        assertThat(got.intItem(0)).isEqualTo(77);
        assertThat(c.poll(at, right).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(c.hopBoundDrops).isEmpty();
    }

    /** The kernel after {@code k} in the round 1 -> 2 -> 3 -> 1. */
    private static int next(int k) {
        return k % 3 + 1;
    }
}
