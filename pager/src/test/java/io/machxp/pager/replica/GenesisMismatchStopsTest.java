package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.PagerConfig;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A replica started with other objects than its group's, on Ratis: once it applies the group's
 * genesis its Raft server is closed (it no longer votes, leads or snapshots) and it says why
 * ({@link ReplicatedPager#refusedGenesis}, on which `machxp pager --replicas` exits); the others go on.
 * Before, it kept voting and snapshotting a state with no core (the ratisfix review, findings 1 and 4).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class GenesisMismatchStopsTest {
    private static boolean raftAlive(ReplicatedPager r) {
        try {
            return r.info().isAlive();
        } catch (UncheckedIOException e) {
            return false;
        }
    }

    @Test
    void aReplicaWithOtherObjectsStopsItsRaftServer() throws Exception {
        PagerConfig group = new PagerConfig("p", "127.0.0.1", 0, 4096, Map.of("obj", 4096L))
                .withLease(Duration.ofSeconds(5)).withFreshStart(true);
        PagerConfig other = new PagerConfig("p", "127.0.0.1", 0, 4096, Map.of("obj", 8192L))
                .withLease(Duration.ofSeconds(5)).withFreshStart(true);
        List<Map<String, String>> picked = new ArrayList<>();
        List<ReplicatedPager> replicas = LoopbackGroup.start(3, addresses -> {
            picked.add(addresses);
            List<ReplicatedPager> started = new ArrayList<>();
            try {
                for (String id : List.of("a", "b")) { // the group's genesis is theirs: c starts later
                    started.add(ReplicatedPager.start(group, new ReplicaConfig(id, addresses)
                            .withElectionTimeout(ReplicaTrio.ELECTION_TIMEOUT)));
                }
                return started;
            } catch (java.io.IOException | RuntimeException e) {
                started.forEach(ReplicatedPager::close);
                throw e;
            }
        });
        ReplicatedPager c = null;
        try {
            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                    .until(() -> replicas.stream().anyMatch(ReplicatedPager::takesKernels));
            c = ReplicatedPager.start(other, new ReplicaConfig("c", picked.get(picked.size() - 1))
                    .withElectionTimeout(ReplicaTrio.ELECTION_TIMEOUT));
            String why = c.refusedGenesis().get(60, TimeUnit.SECONDS);
            assertThat(why).contains("the group's objects are {obj=4096}");
            ReplicatedPager stopped = c;
            Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                    .until(() -> !raftAlive(stopped));
            assertThat(stopped.isLeader()).isFalse();
            assertThat(replicas).allMatch(GenesisMismatchStopsTest::raftAlive);
            assertThat(replicas).anyMatch(ReplicatedPager::takesKernels);
        } finally {
            if (c != null) {
                c.close();
            }
            replicas.forEach(ReplicatedPager::close);
        }
    }
}
