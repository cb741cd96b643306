package io.machxp.bench.cli;

import io.machxp.bench.systems.CuratorService;
import io.machxp.bench.systems.HazelcastService;
import io.machxp.bench.systems.MachxpService;
import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.LockService;
import io.machxp.pager.replica.RaftSync;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The systems machxp bench can run, by the names {@code --systems} takes, in pairs of closer
 * guarantees (none the same: the report says how each pair compares, {@code Guarantees.compare}):
 * machxp with one pager (in memory) beside Hazelcast with CP off and ZooKeeper without fsync;
 * machxp with a pager of three Raft replicas (log fsynced, and not: machxp-r3-nosync) beside
 * Hazelcast's three-member CP group (in memory); ZooKeeper as it ships (fsync). The older names stay as aliases.
 */
enum BenchSystems {
    /** machxp with the futex cache, one pager. */
    MACHXP("machxp", "cached"),
    /** Part II only: every lock and unlock an RPC to the pager. */
    NO_CACHE("no-cache"),
    /** The cache, and a release carries the pages dirtied under the futex. */
    PIGGYBACK("piggyback"),
    /** machxp with the futex cache, its pager three Ratis replicas in this JVM. */
    MACHXP_R3("machxp-r3"),
    /** The same, the replicas' Raft logs not fsynced (page cache; as Hazelcast CP keeps its log in memory). */
    MACHXP_R3_NOSYNC("machxp-r3-nosync"),
    /** Hazelcast's FencedLock on a three-member CP group (Raft). */
    HAZELCAST_CP("hazelcast-cp", "hazelcast"),
    /** Hazelcast's FencedLock with CP off (unsafe mode: no Raft). */
    HAZELCAST_UNSAFE("hazelcast-unsafe"),
    /** Curator's InterProcessMutex on ZooKeeper, its log fsynced (the default). */
    ZOOKEEPER("zookeeper", "curator"),
    /** The same with forceSync=no. */
    ZOOKEEPER_NOSYNC("zookeeper-nosync");

    /** What machxp bench runs without --systems: the pairs of closer guarantees. */
    static final List<String> DEFAULT = List.of("machxp", "machxp-r3", "machxp-r3-nosync", "hazelcast-cp", "hazelcast-unsafe",
            "zookeeper", "zookeeper-nosync");

    final String label;
    private final String alias;

    BenchSystems(String label) {
        this(label, null);
    }

    BenchSystems(String label, String alias) {
        this.label = label;
        this.alias = alias;
    }

    /** The systems named, in order; a clear error naming every choice for an unknown one. */
    static List<BenchSystems> parse(List<String> names) {
        List<BenchSystems> chosen = new ArrayList<>();
        for (String n : names) {
            String name = n.trim().toLowerCase(Locale.ROOT);
            chosen.add(Arrays.stream(values()).filter(s -> s.label.equals(name) || name.equals(s.alias)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown system '" + n + "': choose from "
                            + String.join(", ", Arrays.stream(values()).map(s -> s.label).toList())
                            + " (cached, curator and hazelcast are the older names of machxp, zookeeper and"
                            + " hazelcast-cp)")));
        }
        return chosen;
    }

    /** Starts the system for {@code options}. */
    LockService open(BenchOptions options) throws Exception {
        return switch (this) {
            case MACHXP -> new MachxpService(MachxpService.Mode.CACHED, options);
            case NO_CACHE -> new MachxpService(MachxpService.Mode.NO_CACHE, options);
            case PIGGYBACK -> new MachxpService(MachxpService.Mode.PIGGYBACK, options);
            case MACHXP_R3 -> MachxpService.replicated(MachxpService.Mode.CACHED, options, RaftSync.FSYNC);
            case MACHXP_R3_NOSYNC -> MachxpService.replicated(MachxpService.Mode.CACHED, options, RaftSync.NONE);
            case HAZELCAST_CP -> new HazelcastService(options, true);
            case HAZELCAST_UNSAFE -> new HazelcastService(options, false);
            case ZOOKEEPER -> new CuratorService(options, true);
            case ZOOKEEPER_NOSYNC -> new CuratorService(options, false);
        };
    }
}
