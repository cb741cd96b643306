package io.machxp.pager.store;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Arrays;

/** What the store's tests write and how they damage the files: one page of a byte, a flipped byte. */
final class StoreTestFiles {
    /** The page size of the store's tests. */
    static final int PAGE = 4096;

    private StoreTestFiles() {}

    /** A page of {@link #PAGE} bytes, each {@code b}. */
    static byte[] page(int b) {
        byte[] data = new byte[PAGE];
        Arrays.fill(data, (byte) b);
        return data;
    }

    /** Flips one bit of the byte at {@code at} of {@code file}, as damage on the disk would. */
    static void flipByte(Path file, long at) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x40);
        }
    }
}
