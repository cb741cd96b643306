package io.machxp.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** machxp bench --systems: the names, the older names, the default pairs. */
class BenchSystemsTest {
    @Test
    void theDefaultIsThePairsOfLikeGuarantees() {
        assertThat(BenchSystems.parse(BenchSystems.DEFAULT)).containsExactly(BenchSystems.MACHXP,
                BenchSystems.MACHXP_R3, BenchSystems.MACHXP_R3_NOSYNC, BenchSystems.HAZELCAST_CP, BenchSystems.HAZELCAST_UNSAFE, BenchSystems.ZOOKEEPER,
                BenchSystems.ZOOKEEPER_NOSYNC);
    }

    @Test
    void everyNameAndTheOlderNamesChooseTheirSystemInTheOrderGiven() {
        assertThat(BenchSystems.parse(List.of("zookeeper-nosync", " Machxp-R3", "cached", "curator", "hazelcast",
                "no-cache", "piggyback"))).containsExactly(BenchSystems.ZOOKEEPER_NOSYNC, BenchSystems.MACHXP_R3,
                BenchSystems.MACHXP, BenchSystems.ZOOKEEPER, BenchSystems.HAZELCAST_CP, BenchSystems.NO_CACHE,
                BenchSystems.PIGGYBACK);
        for (BenchSystems s : BenchSystems.values()) {
            assertThat(BenchSystems.parse(List.of(s.label))).containsExactly(s);
        }
    }

    @Test
    void anUnknownNameListsTheChoices() {
        assertThatThrownBy(() -> BenchSystems.parse(List.of("machxp", "etcd")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown system 'etcd'")
                .hasMessageContaining("machxp, no-cache, piggyback, machxp-r3, machxp-r3-nosync, hazelcast-cp, "
                        + "hazelcast-unsafe, zookeeper, zookeeper-nosync");
    }
}
