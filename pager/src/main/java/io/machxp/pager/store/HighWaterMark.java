package io.machxp.pager.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One memory object's high-water mark in a {@link FilePageStore} ({@value FilePageStore#MARK},
 * one checked line): a version no page of the object has passed. A damaged page whose records
 * cannot say where it stood takes one above it ({@link PageRecords}).
 * <pre>
 *  unknown  --first asked, the file read-->                            known
 *  unknown  --no file (or a damaged one, logged), the object has files-->  its highest intact
 *           record or old version + {@value #MARK_STEP}, written          known
 *  unknown  --the object has no files-->                               0 (nothing written)
 *  known    --a write's version passes it-->  version + {@value #MARK_STEP}, written and forced
 *           before that write's record (the only extra force, once per {@value #MARK_STEP} versions)
 * </pre>
 * Not thread-safe: the store calls it under its lock.
 */
final class HighWaterMark {
    private static final Logger log = LoggerFactory.getLogger(FilePageStore.class);
    /** How far ahead of a write's version the mark is written when the version passes it. */
    static final long MARK_STEP = 1L << 20;

    private final String object;
    private final Path dir;
    private final int pageSize;
    private final PageRecords.Channels channels;
    private final DirectorySync dirSync;
    /** Whether the object's old {@value FilePageStore#VERSIONS} file is read (an upgraded store that has one). */
    private final BooleanSupplier oldVersions;
    /** Once read or written. */
    private Long mark;

    HighWaterMark(String object, Path dir, int pageSize, PageRecords.Channels channels, DirectorySync dirSync,
            BooleanSupplier oldVersions) {
        this.object = object;
        this.dir = dir;
        this.pageSize = pageSize;
        this.channels = channels;
        this.dirSync = dirSync;
        this.oldVersions = oldVersions;
    }

    /**
     * The object's high-water mark, read once. A store without one (of the format before
     * checksums, or written before marks) takes the highest version of the object's intact
     * records and old versions, plus {@value #MARK_STEP}, and writes it down; so does a damaged
     * mark file (logged). An object with no files has none (0).
     */
    long get() throws IOException {
        if (mark != null) {
            return mark;
        }
        Path file = file();
        if (Files.exists(file)) {
            try {
                mark = CheckedText.numberIn(CheckedText.read(file, "a high-water mark"), file,
                        "the high-water mark of '" + object + "'", false);
                return mark;
            } catch (StoreDamage e) {
                log.error("page store: {}; taken again from the object's intact records", e.getMessage());
            }
        } else if (!Files.exists(PageRecords.file(dir, object, FilePageStore.SUFFIX))
                && !Files.exists(PageRecords.file(dir, object, FilePageStore.SUMS)) && !oldVersions.getAsBoolean()) {
            mark = 0L;
            return 0;
        }
        long high = highWater() + MARK_STEP;
        write(high);
        return high;
    }

    /** Moves the mark {@value #MARK_STEP} ahead of {@code version} if that passes it, before the version is recorded. */
    void pass(long version) throws IOException {
        if (version > get()) { // the rare step: the mark ahead of every version recorded
            write(version + MARK_STEP);
        }
    }

    /** The mark's file. */
    Path file() {
        return PageRecords.file(dir, object, FilePageStore.MARK);
    }

    /** Writes the mark, forced with its directory entry, before it counts. */
    private void write(long mark) throws IOException {
        CheckedText.replace(file(), CheckedText.numberFile(mark), dirSync);
        this.mark = mark;
    }

    /** The highest version of any intact record of the object's pages, or of its old versions (0 if none). */
    private long highWater() throws IOException {
        long high = 0;
        ByteBuffer chunk = ByteBuffer.allocate(64 * 1024); // a whole number of pages' slots
        FileChannel sums = channels.open(object, FilePageStore.SUMS, false);
        for (long base = 0; sums != null && base < sums.size(); base += chunk.capacity()) {
            chunk.clear();
            while (chunk.hasRemaining() && sums.read(chunk, base + chunk.position()) >= 0) {
                // a short read: go on where it stopped
            }
            for (int at = 0; at + PageSum.BYTES <= chunk.position(); at += PageSum.BYTES) {
                long record = base + at;
                try {
                    long offset = record / PageSum.SLOTS * pageSize;
                    PageSum s = PageSum.decode(chunk.slice(at, PageSum.BYTES), offset,
                            (int) (record % PageSum.SLOTS / PageSum.BYTES), "");
                    high = s == null ? high : Math.max(high, s.version());
                } catch (StoreDamage e) {
                    // not intact: not counted
                }
            }
        }
        FileChannel old = oldVersions.getAsBoolean() ? channels.open(object, FilePageStore.VERSIONS, false) : null;
        for (long base = 0; old != null && base < old.size(); base += chunk.capacity()) {
            chunk.clear();
            while (chunk.hasRemaining() && old.read(chunk, base + chunk.position()) >= 0) {
                // as above
            }
            ByteBuffer versions = chunk.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            for (int at = 0; at + Long.BYTES <= chunk.position(); at += Long.BYTES) {
                high = Math.max(high, versions.getLong(at));
            }
        }
        return high;
    }
}
