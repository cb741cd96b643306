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
        assertThat(f.ipc.releaseHold(TB)).isTrue();
        assertThat(f.ipc.waiting(TB)).isFalse();
        assertThat(f.ipc.releaseHold(TB)).as("released once").isFalse();
        f.ipc.machPortDestroy(B, port);
        assertThat(held.done()).as("a released hold is not answered").isFalse();
    }

    /** The port's death, the right moved away and the port joining a set end a hold as they end a waiting receive. */
    @Test
    void whatEndsAWaitingReceiveEndsAHold() {
        IpcFixture.Call dies = hold(B, TB, port);
        f.ipc.machPortDestroy(B, port);
        assertThat(dies.code()).isEqualTo(MACH_RCV_PORT_DIED);
        assertThat(f.ipc.waiting(TB)).isFalse();

        int p2 = f.allocate(B);
        int set = f.allocateSet(B);
        IpcFixture.Call changed = hold(B, TB, p2);
        f.ipc.machPortMoveMember(B, p2, set);
        assertThat(changed.code()).isEqualTo(MACH_RCV_PORT_CHANGED);

        IpcFixture.Call onSet = hold(B, TB, set);
        f.ipc.machPortDestroy(B, set);
        assertThat(onSet.code()).as("the set's death").isEqualTo(MACH_RCV_PORT_DIED);

        int p3 = f.allocate(B);
        IpcFixture.Call moved = hold(B, TB, p3);
        int aPort = f.allocate(A);
        int aSend = f.sendRightIn(A, aPort, B);
        f.send(B, to(aSend, 1).withBody(new MsgItem.Port(p3, MsgType.MOVE_RECEIVE)));
        assertThat(moved.code()).as("moved away in a message").isEqualTo(MACH_RCV_PORT_DIED);
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
