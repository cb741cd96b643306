package io.machxp.pager.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * What a {@link FilePageStore} keeps of the pager across restarts besides pages and holders: its
 * epoch ({@value FilePageStore#EPOCH_FILE}) and the last pager's lease
 * ({@value FilePageStore#LEASE_FILE}), one checked number each ({@link CheckedText}; the unchecked
 * syntax of the format before checksums only in an upgraded store), each replaced atomically and
 * forced, with its directory, before the call returns.
 * <pre>
 *  no epoch file     a first start: the epoch is the time-based default; not restarted
 *  an epoch file     a restart: one more than it (never below the default); restarted
 *  a damaged file    the start fails, naming the file and what to do
 * </pre>
 * Not thread-safe: the pager calls these once each at its start.
 */
final class EpochAndLease {
    private final Path dir;
    private final DirectorySync dirSync;
    private final boolean upgraded;
    private boolean restarted;

    EpochAndLease(Path dir, DirectorySync dirSync, boolean upgraded) {
        this.dir = dir;
        this.dirSync = dirSync;
        this.upgraded = upgraded;
    }

    /**
     * One more than the epoch kept in the directory (and never less than {@code byTime}'s),
     * written back and forced to the disk before it is returned.
     */
    long nextEpoch(LongSupplier byTime) {
        Path file = dir.resolve(FilePageStore.EPOCH_FILE);
        try {
            long last = Files.exists(file) ? CheckedText.numberIn(CheckedText.read(file, "the pager's epoch"), file,
                    "the pager's epoch", upgraded) : 0;
            restarted = last > 0;
            long next = Math.max(last + 1, byTime.getAsLong());
            CheckedText.replace(file, CheckedText.numberFile(next), dirSync);
            return next;
        } catch (IOException | StoreDamage e) {
            throw new UncheckedIOException(new IOException("the pager epoch in " + file + " cannot be read and advanced: "
                    + said(e) + "; fix the file (deleting it makes the next pager take it for a first start, with "
                    + "no grace period for the kernels of the last one)", e));
        }
    }

    /** True once {@link #nextEpoch} found the epoch of an earlier pager in the directory. */
    boolean restarted() {
        return restarted;
    }

    /** Reads the last pager's lease and writes this one's (or the longer of the two), in one atomic write. */
    long replaceLease(long leaseNanos, boolean keepLonger) {
        Path file = dir.resolve(FilePageStore.LEASE_FILE);
        try {
            long last = Files.exists(file) ? CheckedText.numberIn(CheckedText.read(file, "the last pager's lease"), file,
                    "the last pager's lease in nanoseconds", upgraded) : 0;
            CheckedText.replace(file, CheckedText.numberFile(keepLonger ? Math.max(last, leaseNanos) : leaseNanos),
                    dirSync);
            return last;
        } catch (IOException | StoreDamage e) {
            throw new UncheckedIOException(new IOException("the lease of the last pager in " + file
                    + " cannot be read and replaced: " + said(e) + "; fix the file, or delete it only if no kernel of "
                    + "the last pager can still be running", e));
        }
    }

    /** A failure as a log sentence: damage says itself; an I/O error with its class (NoSuchFileException: a path). */
    private static String said(Exception e) {
        return e instanceof StoreDamage ? e.getMessage() : e.toString();
    }
}
