package io.machxp.pager.replica;

import static io.machxp.pager.replica.TwoKernels.A;
import static io.machxp.pager.replica.TwoKernels.B;
import static io.machxp.pager.replica.TwoKernels.L;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.PagerLogEntry;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The group clock a leader stamps its entries with ({@link GroupClock}): its applied leader_started
 * plus its monotonic clock since, so that no replica's wall clock moves it (ratis review, finding 1:
 * it was the leader's wall clock, kept as the highest reading). A leader's replica is played here
 * on a scripted monotonic clock: what ReplicatedPager does with System.nanoTime().
 */
class GroupClockTest {
    /** The origin a genesis was stamped with (the first leader's wall time, in ReplicatedPager). */
    private static final long T0 = 1_000_000_000_000L;

    /** A leader's replica: its core, its group clock on {@link #mono}, stamping as ReplicatedPager does. */
    private static final class Leader {
        final AtomicLong mono = new AtomicLong(777_000_000_000L); // an arbitrary nanoTime origin
        final GroupClock clock = new GroupClock(mono::get);
        final TwoKernels.Told out = new TwoKernels.Told();
        final ReplicaCore core = TwoKernels.core(out).groupClock(clock);
        long term;

        /** Appends and applies an entry of this leader's, stamped with its reading now. */
        void append(PagerLogEntry.Builder e) {
            core.apply(e.setClockNanos(clock.now(term, core.clock())).build());
        }

        /** What the leader's ticker does now: a tick if the core's first timer is due by its reading. */
        void tickIfDue() {
            if (core.nextDue() <= clock.now(term, core.clock())) {
                append(PagerLogEntry.newBuilder().setTick(io.machxp.proto.replica.Tick.getDefaultInstance()));
            }
        }

        void passes(long nanos) {
            mono.addAndGet(nanos);
        }
    }

    @Test
    void aReadingIsTheAppliedLeaderStartedPlusTheMonotonicTimeSinceAndOnlyForItsTerm() {
        AtomicLong mono = new AtomicLong(-5_000); // nanoTime may be below 0
        GroupClock c = new GroupClock(mono::get);
        assertThat(c.now(4, 1_000)).as("no leader_started of term 4 applied: the clock as applied").isEqualTo(1_000);
        c.leaderStarted(4, 2_000);
        mono.addAndGet(300);
        assertThat(c.now(4, 2_000)).isEqualTo(2_300);
        assertThat(c.now(5, 2_000)).as("another term's leader reads no base of term 4").isEqualTo(2_000);
        assertThat(c.now(4, 9_000)).as("never below the clock as applied").isEqualTo(9_000);
        mono.addAndGet(-100); // a monotonic clock read on another CPU a hair behind: never back past the base
        assertThat(c.now(4, 2_000)).isEqualTo(2_200);
    }

    /**
     * The leader's wall clock steps a lease forward (NTP, date -s, a VM restored) at 0.35 L, after
     * A's keepalive at 0.3 L was answered: by its own clock A may use the futex until about 1.1 L.
     * The group clock does not step, so A keeps the futex until a lease after its keepalive has
     * passed on the leader's monotonic clock, and only then does B get it (with OWNER_DIED).
     */
    @Test
    void aStepOfTheLeadersWallClockEndsNoSession() {
        Leader r = new Leader();
        r.term = 1;
        r.core.apply(TwoKernels.genesis(T0, r.core.configuredIn(Genesis.newBuilder())));
        r.append(PagerLogEntry.newBuilder().setLeaderStarted(io.machxp.proto.replica.LeaderStarted.newBuilder().setTerm(1)));
        for (PagerLogEntry e : TwoKernels.aHoldsBWaits(0)) {
            r.append(e.toBuilder());
        }
        assertThat(r.out.granted(A)).isTrue();
        r.passes(3 * L / 10);
        r.append(TwoKernels.xp(0, A, TwoKernels.keepalive(1)).toBuilder());
        r.passes(L / 20); // here the wall clock steps a lease forward: nothing reads it
        for (int i = 0; i < 18; i++) { // to 0.3 L + 0.95 L; B's keepalives go on
            r.append(TwoKernels.xp(0, B, TwoKernels.keepalive(i + 1)).toBuilder());
            r.tickIfDue();
            assertThat(r.out.granted(B)).as("B granted %d ms after A's keepalive: %s", (i + 1) * 50, r.out.said).isFalse();
            r.passes(L / 20);
        }
        r.passes(L / 10); // a lease and a bit after A's keepalive
        r.append(TwoKernels.xp(0, B, TwoKernels.keepalive(19)).toBuilder());
        r.tickIfDue();
        assertThat(r.out.said).contains(B + " MEMORY_OBJECT_FUTEX_GRANTED ownerDied=true");
    }

    /**
     * A leader whose clock was a day ahead (the group clock of an older version, or any reading
     * applied once) leaves the group clock a day ahead; the next leader counts on from there, so a
     * kernel that went silent is still declared dead a lease after it was last heard.
     */
    @Test
    void aGroupClockLeftAheadByOneLeaderStillRunsUnderTheNext() {
        Leader r = new Leader();
        r.term = 1;
        r.core.apply(TwoKernels.genesis(T0, r.core.configuredIn(Genesis.newBuilder())));
        r.append(PagerLogEntry.newBuilder().setLeaderStarted(io.machxp.proto.replica.LeaderStarted.newBuilder().setTerm(1)));
        for (PagerLogEntry e : TwoKernels.aHoldsBWaits(0)) {
            r.append(e.toBuilder());
        }
        long day = 86_400L * 1_000_000_000L;
        r.core.apply(TwoKernels.leaderStarted(T0 + day, 2)); // another replica led term 2, its clock a day ahead
        r.term = 3; // this replica leads term 3: A is silent from now on, B keeps its keepalives
        r.append(PagerLogEntry.newBuilder().setLeaderStarted(io.machxp.proto.replica.LeaderStarted.newBuilder().setTerm(3)));
        for (int i = 1; i <= 12 && !r.out.granted(B); i++) { // three leases at most
            r.passes(L / 4);
            r.append(TwoKernels.xp(0, B, TwoKernels.keepalive(i)).toBuilder());
            r.tickIfDue();
        }
        assertThat(r.out.said).as("A, silent since term 3 began, declared dead; B granted")
                .contains(B + " MEMORY_OBJECT_FUTEX_GRANTED ownerDied=true");
    }
}
