package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.PagerConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A group on loopback whose picked port another process takes before its replica binds it (here
 * taken on purpose, as an outgoing connection or another test's server may): the group starts again
 * on fresh ports and elects a leader. Before, the replica's Ratis ended the JVM.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class LoopbackGroupTest {
    @Test
    void aGroupWhosePortIsTakenStartsAgainOnOtherPorts() throws Exception {
        PagerConfig config = new PagerConfig("p", "127.0.0.1", 0, 4096, Map.of("obj", 4096L))
                .withLease(Duration.ofSeconds(5)).withFreshStart(true);
        List<Map<String, String>> picks = new ArrayList<>();
        List<ReplicatedPager> group = LoopbackGroup.start(3, addresses -> {
            picks.add(addresses);
            List<ReplicatedPager> started = new ArrayList<>();
            ServerSocket taken = null;
            try {
                if (picks.size() == 1) { // the first pick: replica b's Raft port is taken before b starts
                    int raft = Integer.parseInt(addresses.get("b").substring(addresses.get("b").lastIndexOf(':') + 1)) + 1;
                    try {
                        taken = new ServerSocket(raft, 1, InetAddress.getLoopbackAddress());
                    } catch (java.net.BindException already) {
                        // another process took it first: the same for replica b
                    }
                }
                for (String id : addresses.keySet()) {
                    started.add(ReplicatedPager.start(config, new ReplicaConfig(id, addresses)
                            .withElectionTimeout(Duration.ofSeconds(1))));
                }
                return started;
            } catch (IOException | RuntimeException e) {
                started.forEach(ReplicatedPager::close);
                throw e;
            } finally {
                if (taken != null) {
                    taken.close();
                }
            }
        });
        try {
            // Twice, unless a port of the second pick was taken too (another process's, by chance).
            assertThat(picks).as("ports picked again: the first pick's port was taken").hasSizeGreaterThan(1);
            Map<String, String> last = picks.get(picks.size() - 1);
            assertThat(last).isNotEqualTo(picks.get(0));
            assertThat(group).hasSize(3).noneMatch(ReplicatedPager::closed);
            assertThat(group.stream().map(ReplicatedPager::address).toList())
                    .containsExactlyElementsOf(last.values());
            ReplicatedPager leader = Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                    .until(() -> group.stream().filter(ReplicatedPager::takesKernels).findFirst(), Optional::isPresent)
                    .orElseThrow();
            assertThat(leader.address()).isIn(last.values());
        } finally {
            group.forEach(ReplicatedPager::close);
        }
    }
}
