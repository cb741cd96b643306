package io.machxp.pager.store;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One memory object's page records in a {@link FilePageStore}: the two record slots of each page
 * ({@value FilePageStore#SUMS}, {@link PageSum}), what they say of the page's data, and the
 * object's high-water mark ({@link HighWaterMark}). The store writes pages; this judges them.
 * <pre>
 *  a page read                 its data's CRC32C must be one slot's (the higher version if both);
 *                              zeros match an empty slot; data matching neither (torn by a power
 *                              loss, damaged, its records damaged or cut off) is damaged
 *                              ({@link Check#damage}); a new write of the page replaces it
 *  a page's version            the matching slot's; a damaged page's: with both records intact,
 *                              the lower's; with one and an empty slot, one below it (the kernel
 *                              that gave back a torn write still holds that newer copy, to
 *                              reclaim); else (a record damaged, or none) one above the mark
 *  the high-water mark         a version no page of the object has passed ({@link HighWaterMark})
 *  zeros, a record, an empty   read as never written (a first write cut off before its data,
 *  slot                        or its data lost: not told apart), with a warning
 *  no record, old versions     in an upgraded store, the format before checksums: read unchecked
 *                              at the version its {@value FilePageStore#VERSIONS} file gives
 * </pre>
 * Each page known good is cached with the slot that describes its data on disk ({@link Valid}):
 * <pre>
 *  unknown  --read, or written-->  valid(slot, version)
 *  valid    --a write's data failed after it began-->  unsettled: read again, the data read
 *           back written again and forced, before the next write chooses the spare slot
 *  valid    --a read finds its data damaged-->  damaged: not cached, so its version is a damaged
 *           page's (as after its object is closed and opened again)
 *  unknown, damaged  --next write-->  keeps an intact record's slot (the lower version's); both
 *           records damaged: slot 0 kept, the new record into slot 1, and the page is good again
 *           once its data is on disk (slot 0 mended by the write after)
 *  any      --its object closed ({@link OpenObjects})-->  unknown: the whole cache dropped, built
 *           again from the files when the object is used; an unsettled page stays unsettled
 * </pre>
 * Not thread-safe: the store calls it under its lock.
 */
final class PageRecords {
    private static final Logger log = LoggerFactory.getLogger(FilePageStore.class);

    /** The store's open files of the object and its way of forcing them (which tells a test's crash hook). */
    interface Channels {
        /** The object's file with that suffix; null if it does not exist and {@code create} is false. */
        FileChannel open(String object, String suffix, boolean create) throws IOException;

        /** Forces a file of pages or records (its data, not its times). */
        void force(FileChannel file) throws IOException;
    }

    /** What the page's files say of it: its data and version, or why it is damaged. */
    static final class Check {
        byte[] data;
        /** The slot whose record the data matches (an empty one for zeros, or the format before). */
        int slot = -1;
        long version;
        /** Null if the data is good; else what is wrong, and why {@link #version} is what it is. */
        String damage;
        String versionWhy;
        /** Of data of the format before checksums: its checksum, to record before a first write. */
        Integer unrecordedCrc;
    }

    /**
     * A page that is good: the slot that describes its data on disk, and its version; for data of
     * the format before checksums, the slot is empty and the checksum to put in it is given.
     */
    record Valid(int slot, long version, Integer unrecordedCrc) {}

    private final String object;
    private final Path dir;
    private final int pageSize;
    private final boolean upgraded;
    private final Channels channels;
    private final DamageReports reports;
    /** Pages known good: offset -> the slot describing the data on disk ({@link #check}). */
    private final Map<Long, Valid> valid = new HashMap<>();
    /**
     * Pages whose data write failed after it began: what is read back may be in the page cache
     * only (Linux marks pages clean after a failed force), so before the next write chooses its
     * slot the data read is written again and forced ({@link #keptSlot}).
     */
    private final Set<Long> unsettled;
    /** Whether the object has a {@value FilePageStore#VERSIONS} file (the store never makes one); null: not looked. */
    private Boolean hasVersionsFile;
    /** The object's high-water mark. */
    final HighWaterMark mark;

    /**
     * The records of {@code object}, built again from its files when used; {@code unsettled}: its
     * pages still unsettled when its records were last dropped ({@link OpenObjects}), or null.
     */
    PageRecords(String object, Path dir, int pageSize, boolean upgraded, Channels channels, DamageReports reports,
            DirectorySync dirSync, Set<Long> unsettled) {
        this.object = object;
        this.unsettled = unsettled == null ? new HashSet<>() : unsettled;
        this.dir = dir;
        this.pageSize = pageSize;
        this.upgraded = upgraded;
        this.channels = channels;
        this.reports = reports;
        this.mark = new HighWaterMark(object, dir, pageSize, channels, dirSync, () -> upgraded && hasVersionsFile());
    }

    /** The object's file with that suffix (as {@link FilePageStore#fileOf} and the others). */
    private Path file(String suffix) {
        return file(dir, object, suffix);
    }

    /** The file of {@code object} with that suffix in the store's directory. */
    static Path file(Path dir, String object, String suffix) {
        return dir.resolve(URLEncoder.encode(object, StandardCharsets.UTF_8) + suffix);
    }

    /** The page known good (its slot and version), or null if it is to be read. */
    Valid valid(long offset) {
        return valid.get(offset);
    }

    /** The page's data and slot describing it are on disk. */
    void written(long offset, int slot, long version) {
        valid.put(offset, new Valid(slot, version, null));
        unsettled.remove(offset);
    }

    /** A write of the page's data failed after it began: which slot describes it is known again when read. */
    void unsettle(long offset) {
        valid.remove(offset);
        unsettled.add(offset);
    }

    /** The pages unsettled (not a cache: kept when the records are dropped). */
    Set<Long> unsettledPages() {
        return unsettled;
    }

    /** Reads the page's data and both its records, and judges them; a good page's slot is cached. */
    Check check(long offset) {
        Check c = new Check();
        try {
            FileChannel file = channels.open(object, FilePageStore.SUFFIX, false);
            FileChannel sums = channels.open(object, FilePageStore.SUMS, false);
            ByteBuffer page = ByteBuffer.allocate(pageSize);
            while (file != null && page.hasRemaining() && file.read(page, offset + page.position()) >= 0) {
                // a short read: go on where it stopped; end of file: the rest is zeros
            }
            byte[] data = page.array();
            PageSum[] slot = new PageSum[2];
            String[] slotDamage = new String[2];
            if (sums != null) {
                ByteBuffer records = ByteBuffer.allocate(PageSum.SLOTS);
                long at = PageSum.position(offset, pageSize);
                while (records.hasRemaining() && sums.read(records, at + records.position()) >= 0) {
                    // as above
                }
                for (int i = 0; i < 2; i++) {
                    try {
                        slot[i] = PageSum.decode(records.slice(i * PageSum.BYTES, PageSum.BYTES), offset, i,
                                "the record in slot " + i + " of page 0x" + Long.toHexString(offset) + " of '"
                                        + object + "' in " + file(FilePageStore.SUMS) + " at byte "
                                        + (at + i * PageSum.BYTES));
                    } catch (StoreDamage e) {
                        slotDamage[i] = e.getMessage();
                    }
                }
            }
            boolean zero = isZero(data);
            int crc = PageSum.crcOf(data);
            for (int i = 0; i < 2; i++) {
                if (slot[i] != null && slot[i].dataCrc() == crc
                        && (c.slot < 0 || slot[i].version() > slot[c.slot].version())) {
                    c.slot = i;
                }
            }
            if (c.slot >= 0) {
                c.version = slot[c.slot].version();
            } else {
                int empty = slot[1] == null && slotDamage[1] == null ? 1 // so that a first write takes slot 0
                        : slot[0] == null && slotDamage[0] == null ? 0 : -1;
                boolean noRecord = slot[0] == null && slot[1] == null && slotDamage[0] == null && slotDamage[1] == null;
                if (noRecord && upgraded && hasVersionsFile()) {
                    c.slot = empty; // written in the format before checksums (or never): read unchecked
                    c.version = oldVersion(offset);
                    c.unrecordedCrc = crc;
                } else if (empty >= 0 && zero) {
                    c.slot = empty; // never written, or a first write cut off before its data
                    if (slot[1 - empty] != null) {
                        reports.zeroWithRecord(object, offset, file(FilePageStore.SUFFIX), file(FilePageStore.SUMS),
                                slot[1 - empty]);
                    }
                } else {
                    c.damage = damageOf(offset, file, slot, slotDamage, crc);
                    damagedVersion(slot, slotDamage, c);
                    valid.remove(offset); // damaged since cached: its version and kept slot are a damaged page's now
                    return c;
                }
            }
            c.data = zero ? null : data;
            boolean neverWritten = zero && c.version == 0 && c.unrecordedCrc == null
                    && slot[0] == null && slot[1] == null && slotDamage[0] == null && slotDamage[1] == null;
            if (!neverWritten) { // a scan of pages never written does not fill the cache
                valid.put(offset, new Valid(c.slot, c.version, c.unrecordedCrc));
            }
            return c;
        } catch (IOException e) {
            throw FilePageStore.failure("read", object, offset, file(FilePageStore.SUFFIX), e);
        }
    }

    /** Why the page is damaged, in a sentence: what its data's checksum is and what its records say. */
    private String damageOf(long offset, FileChannel file, PageSum[] slot, String[] slotDamage, int crc)
            throws IOException {
        StringBuilder why = new StringBuilder("its data's checksum is " + PageSum.hex(crc) + ", which neither of its "
                + "records in " + file(FilePageStore.SUMS) + " expects (");
        for (int i = 0; i < 2; i++) {
            why.append(i == 0 ? "" : "; ").append("slot ").append(i).append(": ").append(slot[i] != null
                    ? "expects " + PageSum.hex(slot[i].dataCrc()) + " (version " + slot[i].version() + ")"
                    : slotDamage[i] != null ? slotDamage[i] : "no record (that file is cut short?)");
        }
        why.append(')');
        if (file != null && file.size() < offset + pageSize) {
            why.append("; the file ends at byte ").append(file.size()).append(", before the page does (cut short?)");
        }
        return why.toString();
    }

    /**
     * The version of a damaged page (see {@link FilePageStore#version}). Both records intact: the
     * lower's (a write torn by a power loss left the higher, whose copy its kernel still holds).
     * One intact and the other slot empty: one below it, the version the page's first write
     * started from (that write was torn: its kernel's copy, at the record's version, is newer).
     * Otherwise (a record damaged, or none left): one above the object's high-water mark, which
     * no acknowledged version of any of its pages has passed.
     */
    private void damagedVersion(PageSum[] slot, String[] slotDamage, Check c) throws IOException {
        boolean bothIntact = slot[0] != null && slot[1] != null;
        int only = slot[0] != null && slot[1] == null && slotDamage[1] == null ? 0
                : slot[1] != null && slot[0] == null && slotDamage[0] == null ? 1 : -1;
        if (bothIntact) {
            c.version = Math.min(slot[0].version(), slot[1].version());
            c.versionWhy = "the lower intact record's: a kernel's copy of a torn write is newer and replaces it";
        } else if (only >= 0) {
            c.version = slot[only].version() - 1;
            c.versionWhy = "one below its only record's, the version its torn first write started from: that "
                    + "write's copy, which its kernel holds, is newer and replaces it";
        } else {
            c.version = mark.get() + 1;
            c.versionWhy = "a record of it is damaged or none is left: one above the high-water mark of the "
                    + "object's versions in " + mark.file() + ", so that no copy a kernel gives back "
                    + "replaces it unless newer than every version acknowledged";
        }
    }

    /** The version the format before checksums kept for the page (0 if none). */
    private long oldVersion(long offset) throws IOException {
        FileChannel file = channels.open(object, FilePageStore.VERSIONS, false);
        if (file == null) {
            return 0;
        }
        ByteBuffer version = ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        long at = offset / pageSize * Long.BYTES;
        while (version.hasRemaining() && file.read(version, at + version.position()) >= 0) {
            // as in check
        }
        return version.getLong(0);
    }

    /** Whether the object has a {@value FilePageStore#VERSIONS} file: pages written before checksums (cached). */
    private boolean hasVersionsFile() {
        if (hasVersionsFile == null) {
            hasVersionsFile = Files.exists(file(FilePageStore.VERSIONS));
        }
        return hasVersionsFile;
    }

    /**
     * The slot to keep of the page: the one that describes its data on disk (cached, else read);
     * for a damaged page, an intact record's slot rather than a damaged or empty one, the lower
     * version's if both are (the damaged page's version stays that one until the new data is
     * on disk, so a crash in between still takes a kernel's copy of the higher one).
     */
    int keptSlot(long offset) {
        if (unsettled.contains(offset)) {
            valid.remove(offset);
            Check c = check(offset);
            if (c.damage == null) { // make what the slot describes durable before the other slot is overwritten
                try {
                    FileChannel data = channels.open(object, FilePageStore.SUFFIX, true);
                    FilePageStore.writeFully(data, ByteBuffer.wrap(c.data == null ? new byte[pageSize] : c.data),
                            offset);
                    channels.force(data);
                } catch (IOException e) {
                    throw FilePageStore.failure("write again the data read back of", object, offset,
                            file(FilePageStore.SUFFIX), e);
                }
            }
            unsettled.remove(offset);
        }
        Valid v = valid.get(offset);
        if (v != null) {
            return v.slot();
        }
        Check c = check(offset);
        if (c.damage == null) {
            return c.slot;
        }
        try {
            FileChannel sums = channels.open(object, FilePageStore.SUMS, false);
            PageSum best = null;
            int kept = 0;
            for (int i = 0; sums != null && i < 2; i++) {
                ByteBuffer record = ByteBuffer.allocate(PageSum.BYTES);
                long at = PageSum.position(offset, pageSize, i);
                while (record.hasRemaining() && sums.read(record, at + record.position()) >= 0) {
                    // as in check
                }
                try {
                    PageSum s = PageSum.decode(record, offset, i, "");
                    if (s != null && (best == null || s.version() < best.version())) {
                        best = s;
                        kept = i;
                    }
                } catch (StoreDamage e) {
                    // not intact: the spare
                }
            }
            return kept;
        } catch (IOException e) {
            throw FilePageStore.failure("read the records of", object, offset, file(FilePageStore.SUMS), e);
        }
    }

    static boolean isZero(byte[] data) {
        for (byte b : data) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }
}
