package io.machxp.bench.workload;

/**
 * What a system under test promises about its lock state, so that a table compares like with
 * like: how many copies hold it, whether they agree through consensus, and whether a change is on
 * disk (fsynced) before it is acknowledged.
 *
 * @param replicas copies of the lock state that take part in each change (1: a single server)
 * @param consensus how the copies agree ("Raft (Apache Ratis)", "Raft (Hazelcast CP)"), or "none"
 * @param fsync whether a change is synced to disk before the client is answered
 * @param summary the same in a few words, as the table shows it
 */
public record Guarantees(int replicas, String consensus, boolean fsync, String summary) {
    /** machxp's single pager: its state in its memory, nothing on disk. */
    public static final Guarantees SINGLE_PAGER = new Guarantees(1, "none", false, "1 pager, in memory");

    /** A short form for a CSV cell or a chart: "3 replicas, fsync" or "1 copy, no fsync". */
    public String brief() {
        return (replicas == 1 ? "1 copy" : replicas + " replicas") + (fsync ? ", fsync" : ", no fsync");
    }
}
