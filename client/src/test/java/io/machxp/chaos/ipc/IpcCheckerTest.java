package io.machxp.chaos.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.chaos.ipc.IpcHistory.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checker's rules on histories written by hand. */
class IpcCheckerTest {
    /** The kernels' lease in these histories (ns): a frame on a live link arrives within two. */
    private static final long LEASE = 1_000;
    private final IpcHistory h = new IpcHistory(LEASE);

    private void sent(long t, String client, int port, long seq, long token, String what) {
        h.add(t, Kind.SENT, client, port, seq, token, what);
    }

    private void delivered(long t, int client, int port, long seq) {
        h.add(t, Kind.DELIVERED, "s" + port, port, seq, client, "one-way");
    }

    @Test
    void messagesDeliveredOnceInOrderPass() {
        sent(1, "c0", 0, 1, 0, "one-way");
        sent(2, "c0", 0, 2, 0, "one-way");
        delivered(3, 0, 0, 1);
        delivered(4, 0, 0, 2);
        assertThat(IpcChecker.check(h)).isEmpty();
    }

    @Test
    void aDuplicateAReorderAndALossAreEachFound() {
        sent(1, "c0", 0, 1, 0, "one-way");
        sent(2, "c0", 0, 2, 0, "one-way");
        sent(3, "c0", 0, 3, 0, "one-way");
        delivered(4, 0, 0, 2);
        delivered(5, 0, 0, 1);
        delivered(6, 0, 0, 1);
        assertThat(String.join("\n", IpcChecker.check(h))).contains("delivered twice").contains("out of order")
                .contains("message 3 to p0 (sent at 0.000 ms) lost");
    }

    @Test
    void aLostMessageIsAllowedWhenItsPortDied() {
        sent(1, "c0", 0, 1, 0, "one-way");
        h.add(2, Kind.DEAD_NAME_REQUESTED, "c0", 0, 0, 0, "");
        h.add(3, Kind.PORT_DEAD, "p0", 0, 0, 0, "destroyed by s0");
        h.add(4, Kind.DEAD_NAME, "c0", 0, 0, 0, "");
        assertThat(IpcChecker.check(h)).isEmpty();
    }

    @Test
    void deadNamesComeWhenDueAndOnlyThen() {
        h.add(1, Kind.DEAD_NAME_REQUESTED, "c0", 0, 0, 0, "");
        h.add(1, Kind.DEAD_NAME_REQUESTED, "c0", 1, 0, 0, "");
        h.add(2, Kind.DEAD_NAME, "c0", 1, 0, 0, "");
        h.add(3, Kind.PORT_DEAD, "p0", 0, 0, 0, "destroyed by s0");
        assertThat(String.join("\n", IpcChecker.check(h))).contains("DEAD_NAME for p1 at 0.000 ms, but the port lives")
                .contains("no DEAD_NAME for p0 by the end");
    }

    @Test
    void noSendersWhileAServerHoldsTheRightIsEarly() {
        sent(1, "c0", 0, 1, 1, "one-way");
        delivered(2, 0, 0, 1);
        h.add(2, Kind.TOKEN_HELD, "s0", -1, 1, 0, "");
        h.add(3, Kind.NO_SENDERS, "c0", -1, 1, 0, "");
        h.add(4, Kind.TOKEN_RELEASED, "s0", -1, 1, 0, "");
        assertThat(String.join("\n", IpcChecker.check(h))).contains("NO_SENDERS (mscount 1)").contains("holds send rights");
    }

    @Test
    void noSendersThatNeverComesIsFound() {
        sent(1, "c0", 0, 1, 1, "one-way");
        delivered(2, 0, 0, 1);
        h.add(2, Kind.TOKEN_HELD, "s0", -1, 1, 0, "");
        h.add(4, Kind.TOKEN_RELEASED, "s0", -1, 1, 0, "");
        assertThat(String.join("\n", IpcChecker.check(h))).contains("every one of its 1 send rights is gone");
    }

