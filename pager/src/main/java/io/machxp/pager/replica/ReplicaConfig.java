package io.machxp.pager.replica;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which replica this process is, among which: {@code --replicas ID=HOST:PORT,...} (3 or 5) and
 * {@code --replica ID}. HOST:PORT is the replica's XP address (what kernels list in
 * {@code --pager}); its Raft traffic uses the next port, PORT+1, on the same host.
 *
 * @param self this replica's id
 * @param replicas every replica's id and XP address "host:port", in the order given
 * @param electionTimeout the shortest Raft election timeout (the longest is twice it); null:
 *     Ratis's default (150 to 300 ms). A machine that stalls its JVMs for longer (a load far above
 *     its cores) needs more, or leaders change without a failure
 * @param snapshotEvery a snapshot of the replica's state is taken every this many Raft log entries
 *     applied, and the log before it purged (docs/replicated-pager.md, "Snapshots")
 * @param raftSync whether an entry is synced to disk before it counts ({@link RaftSync}; fsync by default)
 */
public record ReplicaConfig(String self, Map<String, String> replicas, java.time.Duration electionTimeout,
        long snapshotEvery, RaftSync raftSync) {
    /**
     * Entries between two snapshots by default: one XP message is one entry, so a busy pager (tens
     * of thousands of messages a second) writes one every few seconds, and a replica that restarts
     * applies at most this many entries after the snapshot it installs.
     */
    public static final long DEFAULT_SNAPSHOT_EVERY = 100_000;

    public ReplicaConfig {
        if (snapshotEvery < 1) {
            throw new IllegalArgumentException("a snapshot every " + snapshotEvery + " log entries: give 1 or more");
        }
        java.util.Objects.requireNonNull(raftSync, "raftSync");
        replicas = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(replicas));
        if (replicas.size() != 3 && replicas.size() != 5) {
            throw new IllegalArgumentException("a replicated pager has 3 or 5 replicas (a majority survives one or "
                    + "two failures), not " + replicas.size());
        }
        if (!replicas.containsKey(self)) {
            throw new IllegalArgumentException("replica '" + self + "' is not among --replicas " + replicas.keySet()
                    + ": give --replica one of those ids");
        }
    }

    /** Parses "a=host:7070,b=host:7080,c=host:7090". */
    public static ReplicaConfig parse(String self, String list) {
        Map<String, String> replicas = new LinkedHashMap<>();
        for (String item : list.split(",")) {
            String[] idAddress = item.trim().split("=", 2);
            if (idAddress.length != 2 || idAddress[0].isBlank() || port(idAddress[1]) < 0) {
                throw new IllegalArgumentException("'" + item + "' is not ID=HOST:PORT (e.g. a=127.0.0.1:7070)");
            }
            if (replicas.put(idAddress[0], idAddress[1]) != null) {
                throw new IllegalArgumentException("replica id '" + idAddress[0] + "' is given twice in --replicas");
            }
        }
        return new ReplicaConfig(self, replicas);
    }

    /**
     * With Ratis's default election timeouts, a snapshot every {@link #DEFAULT_SNAPSHOT_EVERY}
     * entries, and every entry synced to disk.
     */
    public ReplicaConfig(String self, Map<String, String> replicas) {
        this(self, replicas, null, DEFAULT_SNAPSHOT_EVERY, RaftSync.FSYNC);
    }

    /** The same group with another shortest election timeout (null: Ratis's default). */
    public ReplicaConfig withElectionTimeout(java.time.Duration min) {
        return new ReplicaConfig(self, replicas, min, snapshotEvery, raftSync);
    }

    /** The same group with a snapshot every {@code entries} Raft log entries. */
    public ReplicaConfig withSnapshotEvery(long entries) {
        return new ReplicaConfig(self, replicas, electionTimeout, entries, raftSync);
    }

    /** The same group with its log synced before an entry counts, or not ({@link RaftSync}). */
    public ReplicaConfig withRaftSync(RaftSync sync) {
        return new ReplicaConfig(self, replicas, electionTimeout, snapshotEvery, sync);
    }

    /** The XP address of this replica. */
    public String address() {
        return replicas.get(self);
    }

    /** A replica's XP port. */
    int xpPort(String id) {
        return port(replicas.get(id));
    }

    /** A replica's Raft address: its XP port plus one. */
    String raftAddress(String id) {
        String a = replicas.get(id);
        return a.substring(0, a.lastIndexOf(':') + 1) + (port(a) + 1);
    }

    /** Every replica's XP address, joined by '+': a kernel's --pager entry for this pager. */
    public String kernelTarget() {
        return String.join("+", replicas.values());
    }

    /**
     * {@code count} replicas on loopback, ids "a", "b", ... each at a port p such that p (XP) and
     * p+1 (Raft) were both free when looked at: a group for one machine (tests, machxp bench).
     * Another process may take one before its replica binds it: {@link LoopbackGroup} starts a
     * group again on fresh ports when that happens.
     */
    public static Map<String, String> loopback(int count) throws java.io.IOException {
        Map<String, String> replicas = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            replicas.put(String.valueOf((char) ('a' + i)), "127.0.0.1:" + freePortPair());
        }
        return replicas;
    }

    private static int freePortPair() throws java.io.IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            int p;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
                p = s.getLocalPort();
            }
            if (p >= 65534) {
                continue;
            }
            try (java.net.ServerSocket s1 = new java.net.ServerSocket(p);
                    java.net.ServerSocket s2 = new java.net.ServerSocket(p + 1)) {
                return p;
            } catch (java.io.IOException taken) {
                // try another
            }
        }
        throw new java.io.IOException("found no two free consecutive ports on loopback");
    }

    private static int port(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        try {
            int p = colon <= 0 ? -1 : Integer.parseInt(hostPort.substring(colon + 1));
            return p > 0 && p < 65535 ? p : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
