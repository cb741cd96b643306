package io.machxp.pager.replica;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Keeps a replica from trusting a Raft log on its store that was written with
 * {@code --raft-sync none} ({@link RaftSync#NONE}) before its host restarted.
 *
 * <p>Without syncs, an entry the replica acknowledged is in the OS page cache, not yet on disk: a
 * crash of the process keeps it, a crash of the host may not. A replica that lost entries it had
 * acknowledged may count towards a majority for a leader without them, and the group would lose a
 * commit. So a replica running with {@code none} on a store records the host's boot id
 * ({@code /proc/sys/kernel/random/boot_id}) in {@value #MARKER}, synced, before Ratis writes an
 * entry; a start on a store with that file and another boot id (or none readable) is refused. The
 * file is removed once the whole log is synced: when a replica stops cleanly
 * ({@link #syncAndForget}), or when it starts with {@code fsync} in the same boot.
 *
 * <p>States of a store: no marker (every entry on disk, or an fsync log) -- start with none:
 * marker written -- clean stop or fsync start in the same boot: log synced, marker removed.
 * Marker and another boot: refused.
 */
final class UnsyncedLog {
    static final String MARKER = "unsynced-log-boot-id";
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

    private UnsyncedLog() {
    }

    /** This host's boot id, or null where Linux's is not readable. */
    static String bootId() {
        try {
            return Files.readString(BOOT_ID, StandardCharsets.US_ASCII).trim();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Before a replica starts on its store {@code raftDir} with {@code sync}: refuses a log written
     * unsynced in another boot; with {@code none}, records this boot; with {@code fsync}, syncs
     * a log written unsynced in this boot and forgets the marker.
     *
     * @throws IOException naming the store and what to do, if the log cannot be trusted
     */
    static void check(Path raftDir, RaftSync sync, Supplier<String> bootId, String who) throws IOException {
        Path marker = raftDir.resolve(MARKER);
        String now = bootId.get();
        if (Files.exists(marker)) {
            String then = Files.readString(marker, StandardCharsets.US_ASCII).trim();
            if (now == null || !now.equals(then)) {
                throw new IOException(who + ": its Raft log in " + raftDir + " was written with --raft-sync none "
                        + "and its host restarted since (boot id then " + then + ", now " + (now == null ? "unknown"
                        : now) + "): entries it acknowledged may not have reached the disk, and a replica that lost "
                        + "them could make the group lose a commit. If a majority of the other replicas is up, the "
                        + "group goes on without this one; else start the group anew: stop every replica, remove "
                        + "each one's raft-ID directory in its --store, and start them without --fresh-start (the "
                        + "new group waits one lease before granting, as a pager restarted in memory does)");
            }
            if (sync == RaftSync.FSYNC) {
                syncTree(raftDir);
                Files.delete(marker);
                syncDir(raftDir);
            }
            return;
        }
        if (sync == RaftSync.NONE) {
            if (now == null) {
                throw new IOException(who + ": --raft-sync none with --store needs the host's boot id (" + BOOT_ID
                        + ", Linux) to tell a restarted host, whose unsynced log cannot be trusted; none is "
                        + "readable here: use --raft-sync fsync, or no --store");
            }
            Files.createDirectories(raftDir);
            Files.writeString(marker, now + "\n", StandardCharsets.US_ASCII);
            syncFile(marker);
            syncDir(raftDir);
        }
    }

    /** After a clean stop on a store: syncs every file of the log and removes the marker, if any. */
    static void syncAndForget(Path raftDir) throws IOException {
        Path marker = raftDir.resolve(MARKER);
        if (Files.exists(marker)) {
            syncTree(raftDir);
            Files.delete(marker);
            syncDir(raftDir);
        }
    }

    private static void syncTree(Path dir) throws IOException {
        List<Path> all;
        try (Stream<Path> walk = Files.walk(dir)) {
            all = walk.toList();
        }
        for (Path p : all) {
            if (Files.isRegularFile(p)) {
                syncFile(p);
            } else if (Files.isDirectory(p)) {
                syncDir(p);
            }
        }
    }

    private static void syncFile(Path file) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
            c.force(true);
        }
    }

    /** A directory's entries (a file created, renamed or removed); Linux syncs a directory opened to read. */
    private static void syncDir(Path dir) throws IOException {
        io.machxp.pager.store.DirectorySync.FSYNC.force(dir);
    }
}