    @Test
    void anRpcGetsExactlyOneAnswer() {
        sent(1, "c0", 0, 1, 0, "rpc");
        delivered(2, 0, 0, 1);
        h.add(3, Kind.REPLY, "c0", -1, 1, 1, "");
        h.add(3, Kind.REPLIED, "s0", -1, 1, 0, "");
        h.add(4, Kind.SEND_ONCE, "c0", -1, 1, 0, "");
        sent(5, "c0", 0, 2, 0, "rpc");
        delivered(6, 0, 0, 2);
        assertThat(String.join("\n", IpcChecker.check(h))).contains("rpc 1 answered twice")
                .contains("rpc 1 got SEND_ONCE, but its request was delivered").contains("rpc 2 to p0 never answered");
    }

    /**
     * A delivered rpc may end in SEND_ONCE when a kernel crashed or renewed during it (its reply
     * right died unused with that kernel, review F5), not otherwise; still one answer at most.
     */
    @Test
    void aDeliveredRpcMayGetSendOnceOnlyIfAKernelDiedDuringIt() {
        h.add(1, Kind.SENDING, "c0", 0, 1, 0, "rpc");
        sent(1, "c0", 0, 1, 0, "rpc");
        delivered(2, 0, 0, 1);
        h.add(3, Kind.KERNEL, "k1", -1, 0, 0, "renewed");
        h.add(4, Kind.SEND_ONCE, "c0", -1, 1, 0, "");
        h.add(5, Kind.SENDING, "c0", 0, 2, 0, "rpc");
        sent(5, "c0", 0, 2, 0, "rpc");
        delivered(6, 0, 0, 2);
        h.add(7, Kind.SEND_ONCE, "c0", -1, 2, 0, "");
        h.add(8, Kind.SEND_ONCE, "c0", -1, 2, 0, "");
        assertThat(IpcChecker.check(h)).containsExactlyInAnyOrder("c0: rpc 2 got SEND_ONCE, but its request was delivered",
                "c0: rpc 2 got SEND_ONCE, but its request was delivered", "c0: rpc 2 answered twice (SEND_ONCE at 0.000 ms)");
    }

    /**
     * A port its server destroyed just before its kernel crashed is touched by the crash (review
     * F7): its death may not have left the kernel, so an rpc to it may go unanswered; a port
     * destroyed long before the crash is not.
     */
    @Test
    void aPortDestroyedJustBeforeItsKernelCrashedIsTouchedByTheCrash() {
        sent(1, "c1", 0, 1, 0, "rpc");
        sent(1, "c1", 1, 2, 0, "rpc");
        h.add(2, Kind.PORT_DEAD, "p1", 1, 0, 0, "destroyed by s1");
        h.add(3, Kind.PORT_DEAD, "p0", 0, 0, 0, "destroyed by s0");
        h.add(3 + 2 * LEASE, Kind.GONE, "s0", -1, 0, 0, "its kernel crashed");
        h.add(3 + 3 * LEASE, Kind.GONE, "s1", -1, 0, 0, "its kernel crashed");
        assertThat(IpcChecker.check(h)).containsExactly("c1: rpc 2 to p1 never answered (not delivered, no SEND_ONCE)");
    }

    @Test
    void userReferencesThatDisagreeWithTheHarnessAreADuplicatedOrLostRight() {
        h.add(1, Kind.REFS, "s0", -1, 2, 3, "c0");
        h.add(2, Kind.REFS, "s0", -1, 2, 1, "c0");
        assertThat(String.join("\n", IpcChecker.check(h))).contains("right duplicated").contains("right lost");
    }

