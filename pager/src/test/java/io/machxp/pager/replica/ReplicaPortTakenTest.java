package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.pager.PagerConfig;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A replica whose Raft port another process listens on. Ratis ends the JVM when its gRPC server
 * cannot bind (System.exit(1) in ExitUtils.terminate): a test's fork, or every replica of a JVM,
 * died of one busy port. The replica's start fails instead, with one sentence naming the address,
 * that it is in use and what to do, and the JVM goes on (this test returning is that: before, the
 * fork ended in the middle of it).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReplicaPortTakenTest {
    @Test
    void aRaftPortInUseIsAnExceptionSayingWhichAndWhatToDo() throws Exception {
        Thread.UncaughtExceptionHandler handler = Thread.getDefaultUncaughtExceptionHandler();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int raftPort = taken.getLocalPort();
            Map<String, String> group = new LinkedHashMap<>(ReplicaConfig.loopback(3));
            group.put("a", "127.0.0.1:" + (raftPort - 1)); // its Raft port is the next one, taken
            PagerConfig config = new PagerConfig("p", "127.0.0.1", 0, 4096, Map.of("obj", 4096L));

            assertThatThrownBy(() -> ReplicatedPager.start(config, new ReplicaConfig("a", group)).close())
                    .isInstanceOf(ReplicaPortInUse.class)
                    .hasMessageStartingWith("pager p replica a: cannot listen on 127.0.0.1:" + raftPort
                            + ", its Raft port (the next after its XP port " + (raftPort - 1) + "): Address already in use; ")
                    .hasMessageContaining("give replica a another port in every replica's --replicas")
                    .satisfies(e -> assertThat(((ReplicaPortInUse) e).address()).isEqualTo("127.0.0.1:" + raftPort));
        }
        assertThat(Thread.getDefaultUncaughtExceptionHandler()).as("the JVM's default handler, not Ratis's")
                .isSameAs(handler);
    }
}
