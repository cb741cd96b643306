package io.machxp.bench.systems;

import io.machxp.bench.workload.LockService;
import java.util.List;

/**
 * Opens the client side of a system from its {@link io.machxp.bench.workload.Hosted#connection}:
 * what a worker process of {@code machxp bench --api process} runs its workers on, and what the
 * bench reads the counters through afterwards (the counters live where a user of the system would
 * keep them: machxp's in the locks' pages, Hazelcast's in an IMap, Curator's in znodes).
 */
public final class Clients {
    static final String MACHXP = "machxp";
    static final String HAZELCAST = "hazelcast";
    static final String CURATOR = "curator";

    private Clients() {}

    public static LockService open(List<String> connection) throws Exception {
        if (connection.isEmpty()) {
            throw new IllegalArgumentException("no connection to open");
        }
        return switch (connection.get(0)) {
            case MACHXP -> MachxpService.client(connection);
            case HAZELCAST -> new HazelcastClients(connection.get(1), connection.get(2),
                    List.of(connection.get(3).split(",")));
            case CURATOR -> new CuratorClients(connection.get(1), connection.get(2));
            default -> throw new IllegalArgumentException("no system of kind '" + connection.get(0) + "'");
        };
    }
}
