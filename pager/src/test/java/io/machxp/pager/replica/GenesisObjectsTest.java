package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerStats;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.PagerLogEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The genesis fixes the group's objects (ratis review, finding 2): a replica configured with other
 * objects builds no core, as for another page size, rather than apply the log to other objects and
 * part from the group (the leader granted, a follower destroyed the object).
 */
class GenesisObjectsTest {
    private static List<PagerLogEntry> log(Genesis.Builder genesis) {
        List<PagerLogEntry> log = new ArrayList<>();
        log.add(TwoKernels.genesis(1, genesis));
        log.addAll(TwoKernels.aHoldsBWaits(2));
        return log;
    }

    @Test
    void aReplicaWithOtherObjectsBuildsNoCore() {
        TwoKernels.Told leaderSaid = new TwoKernels.Told();
        TwoKernels.Told otherSaid = new TwoKernels.Told();
        TwoKernels.Told biggerSaid = new TwoKernels.Told();
        ReplicaCore leader = TwoKernels.core(leaderSaid);
        ReplicaCore other = new ReplicaCore("p", TwoKernels.PAGE, Map.of("obj2", 4L * TwoKernels.PAGE), TwoKernels.L,
                otherSaid, new PagerStats());
        ReplicaCore bigger = new ReplicaCore("p", TwoKernels.PAGE, Map.of("obj", 8L * TwoKernels.PAGE), TwoKernels.L,
                biggerSaid, new PagerStats());
        for (PagerLogEntry e : log(leader.configuredIn(Genesis.newBuilder()))) {
            leader.apply(e);
            other.apply(e);
            bigger.apply(e);
        }
        assertThat(leaderSaid.granted(TwoKernels.A)).isTrue();
        for (ReplicaCore refused : List.of(other, bigger)) {
            assertThat(refused.ready()).isFalse();
            assertThat(refused.genesisFailed()).contains("the group's objects are {obj=16384}")
                    .contains("give every replica the group's objects");
        }
        assertThat(otherSaid.said).isEmpty();
        assertThat(biggerSaid.said).isEmpty();
    }

    /** The same objects in another order are the same objects. */
    @Test
    void theSameObjectsInAnotherOrderAreTheGroups() {
        Map<String, Long> ab = new java.util.LinkedHashMap<>();
        ab.put("a", 4096L);
        ab.put("b", 8192L);
        Map<String, Long> ba = new java.util.LinkedHashMap<>();
        ba.put("b", 8192L);
        ba.put("a", 4096L);
        ReplicaCore first = new ReplicaCore("p", 4096, ab, TwoKernels.L, new TwoKernels.Told(), new PagerStats());
        ReplicaCore second = new ReplicaCore("p", 4096, ba, TwoKernels.L, new TwoKernels.Told(), new PagerStats());
        PagerLogEntry genesis = TwoKernels.genesis(1, first.configuredIn(Genesis.newBuilder()));
        second.apply(genesis);
        assertThat(second.ready()).isTrue();
    }

    /** A log written before the genesis named objects: not checked, the core is built. */
    @Test
    void aGenesisWithoutObjectsIsNotChecked() {
        ReplicaCore r = new ReplicaCore("p", TwoKernels.PAGE, Map.of("obj2", 4096L), TwoKernels.L, new TwoKernels.Told(),
                new PagerStats());
        r.apply(TwoKernels.genesis(1, Genesis.newBuilder().setPageSize(TwoKernels.PAGE)));
        assertThat(r.ready()).isTrue();
    }
}
