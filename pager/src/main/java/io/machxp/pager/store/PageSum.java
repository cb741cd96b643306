package io.machxp.pager.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * One checked record of a page in a {@link FilePageStore} (its {@value FilePageStore#SUMS}
 * file): a version of the page and the CRC32C of its data, and a CRC32C of the record itself.
 * Each page has two slots for one ({@value #SLOTS} bytes a page, page N at byte 32N, slot 0
 * then slot 1): a write puts its record in the slot that does not describe the data on disk,
 * and only then the data, so one of the two always matches the data a crash leaves.
 *
 * <pre>
 *  bytes  0..8   version, little-endian
 *  bytes  8..12  CRC32C of the page's data (page size bytes), little-endian
 *  bytes 12..16  CRC32C of the page's offset (8 bytes, little-endian), the slot (1 byte) and bytes 0..12
 * </pre>
 * A record of 16 zero bytes is no record (a hole, or past the end of the file): an empty slot,
 * which describes a page of zeros at version 0. The record's own checksum covers its offset and
 * slot too, so a record written at the wrong place does not pass for the page's.
 */
record PageSum(long version, int dataCrc) {
    static final int BYTES = 16;
    /** The bytes of a page's two slots. */
    static final int SLOTS = 2 * BYTES;

    /** The CRC32C of a page's data: one pass over its bytes (an intrinsic on x86 and ARM). */
    static int crcOf(byte[] data) {
        CRC32C crc = new CRC32C();
        crc.update(data, 0, data.length);
        return (int) crc.getValue();
    }

    /** Where the slots of the page at {@code offset} begin in its file. */
    static long position(long offset, int pageSize) {
        return offset / pageSize * SLOTS;
    }

    /** Where slot {@code slot} (0 or 1) of the page at {@code offset} is in its file. */
    static long position(long offset, int pageSize, int slot) {
        return position(offset, pageSize) + (long) slot * BYTES;
    }

    /** The record's 16 bytes, for slot {@code slot} of the page at {@code offset}. */
    ByteBuffer encode(long offset, int slot) {
        ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, version).putInt(8, dataCrc).putInt(12, recordCrc(offset, slot, b));
        return b;
    }

    /**
     * The record in {@code b} (16 bytes, little-endian), slot {@code slot} of the page at {@code offset}; null if
     * there is none (all zeros).
     *
     * @throws StoreDamage if its own checksum does not match (torn, or damaged), with {@code where}
     */
    static PageSum decode(ByteBuffer b, long offset, int slot, String where) {
        b.order(ByteOrder.LITTLE_ENDIAN);
        if (b.getLong(0) == 0 && b.getLong(8) == 0) {
            return null;
        }
        int expected = recordCrc(offset, slot, b);
        if (b.getInt(12) != expected) {
            throw new StoreDamage(where + " is damaged: its checksum is " + hex(b.getInt(12)) + ", its bytes give "
                    + hex(expected));
        }
        return new PageSum(b.getLong(0), b.getInt(8));
    }

    private static int recordCrc(long offset, int slot, ByteBuffer record) {
        CRC32C crc = new CRC32C();
        crc.update(ByteBuffer.allocate(Long.BYTES + 1).order(ByteOrder.LITTLE_ENDIAN).putLong(0, offset)
                .put(Long.BYTES, (byte) slot));
        crc.update(record.duplicate().clear().limit(12));
        return (int) crc.getValue();
    }

    static String hex(int crc) {
        return String.format("0x%08x", crc);
    }
}