    /**
     * A renewal marks the rights that crossed the renewed kernel, each on its own: what was sent
     * through a marked right may be lost (seed 98: messages sent from k0 through its proxy towards
     * k2 while the port moved k2 -> k0, on k2's links when k2 renewed; an rpc is recorded as sent
     * when it returns, after the mark), what was sent through another right may not.
     */
    @Test
    void aMessageThroughARightARenewalMarkedMayBeLostAnotherNot() {
        sent(1, "c2", 2, 88, 0, "one-way");
        h.add(1, Kind.SENDING, "c1", 2, 104, 0, "rpc");
        h.add(2, Kind.RIGHT_MAY_BE_DEAD, "c2", 2, IpcChaosRun.PUBLISHED + 2, 0, "k2 renewed its IPC session");
        h.add(2, Kind.RIGHT_MAY_BE_DEAD, "c1", 2, IpcChaosRun.PUBLISHED + 2, 0, "k2 renewed its IPC session");
        sent(3, "c1", 2, 104, 0, "rpc");
        assertThat(IpcChecker.check(h)).as("lost through marked rights").isEmpty();

        sent(4, "c0", 2, 7, 0, "one-way");
        sent(5, "c1", 2, 105, 0, "one-way via " + Integer.toHexString(IpcChaosRun.GIVEN + (1 << 8) + 2));
        assertThat(String.join("\n", IpcChecker.check(h))).contains("c0's message 7 to p2").contains("c1's message 105 to p2")
                .doesNotContain("message 88").doesNotContain("rpc 104");
    }

    /**
     * Review C1: a mark exempts only what was sent over the right before its window ended (b: until
     * the other kernels declared the renewed kernel dead; the send began before); a message or an
     * rpc sent over the marked right later, on the new path, that is never delivered or answered
     * is a violation, as on any other right.
     */
    @Test
    void aMessageSentOverAMarkedRightAfterTheMarkMayNotBeLost() {
        sent(1, "c2", 2, 88, 0, "one-way");
        h.add(1, Kind.SENDING, "c2", 2, 89, 0, "rpc");
        h.add(2, Kind.RIGHT_MAY_BE_DEAD, "c2", 2, IpcChaosRun.PUBLISHED + 2, 4, "k2 renewed its IPC session");
        h.add(3, Kind.SENDING, "c2", 2, 90, 0, "one-way");
        sent(3, "c2", 2, 90, 0, "one-way");
        sent(5, "c2", 2, 89, 0, "rpc");
        assertThat(IpcChecker.check(h)).as("sent before the renewal's window ended (the rpc began before it)").isEmpty();

        h.add(5, Kind.SENDING, "c2", 2, 91, 0, "one-way");
        sent(5, "c2", 2, 91, 0, "one-way");
        h.add(6, Kind.SENDING, "c2", 2, 92, 0, "rpc");
        sent(7, "c2", 2, 92, 0, "rpc");
        assertThat(String.join("\n", IpcChecker.check(h))).contains("c2's message 91 to p2").contains("rpc 92 to p2")
                .doesNotContain("message 88").doesNotContain("rpc 89").doesNotContain("message 90");
    }

