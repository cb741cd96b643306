package io.machxp.pager.replica;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * When a replica counts a Raft log entry as its own ({@code --raft-sync}), and so what a commit
 * (an entry a majority counts) survives. Either way the replica writes the entry to its log
 * segment file before it answers, and its term and vote are synced to disk (Ratis always syncs
 * those).
 *
 * <ul>
 *   <li>{@link #FSYNC} (the default, Ratis's own): the entry is synced to disk (fdatasync) before
 *       it counts. A commit survives any failure of every replica, power loss included, once they
 *       restart on their stores.
 *   <li>{@link #NONE} (Ratis's {@code raft.server.log.unsafe-flush.enabled}): the entry counts once
 *       it is written to the file, in the operating system's page cache; the sync runs in the
 *       background and nothing waits for it. A commit is in the page cache of a majority: it
 *       survives the crash of every replica's process (the restarted process reads its log back),
 *       and the crash of a minority's hosts; a host crash or power loss may take the entries not yet
 *       on its disk. As Hazelcast's CP subsystem, whose Raft log is in memory (its persistence is an
 *       Enterprise feature), it needs a majority of hosts up. A replica whose host restarted
 *       refuses its store ({@link UnsyncedLog}).
 * </ul>
 */
public enum RaftSync {
    FSYNC("fsync", "log fsynced"),
    NONE("none", "log not fsynced");

    /** The name {@code --raft-sync} takes. */
    public final String option;
    /** How a bench row or a log line says it. */
    public final String label;

    RaftSync(String option, String label) {
        this.option = option;
        this.label = label;
    }

    /** {@code --raft-sync}'s value: fsync or none; anything else a clear error naming both. */
    public static RaftSync parse(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(s -> s.option.equals(v)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("--raft-sync '" + value + "': give one of "
                        + Arrays.stream(values()).map(s -> s.option).collect(Collectors.joining(", "))
                        + " (fsync: every Raft entry synced to disk before it counts, the default; none: written to "
                        + "the OS page cache and synced in the background, as Hazelcast CP keeps its Raft log in "
                        + "memory; docs/replicated-pager.md)"));
    }
}
