package io.machxp.kernel.ipc;

import static io.machxp.kernel.ipc.IpcFixture.A;
import static io.machxp.kernel.ipc.IpcFixture.B;
import static io.machxp.kernel.ipc.IpcFixture.TB;
import static io.machxp.kernel.ipc.IpcFixture.to;
import static io.machxp.kernel.ipc.KernReturn.*;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A streamed receive between two messages ({@link IpcCore#holdReceive}): the thread takes no
 * message, yet what ends a receive waiting on the name ends the hold with the same code, as
 * docs/mach-ipc.md promises ("a thread in a streamed receive is inside a call between messages too").
 */
class HeldReceiveTest {
    private final IpcFixture f = new IpcFixture();
    private final int port = f.allocate(B);
    /** A's send right to B's port. */
    private final int send = f.sendRightIn(B, port, A);

    private IpcFixture.Call hold(long task, int tid, int name) {
        IpcFixture.Call c = new IpcFixture.Call();
        f.ipc.holdReceive(task, tid, name, c::accept);
        return c;
    }

    /** A held thread is blocked in mach_msg but takes nothing: messages stay queued for the next receive. */
    @Test
    void aHoldTakesNoMessage() {
        IpcFixture.Call held = hold(B, TB, port);
        assertThat(f.ipc.waiting(TB)).isTrue();
        f.send(A, to(send, 1));
        assertThat(held.done()).isFalse();
        assertThat(f.status(B, port).msgcount()).isEqualTo(1);
        assertThat(f.ipc.releaseHold(TB)).as("the name to receive on next").isEqualTo(port);
        assertThat(f.ipc.waiting(TB)).isFalse();
        assertThat(f.ipc.releaseHold(TB)).as("released once").isEqualTo(Mach.MACH_PORT_NULL);
        f.ipc.machPortDestroy(B, port);
        assertThat(held.done()).as("a released hold is not answered").isFalse();
    }

    /**
     * The port's death, the right moved away (in a message, by mach_port_extract_right, or dying
     * with a port-destroyed request), the port joining a set, the set's death and the task's end
     * end a hold as they end a waiting receive, and leave the thread waiting for nothing.
     */
    @Test
    void whatEndsAWaitingReceiveEndsAHold() {
        IpcFixture.Call dies = hold(B, TB, port);
        f.ipc.machPortDestroy(B, port);
        assertEnded(dies, MACH_RCV_PORT_DIED);

        int p2 = f.allocate(B);
        int set = f.allocateSet(B);
        IpcFixture.Call changed = hold(B, TB, p2);
        f.ipc.machPortMoveMember(B, p2, set);
        assertEnded(changed, MACH_RCV_PORT_CHANGED);

        IpcFixture.Call onSet = hold(B, TB, set);
        f.ipc.machPortDestroy(B, set);
        assertEnded(onSet, MACH_RCV_PORT_DIED);

        int p3 = f.allocate(B);
        IpcFixture.Call moved = hold(B, TB, p3);
        int aPort = f.allocate(A);
        int aSend = f.sendRightIn(A, aPort, B);
        f.send(B, to(aSend, 1).withBody(new MsgItem.Port(p3, MsgType.MOVE_RECEIVE)));
        assertEnded(moved, MACH_RCV_PORT_DIED);

        int p4 = f.allocate(B);
        IpcFixture.Call extracted = hold(B, TB, p4);
        f.ipc.machPortExtractRight(B, p4, MsgType.MOVE_RECEIVE, A).orThrow("mach_port_extract_right");
        assertEnded(extracted, MACH_RCV_PORT_DIED);

        int p5 = f.allocate(B);
        int backup = f.allocate(B);
        f.ipc.machPortRequestNotification(B, p5, Mach.MACH_NOTIFY_PORT_DESTROYED, 0, backup, MsgType.MAKE_SEND_ONCE);
        IpcFixture.Call toBackup = hold(B, TB, p5);
        f.ipc.machPortDestroy(B, p5);
        assertEnded(toBackup, MACH_RCV_PORT_DIED);

        int p6 = f.allocate(B);
        IpcFixture.Call taskEnds = hold(B, TB, p6);
        f.ipc.spaceDestroy(B);
        assertEnded(taskEnds, MACH_RCV_PORT_DIED);
    }

    private void assertEnded(IpcFixture.Call held, KernReturn code) {
        assertThat(held.code()).isEqualTo(code);
        assertThat(f.ipc.waiting(TB)).as("the thread waits for nothing after %s", code).isFalse();
    }

    /** What does not end a waiting receive does not end a hold: a member leaving or dying, a rename. */
    @Test
    void whatLeavesAWaitingReceiveLeavesAHold() {
        int set = f.allocateSet(B);
        f.ipc.machPortMoveMember(B, port, set);
        IpcFixture.Call onSet = hold(B, TB, set);
        f.ipc.machPortMoveMember(B, port, Mach.MACH_PORT_NULL);
        f.ipc.machPortMoveMember(B, port, set);
        f.ipc.machPortDestroy(B, port);
        assertThat(onSet.done()).as("a member left, another died").isFalse();
        assertThat(f.ipc.releaseHold(TB)).isEqualTo(set);

        int p = f.allocate(B);
        IpcFixture.Call renamed = hold(B, TB, p);
        assertThat(f.ipc.machPortRename(B, p, 0x9999)).isEqualTo(KERN_SUCCESS);
        assertThat(renamed.done()).isFalse();
        assertThat(f.ipc.releaseHold(TB)).as("the next receive uses the port's new name").isEqualTo(0x9999);
        int s2 = f.allocateSet(B);
        hold(B, TB, s2);
        assertThat(f.ipc.machPortRename(B, s2, 0x7777)).isEqualTo(KERN_SUCCESS);
        assertThat(f.ipc.releaseHold(TB)).as("and a set's").isEqualTo(0x7777);
    }

    /** A receiver waiting on a port that a hold is on gets its messages; the hold stays. */
    @Test
    void aReceiverBesideAHoldGetsTheMessage() {
        int other = TB + 1;
        IpcFixture.Call held = hold(B, other, port);
        IpcFixture.Call waiting = f.receive(B, port);
        f.send(A, to(send, 7));
        assertThat(waiting.message().id()).isEqualTo(7);
        assertThat(held.done()).isFalse();
        assertThat(f.ipc.waiting(other)).isTrue();
    }

    /** A name that is no longer one to receive on answers at once, as a receive would. */
    @Test
    void aHoldOnANameGoneAnswersAtOnce() {
        assertThat(hold(B, TB, 0x777).code()).isEqualTo(MACH_RCV_INVALID_NAME);
        int set = f.allocateSet(B);
        f.ipc.machPortMoveMember(B, port, set);
        assertThat(hold(B, TB, port).code()).isEqualTo(MACH_RCV_IN_SET);
        assertThat(f.ipc.waiting(TB)).isFalse();
    }

    /** An interrupted hold answers MACH_RCV_INTERRUPTED; a thread's end takes it out quietly. */
    @Test
    void interruptAndThreadEndLeaveNoHoldBehind() {
        IpcFixture.Call held = hold(B, TB, port);
        assertThat(f.ipc.interrupt(TB)).isEqualTo(MACH_RCV_INTERRUPTED);
        assertThat(f.ipc.waiting(TB)).isFalse();

        IpcFixture.Call ended = hold(B, TB, port);
        f.ipc.threadEnded(TB);
        f.ipc.machPortDestroy(B, port);
        assertThat(held.done()).isFalse();
        assertThat(ended.done()).isFalse();
    }
}