    /**
     * Seed 306: a token right sent through a right a renewal marked and never received. The renewed
     * kernel R may have passed it on (its RefTransfer reached the home) before the message was lost
     * with R's links: the home then keeps the next kernel's count for good and never sends
     * no-senders (docs/mach-ipc.md, a known limit: late, never early). Such a right is not gone for
     * rule 6's completeness; a right held across R and cut (recorded released) still is.
     */
    @Test
    void aRightLostThroughARenewedKernelMayHoldNoSendersBack() {
        sent(1, "c0", 2, 1, 1, "one-way");
        delivered(2, 0, 2, 1);
        h.add(2, Kind.TOKEN_HELD, "s2", -1, 1, 0, "");
        h.add(3, Kind.TOKEN_RELEASED, "s2", -1, 1, 0, "");
        h.add(3, Kind.NO_SENDERS, "c0", -1, 1, 0, "");
        h.add(4, Kind.SENDING, "c0", 2, 2, 0, "one-way");
        sent(4, "c0", 2, 2, 2, "one-way");
        h.add(5, Kind.RIGHT_MAY_BE_DEAD, "c0", 2, IpcChaosRun.PUBLISHED + 2, 6, "k2 renewed its IPC session");
        assertThat(IpcChecker.check(h)).as("right 2 lost with k2's links: no NO_SENDERS counting it is due").isEmpty();

        sent(7, "c1", 2, 1, 1, "one-way");
        delivered(8, 1, 2, 1);
        h.add(8, Kind.TOKEN_HELD, "s2", -1, 1, 1, "");
        h.add(9, Kind.RIGHT_MAY_BE_DEAD, "c1", 2, IpcChaosRun.PUBLISHED + 2, 10, "k2 renewed its IPC session");
        h.add(9, Kind.TOKEN_RELEASED, "s2", -1, 1, 1, "k2 renewed its IPC session");
        assertThat(String.join("\n", IpcChecker.check(h))).as("a right cut at the renewal is released: NO_SENDERS due")
                .contains("c1: every one of its 1 send rights is gone").doesNotContain("c0:");
    }

    /**
     * Review C2: a renewal does not mark a local right (its port's receive right on the client's
     * kernel): only what the client sent over it before the port arrived there by a path through
     * the renewed kernel may have been on that kernel's links (IN_FLIGHT_MAY_BE_LOST, b = the
     * arrival, c = its last move away from the client's kernel began; none here) and may be lost;
     * an rpc among those may go unanswered if its request was never delivered or delivered before
     * the arrival (rpc 5, by a server elsewhere: its reply may have crossed the renewed kernel).
     * What was sent after the arrival, before or after the renewal, was queued on the client's own
     * kernel and must arrive; an rpc delivered after the arrival (rpc 6, received on the client's
     * kernel, review R1 of ipcchaos2), before or after the renewal (rpc 7), must be answered: its
     * reply is local.
     */
    @Test
    void aLocalRightLosesOnlyWhatWasSentBeforeThePortArrived() {
        int published = IpcChaosRun.PUBLISHED + 2;
        h.add(10, Kind.SENDING, "c0", 2, 1, 0, "one-way");
        sent(10, "c0", 2, 1, 0, "one-way");
        h.add(10, Kind.SENDING, "c0", 2, 2, 0, "rpc");
        h.add(10, Kind.SENDING, "c0", 2, 6, 0, "rpc");
        h.add(10, Kind.SENDING, "c0", 2, 7, 0, "rpc");
        h.add(10, Kind.SENDING, "c0", 2, 5, 0, "rpc");
        h.add(15, Kind.DELIVERED, "s2", 2, 5, 0, "rpc");
        h.add(20, Kind.MOVE_ARRIVED, "s0", 2, 0, 0, "");
        h.add(30, Kind.SENDING, "c0", 2, 3, 0, "one-way");
        sent(30, "c0", 2, 3, 0, "one-way");
        h.add(30, Kind.DELIVERED, "s0", 2, 6, 0, "rpc");
        h.add(40, Kind.IN_FLIGHT_MAY_BE_LOST, "c0", 2, published, 20, Long.MIN_VALUE, "k2 renewed its IPC session");
        h.add(50, Kind.SENDING, "c0", 2, 4, 0, "one-way");
        sent(50, "c0", 2, 4, 0, "one-way");
        h.add(50, Kind.DELIVERED, "s0", 2, 7, 0, "rpc");
        sent(60, "c0", 2, 2, 0, "rpc");
        sent(60, "c0", 2, 6, 0, "rpc");
        sent(60, "c0", 2, 7, 0, "rpc");
        sent(60, "c0", 2, 5, 0, "rpc");
        assertThat(String.join("\n", IpcChecker.check(h)))
                .contains("c0's message 3 to p2").contains("c0's message 4 to p2")
                .contains("rpc 6 to p2 never answered").contains("rpc 7 to p2 never answered")
                .doesNotContain("message 1 ").doesNotContain("rpc 2 ").doesNotContain("rpc 5 ");
    }

