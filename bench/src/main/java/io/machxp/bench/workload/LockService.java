package io.machxp.bench.workload;

/**
 * A lock service under test: machxp in one of its modes, or a peer. Started with the workload's
 * locks, it hands out one {@link Client} per worker thread. Each lock protects a counter that
 * lives wherever the service keeps shared data; the workload reads and increments it inside the
 * critical section, so a broken lock shows as a lost update.
 */
public interface LockService extends AutoCloseable {

    /** The name in tables, JSON and the chart. */
    String name();

    /**
     * What the service promises about its lock state (replicas, consensus, fsync), shown beside
     * its numbers; null when not stated (a client side, whose servers state it).
     */
    default Guarantees guarantees() {
        return null;
    }

    /**
     * What the critical section's read and write of the counter do with {@code --data system} on
     * this service's side for {@code api}, and what they guarantee, in a few words; null when not stated.
     */
    default String data(BenchOptions.Api api) {
        return null;
    }

    /** A client for one worker thread on node {@code node}; called from that worker's thread. */
    Client client(int node, int worker) throws Exception;

    /** Protocol messages exchanged so far (XP messages at the pager), or -1 when not counted. */
    long messages();

    /**
     * Calls its clients in this process have made to the system's servers so far, where the client
     * library counts them (machxp's KernelClient), else -1: how many operations needed no call.
     */
    default long calls() {
        return -1;
    }

    /** The counter of lock {@code lock} now, read outside any critical section after the run. */
    long counter(int lock) throws Exception;

    @Override
    void close();

    /** One worker's handle: lock, unlock and the protected counter. */
    interface Client extends AutoCloseable {
        void lock(int lock) throws Exception;

        void unlock(int lock) throws Exception;

        /** The counter protected by {@code lock}; the caller holds it. */
        long read(int lock) throws Exception;

        /** Sets the counter protected by {@code lock}; the caller holds it. */
        void write(int lock, long value) throws Exception;

        @Override
        default void close() throws Exception {}
    }
}
