package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Review K2 (ipcchaos): while kernel W handles a path's death (another kernel X declared dead,
 * or a PortDied via a forwarder), only the proxy whose way ran through that path is recorded
 * PATH_DIED + X. A port that truly dies in that window, here a receive right carried in a message
 * the dying proxy held and now destroys, is recorded as dead for good (DIED, or, for an own uid,
 * no record: "an own uid I do not know is dead"). Recorded PATH_DIED + X, a stale right to it
 * naming a third live kernel m made W a live proxy towards m for a port that no longer exists.
 *
 * <p>Kernels: W = 1, O = 2 (P's origin, and the holder of the stale right), X = 3 (dies), m = 4.
 * P's receive right reaches W from O while W's PortFlush to O is out, so W holds what its task
 * sends to P until the marker comes back; W moves P on to X, and its task sends P a message
 * carrying Q's receive right, held at W's proxy towards X. X dies: W's proxy of P dies with its
 * path, the held message is destroyed with it, and Q's receive right dies with the message. O,
 * whose proxy of Q points to m (Q's receive right was on m when O got its right), gives W a copy
 * of its right before it hears of Q's death.
 */
class PathDiedOnlyForTheDyingPathTest {
    private static final int W = 1;
    private static final int O = 2;
    private static final int X = 3;
    private static final int M = 4;
    private static final int NAME_P = 0x700;
    private static final int NAME_Q = 0x701;
    private static final int STALE_Q = 0x702;

    @Test
    void aPortOfAnotherKernelThatDiesWhileAPathDiesIsDeadForAStaleRight() {
        IpcCluster c = new IpcCluster(4);
        int q = c.allocate(M); // Q made on m
        c.give(M, q, MsgType.MAKE_SEND, O, NAME_Q); // O's proxy of Q points to m
        int inboxW = c.inbox(W, M, O);
        c.inbox(X, W);
        c.sendReceiveRight(M, q, W);
        c.deliverAll();
        int qOnW = c.receivedRight(W, inboxW); // Q lives on W; m is its forwarder

        assertStaleRightArrivesDead(c, inboxW, qOnW);
    }

    @Test
    void anOwnPortThatDiesWhileAPathDiesIsDeadForAStaleRight() {
        IpcCluster c = new IpcCluster(4);
        int q = c.allocate(W); // Q made on W: an own uid there
        int inboxW = c.inbox(W, M, O);
        int inboxM = c.inbox(M, W);
        c.inbox(X, W);
        c.sendReceiveRight(W, q, M);
        c.deliverAll();
        int qOnM = c.receivedRight(M, inboxM);
        c.give(M, qOnM, MsgType.MAKE_SEND, O, NAME_Q); // O's proxy of Q points to m
        c.sendReceiveRight(M, qOnM, W);
        c.deliverAll();
        int qOnW = c.receivedRight(W, inboxW); // back on W; m is its forwarder

        assertStaleRightArrivesDead(c, inboxW, qOnW);
    }

    /** The common part, from Q's receive right on W, every kernel's inbox on W and X made. */
    private static void assertStaleRightArrivesDead(IpcCluster c, int inboxW, int qOnW) {
        int p = c.allocate(O);
        c.give(O, p, MsgType.MAKE_SEND, W, NAME_P); // W's proxy of P points to O
        c.sendReceiveRight(O, p, W);
        c.deliver(O, W); // P's receive right on W; W's PortFlush to O stays on its link
        int pOnW = c.receivedRight(W, inboxW);
        assertThat(c.pending(W, O)).as("W's PortFlush on its way to O").isPositive();
        c.sendReceiveRight(W, pOnW, X); // P moves on to X (its frame to X is lost with X)
        assertThat(c.send(W, MachMessage.to(NAME_P, MsgType.COPY_SEND, 7)
                .withBody(new MsgItem.Port(qOnW, MsgType.MOVE_RECEIVE))).code())
                .as("W's task sends Q's receive right to P, held at W's proxy until the PortFlush comes back")
                .isEqualTo(KernReturn.MACH_MSG_SUCCESS);
        assertThat(c.pending(W, X)).as("the held message is not on its way to X").isEqualTo(1);

        c.kill(X); // W's proxy of P dies with its path; the held message, and Q's receive right, with it

        assertThat(c.pending(W, O)).as("the PortFlush, then W's PortDied for Q, wait on W -> O").isGreaterThan(1);
        assertThat(c.core(O).machPortInsertRemote(O, NAME_Q, MsgType.COPY_SEND, W, W, STALE_Q))
                .isEqualTo(KernReturn.KERN_SUCCESS); // names m, where O's proxy of Q points
        assertThat(c.pending(O, W)).as("O's insert on its way to W").isPositive();
        c.deliver(O, W); // before W's PortDied for Q reaches O
        IpcResult<Integer> type = c.core(W).machPortType(W, STALE_Q);
        assertThat(type.code())
                .as("the right to Q, which died on W, arrives there as MACH_PORT_DEAD (no name), not as a proxy "
                        + "towards m (type %s)", type.value())
                .isEqualTo(KernReturn.KERN_INVALID_NAME);

        c.deliverAll();
        c.assertAllBack(W, O, M);
    }
}
