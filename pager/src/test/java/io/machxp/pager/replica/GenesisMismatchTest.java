package io.machxp.pager.replica;

import static io.machxp.pager.replica.TwoKernels.A;
import static io.machxp.pager.replica.TwoKernels.B;
import static io.machxp.pager.replica.TwoKernels.L;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.pager.core.PagerStats;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.ReplicaSnapshot;
import io.machxp.proto.replica.Tick;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A replica whose configuration is not the group's (other objects or page size) takes no part:
 * no snapshot of a core-less state, no restore of one, never a second genesis once the log has
 * one (its clock is ignored if an older version appended it); and an entry stamped on a deposed
 * leader's clock base is applied without its stamp.
 */
class GenesisMismatchTest {
    static final long C = 5L << 20 | 5;

    /** The ticker of the elected leader, as in ReplicaTicks.tick: what it appends. */
    private static List<PagerLogEntry.Builder> tickerOf(ReplicaCore r, long term) {
        List<PagerLogEntry.Builder> appended = new ArrayList<>();
        new LeaderTicker(r).check(r.clock(), term,
                () -> GroupGenesis.draw(r.configuredIn(Genesis.newBuilder()), Instant.now(), new byte[32], 0),
                e -> {
                    appended.add(e);
                    return CompletableFuture.completedFuture(true);
                });
        return appended;
    }

    @Test
    void corelessSnapshotThenFixedConfigDoesNotDiverge() {
        TwoKernels.Told gSaid = new TwoKernels.Told();
        ReplicaCore good = TwoKernels.core(gSaid);
        ReplicaCore bad = new ReplicaCore("p", TwoKernels.PAGE, Map.of("obj", 8L * TwoKernels.PAGE), L,
                new TwoKernels.Told(), new PagerStats());
        List<PagerLogEntry> log = new ArrayList<>();
        log.add(TwoKernels.genesis(1, good.configuredIn(Genesis.newBuilder())));
        log.add(TwoKernels.leaderStarted(1, 1));
        log.addAll(TwoKernels.aHoldsBWaits(2));
        for (PagerLogEntry e : log) {
            good.apply(e);
            bad.apply(e);
        }
        assertThat(bad.genesisFailed()).contains("the group's objects are {obj=16384}");
        assertThatThrownBy(bad::snapshot).as("no snapshot of a core-less state").hasMessageContaining("no snapshot");
        assertThat(tickerOf(bad, 3)).as("elected, it appends nothing (its Raft server is closed anyway)").isEmpty();

        // A core-less snapshot as a version before this one wrote it: refused loudly, never restored silently.
        ReplicaSnapshot coreless = ReplicaSnapshot.newBuilder().setClockNanos(9).setLeaderStartedTerm(1).build();
        ReplicaCore fixed = TwoKernels.core(new TwoKernels.Told()); // restarted with the group's objects
        assertThatThrownBy(() -> fixed.restore(coreless)).hasMessageContaining("holds no pager state")
                .hasMessageContaining("move this replica's store aside");

        // Restored from the group's state instead (the leader's snapshot), then elected: no second genesis.
        TwoKernels.Told fixedSaid = new TwoKernels.Told();
        ReplicaCore restored = TwoKernels.core(fixedSaid);
        restored.restore(good.snapshot());
        long t = L * 9 / 10;
        good.apply(TwoKernels.xp(t, A, TwoKernels.keepalive(1)));
        restored.apply(TwoKernels.xp(t, A, TwoKernels.keepalive(1)));
        List<PagerLogEntry.Builder> appended = tickerOf(restored, 3);
        assertThat(appended).singleElement().matches(PagerLogEntry.Builder::hasLeaderStarted);
        PagerLogEntry started = appended.get(0).setClockNanos(t).setTerm(3).build();
        good.apply(started);
        restored.apply(started);
        for (PagerLogEntry e : List.of(TwoKernels.opened(t, C), TwoKernels.xp(t, C, TwoKernels.hello("C")),
                TwoKernels.xp(t, C, TwoKernels.init()), TwoKernels.xp(t, C, TwoKernels.lock()))) {
            good.apply(e);
            restored.apply(e);
        }
        assertThat(fixedSaid.granted(C)).as("C waits behind A, as on every replica").isFalse();
        assertThat(good.snapshot()).isEqualTo(restored.snapshot());
    }

    /** A second genesis in the log (a leader of a version before this one): ignored, its clock stamp too. */
    @Test
    void aLaterGenesisMovesNoClock() {
        ReplicaCore r = TwoKernels.core(new TwoKernels.Told());
        r.apply(TwoKernels.genesis(1, r.configuredIn(Genesis.newBuilder())));
        r.apply(TwoKernels.leaderStarted(1, 1));
        r.apply(TwoKernels.genesis(1 + 10 * L, r.configuredIn(Genesis.newBuilder())));
        assertThat(r.clock()).isEqualTo(1);
    }

    /**
     * A deposed leader's thread stamped an entry for term 1, stalled, and appended it once its
     * replica led again (term 4): applied, but its stamp (term 1's clock base, 10 L ahead after an
     * idle period) is ignored, and no live session ends.
     */
    @Test
    void staleStampOfAnOlderTermEndsNoSession() {
        TwoKernels.Told out = new TwoKernels.Told();
        ReplicaCore r = TwoKernels.core(out);
        AtomicLong mono = new AtomicLong(0);
        GroupClock x = new GroupClock(mono::get);
        r.groupClock(x);
        long t0 = 1_000;
        r.apply(TwoKernels.genesis(t0, r.configuredIn(Genesis.newBuilder())).toBuilder().setTerm(1).build());
        r.apply(TwoKernels.leaderStarted(t0, 1).toBuilder().setTerm(1).build());
        mono.addAndGet(10 * L);
        long stale = x.now(1, r.clock());
        r.apply(TwoKernels.leaderStarted(t0, 2).toBuilder().setTerm(2).build());
        for (PagerLogEntry e : TwoKernels.aHoldsBWaits(t0 + 1)) {
            r.apply(e.toBuilder().setTerm(2).build());
        }
        r.apply(TwoKernels.xp(t0 + L / 4, A, TwoKernels.keepalive(1)).toBuilder().setTerm(2).build());
        long before = r.clock();
        r.apply(PagerLogEntry.newBuilder().setTick(Tick.getDefaultInstance()).setClockNanos(stale).setTerm(1).build());
        assertThat(r.clock()).as("the stale stamp is ignored").isEqualTo(before);
        assertThat(out.said).doesNotContain(B + " MEMORY_OBJECT_FUTEX_GRANTED ownerDied=true", A + " ended ETIMEDOUT");
        // the same stamp on an entry of the current term (or of a log written before terms were kept) counts
        r.apply(PagerLogEntry.newBuilder().setTick(Tick.getDefaultInstance()).setClockNanos(stale).build());
        assertThat(r.clock()).isEqualTo(stale);
    }
}
