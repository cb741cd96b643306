package io.machxp.pager.replica;

import java.io.IOException;
import java.util.Map;

/**
 * A group of replicas started on loopback in one JVM (tests, the bench): its ports are picked free
 * ({@link ReplicaConfig#loopback}) and only bound when each replica starts, so another process may
 * take one in between (an outgoing connection is given a port of the same range). A replica that
 * finds its port taken throws {@link ReplicaPortInUse}; the whole group is then started again on
 * freshly picked ports, up to {@value #ATTEMPTS} times.
 *
 * <p>Binding port 0 instead is not open to a Ratis group: each replica's peers, with their Raft
 * addresses, are given to Ratis when its server is built, and it starts the group's division before
 * its gRPC server binds; and a replica's Raft port is its XP port plus one.
 */
public final class LoopbackGroup {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LoopbackGroup.class);
    /** Picks of fresh ports before giving up: a port taken between pick and bind is rare. */
    static final int ATTEMPTS = 5;

    private LoopbackGroup() {
    }

    /**
     * What is started on a group's addresses (id to XP address, "127.0.0.1:PORT"). If it throws,
     * it has closed whatever of it started.
     */
    @FunctionalInterface
    public interface Start<T> {
        T on(Map<String, String> addresses) throws IOException;
    }

    /**
     * {@code start} on {@code count} replicas' loopback addresses, and again on fresh ones whenever
     * it fails with a port taken ({@link ReplicaPortInUse}, also as a cause); any other failure is
     * thrown at once.
     */
    public static <T> T start(int count, Start<T> start) throws IOException {
        ReplicaPortInUse last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            Map<String, String> addresses = ReplicaConfig.loopback(count);
            try {
                return start.on(addresses);
            } catch (IOException | RuntimeException e) {
                last = ReplicaPortInUse.in(e);
                if (last == null) {
                    throw e;
                }
                log.warn("replicas on {}: {}; starting them again on other ports", addresses, last.getMessage());
            }
        }
        throw new IOException("a group of " + count + " replicas on loopback found a port taken on each of " + ATTEMPTS
                + " picks of free ports; the last: " + last.getMessage(), last);
    }
}
