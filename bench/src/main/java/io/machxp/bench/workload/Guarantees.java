package io.machxp.bench.workload;

/**
 * What a system under test promises about its lock state, so that a table says how two rows
 * compare: how many copies hold it, how they agree, how durable a change is when the client is
 * answered, and whether every operation reaches them at all.
 *
 * @param replicas copies of the lock state that take part in a change that reaches them (1: a single server)
 * @param consensus how the copies agree ("Raft (Apache Ratis)", "Raft (Hazelcast CP)"), or "none"
 * @param fsync whether a change that reaches the copies is synced to disk before the client is answered
 * @param durability what survives when a change is answered ({@link Durability})
 * @param everyOperation whether every lock and unlock reaches the copies before it returns; false for
 *     machxp, whose cached lock and unlock (and the page writes under them) stay in the kernel until
 *     the futex is handed to another kernel, so that a kernel host's crash loses them
 * @param summary the same in a few words, as the table shows it
 */
public record Guarantees(int replicas, String consensus, boolean fsync, Durability durability, boolean everyOperation,
        String summary) {
    /** machxp's single pager: its state in its memory, nothing on disk; cached operations in the kernel only. */
    public static final Guarantees SINGLE_PAGER = new Guarantees(1, "none", false, Durability.MEMORY, false,
            "1 pager, in memory; cached ops stay in the kernel");

    /** How durable a change is when its client is answered, ranked (a higher rank survives more). */
    public enum Durability {
        /** In the server's memory only: lost with its process. */
        MEMORY(0),
        /** In memory, copied asynchronously to another member: survives most single crashes, may lose the last. */
        ASYNC_BACKUP(1),
        /** Written to a log in the OS's page cache, not synced: survives a crash of the process, not of the host. */
        WRITTEN(1),
        /** Synced to disk before the answer: survives a crash of the host. */
        DISK(2);

        final int rank;

        Durability(int rank) {
            this.rank = rank;
        }
    }

    /** How a peer's guarantees stand to a machxp row's. */
    public enum Relation {
        /** The same copies, durability and reach: a like-for-like ratio. */
        COMPARABLE("comparable guarantees"),
        /** The peer promises at least as much in every respect, more in one: the ratio flatters machxp. */
        PEER_MORE("the peer promises more"),
        /** The peer promises no more in any respect, less in one. */
        PEER_LESS("the peer promises less"),
        /** More in one respect, less in another (e.g. machxp-r3 fsyncs handoffs, Hazelcast CP commits every operation). */
        DIFFERENT("guarantees differ");

        public final String words;

        Relation(String words) {
            this.words = words;
        }
    }

    /** How {@code peer} stands to {@code machxp}, or null when either is not stated. */
    public static Relation compare(Guarantees machxp, Guarantees peer) {
        if (machxp == null || peer == null) {
            return null;
        }
        int more = 0;
        int less = 0;
        int[] diffs = {Integer.compare(peer.replicas, machxp.replicas),
                Integer.compare(peer.durability.rank, machxp.durability.rank),
                Boolean.compare(peer.everyOperation, machxp.everyOperation)};
        for (int d : diffs) {
            more += d > 0 ? 1 : 0;
            less += d < 0 ? 1 : 0;
        }
        if (more == 0 && less == 0) {
            return peer.durability == machxp.durability ? Relation.COMPARABLE : Relation.DIFFERENT;
        }
        return less == 0 ? Relation.PEER_MORE : more == 0 ? Relation.PEER_LESS : Relation.DIFFERENT;
    }

    /** A short form for a CSV cell or a chart: "3 replicas, fsync" or "1 copy, no fsync". */
    public String brief() {
        return (replicas == 1 ? "1 copy" : replicas + " replicas") + (fsync ? ", fsync" : ", no fsync");
    }
}
