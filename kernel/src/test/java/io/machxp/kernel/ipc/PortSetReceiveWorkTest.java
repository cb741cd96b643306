package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Review F2 (ipc-review.md): a receive on a port set looked at every member to find the oldest
 * first message, on the kernel's one core thread (4.4 ms per message at 65,000 members, so one
 * client's set could saturate the core). Now the set keeps its members with messages ordered by
 * their first message's arrival: a receive looks at one member ({@link IpcWork#setMembersVisited},
 * counted, not timed), and still takes the oldest message of all its members.
 */
class PortSetReceiveWorkTest {
    private final IpcFixture f = new IpcFixture();

    @Test
    void aReceiveOnALargeSetLooksAtOneMemberAndTakesTheOldestMessage() {
        int set = f.allocateSet(A);
        int members = 5_000;
        int[] ports = new int[members];
        int[] sends = new int[members];
        for (int i = 0; i < members; i++) {
            ports[i] = f.allocate(A);
            sends[i] = f.sendRightIn(A, ports[i], A);
            assertThat(f.ipc.machPortMoveMember(A, ports[i], set)).isEqualTo(KernReturn.KERN_SUCCESS);
        }
        // messages on members in an order unrelated to the order they joined: 3 rounds over 40 members
        int[] order = new int[120];
        for (int i = 0; i < order.length; i++) {
            order[i] = (i * 997 + (i / 40) * 13) % members;
            assertThat(f.send(A, IpcFixture.to(sends[order[i]], i)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        }
        long before = f.ipc.work.setMembersVisited;
        for (int i = 0; i < order.length; i++) {
            MachMessage m = f.take(A, set);
            assertThat(m.id()).as("the oldest message of all members first").isEqualTo(i);
            assertThat(m.localPort()).as("received on the member it was sent to").isEqualTo(ports[order[i]]);
        }
        assertThat(f.poll(A, set).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(f.ipc.work.setMembersVisited - before).as("members looked at for %d receives on a set of %d",
                order.length, members).isLessThanOrEqualTo(order.length);
    }

    @Test
    void aWaitingReceiverOnALargeSetIsServedLookingAtOneMember() {
        int set = f.allocateSet(A);
        int last = 0;
        for (int i = 0; i < 5_000; i++) {
            last = f.allocate(A);
            f.ipc.machPortMoveMember(A, last, set);
        }
        int send = f.sendRightIn(A, last, A);
        for (int round = 0; round < 50; round++) {
            IpcFixture.Call waiting = f.receive(A, set);
            assertThat(waiting.done()).isFalse();
            long before = f.ipc.work.setMembersVisited;
            assertThat(f.send(A, IpcFixture.to(send, round)).code()).isEqualTo(KernReturn.MACH_MSG_SUCCESS);
            assertThat(waiting.message().id()).isEqualTo(round);
            assertThat(f.ipc.work.setMembersVisited - before).isLessThanOrEqualTo(1);
        }
    }

    @Test
    void aMemberLeavingOrMovingTakesItsMessagesFromTheSet() {
        int set = f.allocateSet(A);
        int other = f.allocateSet(A);
        int p = f.allocate(A);
        int q = f.allocate(A);
        int toP = f.sendRightIn(A, p, A);
        int toQ = f.sendRightIn(A, q, A);
        f.ipc.machPortMoveMember(A, p, set);
        f.ipc.machPortMoveMember(A, q, set);
        f.send(A, IpcFixture.to(toP, 1));
        f.send(A, IpcFixture.to(toQ, 2));
        f.ipc.machPortMoveMember(A, p, other);
        assertThat(f.take(A, set).id()).isEqualTo(2);
        assertThat(f.poll(A, set).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(f.take(A, other).id()).isEqualTo(1);
        f.send(A, IpcFixture.to(toP, 3));
        f.ipc.machPortMoveMember(A, p, Mach.MACH_PORT_NULL);
        assertThat(f.poll(A, other).code()).isEqualTo(KernReturn.MACH_RCV_TIMED_OUT);
        assertThat(f.take(A, p).id()).isEqualTo(3);
    }
}