    /**
     * Review R2 of ipcchaos2: a renewal long after the port's arrival (more than two leases, the
     * longest a frame stays on a live link) excuses nothing sent before the arrival: a message lost
     * at the arrival (by the forwarders or the PortFlush) is a violation, whatever kernel renews later.
     */
    @Test
    void aRenewalLongAfterThePortArrivedExcusesNothing() {
        int published = IpcChaosRun.PUBLISHED + 2;
        h.add(10, Kind.SENDING, "c0", 2, 1, 0, "one-way");
        sent(10, "c0", 2, 1, 0, "one-way");
        h.add(20, Kind.MOVE_ARRIVED, "s0", 2, 0, 0, "");
        h.add(21 + 2 * LEASE, Kind.IN_FLIGHT_MAY_BE_LOST, "c0", 2, published, 20, Long.MIN_VALUE, "k2 renewed its IPC session");
        h.add(5 * LEASE, Kind.IN_FLIGHT_MAY_BE_LOST, "c0", 2, published, 20, Long.MIN_VALUE, "k1 renewed its IPC session");
        assertThat(String.join("\n", IpcChecker.check(h))).contains("c0's message 1 to p2 (sent at 0.000 ms) lost");
    }

    /**
     * Review R2 of ipcchaos2: a port that arrived on the client's kernel twice (from k2 at 20, to k1
     * at 30, the move away from the client's kernel begun at 25, back at 40): what the client sent
     * before 25 went over a local right (queued, then carried with the port) and no renewal at the
     * second arrival excuses it; only what it sent from 25 until 40 (remote) may be lost.
     */
    @Test
    void aPortThatArrivedTwiceExcusesOnlyWhatWasSentWhileItWasAway() {
        int published = IpcChaosRun.PUBLISHED + 2;
        h.add(20, Kind.MOVE_ARRIVED, "s0", 2, 0, 0, "");
        h.add(22, Kind.SENDING, "c0", 2, 1, 0, "one-way");
        sent(22, "c0", 2, 1, 0, "one-way");
        h.add(25, Kind.MOVE_SENT, "s0", 2, 0, 1, "to s1");
        h.add(30, Kind.MOVE_ARRIVED, "s1", 2, 0, 0, "");
        h.add(32, Kind.SENDING, "c0", 2, 2, 0, "one-way");
        sent(32, "c0", 2, 2, 0, "one-way");
        h.add(40, Kind.MOVE_ARRIVED, "s0", 2, 0, 0, "");
        h.add(45, Kind.IN_FLIGHT_MAY_BE_LOST, "c0", 2, published, 40, 25, "k1 renewed its IPC session");
        assertThat(String.join("\n", IpcChecker.check(h))).contains("c0's message 1 to p2").doesNotContain("message 2 ");
    }

    /**
     * Review C2: no renewal kills a local right, so DEAD_NAME for it, or finding it dead at a
     * dead-name request, is a violation although an IN_FLIGHT_MAY_BE_LOST entry names it (a mark,
     * RIGHT_MAY_BE_DEAD, lifted that check for the whole run).
     */
    @Test
    void aLocalRightNamedInFlightAtARenewalIsNotDead() {
        int published = IpcChaosRun.PUBLISHED + 2;
        h.add(1, Kind.IN_FLIGHT_MAY_BE_LOST, "c0", 2, published, 0, Long.MIN_VALUE, "k2 renewed its IPC session");
        h.add(1, Kind.IN_FLIGHT_MAY_BE_LOST, "c1", 2, published, 0, Long.MIN_VALUE, "k2 renewed its IPC session");
        h.add(2, Kind.DEAD_NAME, "c0", 2, published, 0, "");
        h.add(3, Kind.DEAD_NAME_REQUESTED, "c1", 2, 0, 1, "");
        assertThat(String.join("\n", IpcChecker.check(h))).contains("c0: DEAD_NAME for p2 at 0.000 ms, but the port lives")
                .contains("c1: its right to p2 (name " + published + ") arrived as a dead name");
    }

