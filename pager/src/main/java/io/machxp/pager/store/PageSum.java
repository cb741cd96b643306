package io.machxp.pager.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The checked record of one page in a {@link FilePageStore} (its {@value FilePageStore#SUMS}
 * file): the page's version and the CRC32C of its data, and a CRC32C of the record itself.
 *
 * <pre>
 *  bytes  0..8   version, little-endian
 *  bytes  8..12  CRC32C of the page's data (page size bytes), little-endian
 *  bytes 12..16  CRC32C of the page's offset (8 bytes, little-endian) and bytes 0..12
 * </pre>
 * A record of 16 zero bytes is no record (a hole, or past the end of the file): the page was
 * never written in this format. The record's own checksum covers its offset too, so a record
 * written at the wrong place does not pass for the page's.
 */
record PageSum(long version, int dataCrc) {
    static final int BYTES = 16;

    /** The CRC32C of a page's data: one pass over its bytes (an intrinsic on x86 and ARM). */
    static int crcOf(byte[] data) {
        CRC32C crc = new CRC32C();
        crc.update(data, 0, data.length);
        return (int) crc.getValue();
    }

    /** Where the record of the page at {@code offset} is in its file. */
    static long position(long offset, int pageSize) {
        return offset / pageSize * BYTES;
    }

    /** The record's 16 bytes, for the page at {@code offset}. */
    ByteBuffer encode(long offset) {
        ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, version).putInt(8, dataCrc).putInt(12, recordCrc(offset, b));
        return b;
    }

    /**
     * The record in {@code b} (16 bytes, little-endian) of the page at {@code offset}; null if
     * there is none (all zeros).
     *
     * @throws StoreDamage if its own checksum does not match (torn, or damaged), with {@code where}
     */
    static PageSum decode(ByteBuffer b, long offset, String where) {
        b.order(ByteOrder.LITTLE_ENDIAN);
        if (b.getLong(0) == 0 && b.getLong(8) == 0) {
            return null;
        }
        int expected = recordCrc(offset, b);
        if (b.getInt(12) != expected) {
            throw new StoreDamage(where + " is damaged: its checksum is " + hex(b.getInt(12)) + ", its bytes give "
                    + hex(expected));
        }
        return new PageSum(b.getLong(0), b.getInt(8));
    }

    private static int recordCrc(long offset, ByteBuffer record) {
        CRC32C crc = new CRC32C();
        crc.update(ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(0, offset));
        crc.update(record.duplicate().clear().limit(12));
        return (int) crc.getValue();
    }

    static String hex(int crc) {
        return String.format("0x%08x", crc);
    }
}
