package io.machxp.pager.replica;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machxp.pager.PagerConfig;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A replicated pager without a lease is refused before it starts. A kernel's broken stream appends
 * nothing to the log (it may be resuming at the next leader, xp-spec 13.3), so a session ends only
 * when the kernel ends it cleanly or its lease runs out; and without a lease the pager gives no
 * session token, so no kernel can resume either. A kernel that crashed holding a futex kept it,
 * its queue places and its name for the group's life: every waiter wedged, and the kernel, started
 * again, was refused its own name (EEXIST). The unreplicated pager without a lease releases
 * everything when the stream ends (4.4).
 */
class ReplicatedLeaseRequiredTest {
    @Test
    void aReplicaWithoutALeaseIsRefusedSayingWhy() throws Exception {
        PagerConfig config = new PagerConfig("p", "127.0.0.1", 0, 4096, Map.of("obj", 4096L)).withLease(Duration.ZERO);
        ReplicaConfig replicas = new ReplicaConfig("a", ReplicaConfig.loopback(3));
        assertThatThrownBy(() -> ReplicatedPager.start(config, replicas).close())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a lease")
                .hasMessageContaining("--lease-ms");
    }
}