    /**
     * Review late1 A1: a renewal's PORT_MAY_BE_DEAD (b = 0, a = when the port's move began) lasts
     * until the port next arrives. What was sent to it from the move's start until the arrival may
     * be lost with it, and DEAD_NAME for it meanwhile is due; what was sent after the arrival must
     * be delivered, and DEAD_NAME after it is a violation (unless a RIGHT_MAY_BE_DEAD marks the
     * right). The old whole-run exemption let both pass. A port that never arrives, or that a crash
     * touched, stays exempt ({@link #neverArrivedOrCrashTouched}).
     */
    @Test
    void aRenewalsMayBeDeadMarkEndsWhenThePortArrives() {
        h.add(1, Kind.DEAD_NAME_REQUESTED, "c0", 3, 0, 0, "");
        h.add(1, Kind.DEAD_NAME_REQUESTED, "c1", 3, 0, 0, "");
        h.add(1, Kind.DEAD_NAME_REQUESTED, "c2", 3, 0, 0, "");
        sent(2, "c0", 3, 1, 0, "one-way"); // before the move: queued in the port, it moved with it
        delivered(3, 0, 3, 1);
        h.add(4, Kind.MOVE_SENT, "s3", 3, 0, 1, "to s1");
        sent(5, "c0", 3, 2, 0, "one-way");
        h.add(6, Kind.PORT_MAY_BE_DEAD, "p3", 3, 4, 0, "in transit on a path through k2, which renewed its IPC session");
        h.add(7, Kind.DEAD_NAME, "c1", 3, 0, 0, "");
        h.add(8, Kind.MOVE_ARRIVED, "s1", 3, 0, 0, "");
        assertThat(IpcChecker.check(h)).as("lost, and a dead name, while the mark lasts").isEmpty();

        sent(9, "c0", 3, 3, 0, "one-way");
        h.add(10, Kind.DEAD_NAME, "c2", 3, 0, 0, "");
        assertThat(String.join("\n", IpcChecker.check(h))).contains("c0's message 3 to p3 (sent at 0.000 ms) lost")
                .contains("c2: DEAD_NAME for p3").doesNotContain("message 2").doesNotContain("c1:");
        assertThat(neverArrivedOrCrashTouched()).isEmpty();
    }

    /**
     * A renewal's mark on a port that never arrives again lasts to the end, back to the start (it may
     * have died with what was queued in it: seed 7160's cycle ended that way before the harness knew
     * cycles); a crash's (b = 1) lasts for good whatever becomes of the port (proxies through the
     * crashed kernel die).
     */
    private List<String> neverArrivedOrCrashTouched() {
        IpcHistory other = new IpcHistory(LEASE);
        other.add(1, Kind.SENT, "c0", 3, 1, 0, "one-way");
        other.add(2, Kind.MOVE_SENT, "s3", 3, 0, 1, "to s1");
        other.add(3, Kind.PORT_MAY_BE_DEAD, "p3", 3, 2, 0, "in transit on a path through k2, which renewed its IPC session");
        other.add(1, Kind.SENT, "c0", 1, 2, 0, "one-way");
        other.add(2, Kind.MOVE_SENT, "s1", 1, 0, 0, "to s0");
        other.add(3, Kind.PORT_MAY_BE_DEAD, "p1", 1, 2, 1, "it passed through k2, which crashed");
        other.add(4, Kind.MOVE_ARRIVED, "s0", 1, 0, 0, "");
        other.add(5, Kind.DEAD_NAME, "c1", 1, 0, 0, "");
        other.add(6, Kind.SENT, "c0", 1, 3, 0, "one-way");
        return IpcChecker.check(other);
    }
}
