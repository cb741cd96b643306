package io.machxp.pager.page;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;

/**
 * Pages between protobuf's ByteStrings and the pager's arrays, without copying where that is safe.
 * It is safe because no page array is ever changed once made (see
 * {@link io.machxp.pager.object.MemoryObject}): a ByteString parsed from a kernel's message owns
 * its array, and the pager only reads it; an array the pager sends goes into a message as it is.
 * (A kernel in the pager's own process that wrapped memory it goes on changing in a ByteString
 * would break this: machxp's kernels copy a page into the message they send.)
 */
public final class PageBytes {
    private PageBytes() {}

    /** The message's page as an array: the ByteString's own when it has exactly one, else a copy. */
    public static byte[] array(ByteString data) {
        Whole whole = new Whole();
        try {
            UnsafeByteOperations.unsafeWriteTo(data, whole);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // Whole throws nothing
        }
        return whole.array != null && whole.array.length == data.size() ? whole.array : data.toByteArray();
    }

    /** An array of the pager's, as a message's bytes, uncopied. */
    public static ByteString wrap(byte[] page) {
        return UnsafeByteOperations.unsafeWrap(page);
    }

    /** Catches the one array that backs a whole ByteString, if one does. */
    private static final class Whole extends ByteOutput {
        byte[] array;
        private int pieces;

        @Override
        public void writeLazy(byte[] value, int offset, int length) {
            array = ++pieces == 1 && offset == 0 && length == value.length ? value : null;
        }

        @Override
        public void write(byte[] value, int offset, int length) {
            array = null; // a piece that is not a whole array of its own: copy
            pieces++;
        }

        @Override
        public void write(byte value) {
            array = null;
            pieces++;
        }

        @Override
        public void write(ByteBuffer value) {
            array = null;
            pieces++;
        }

        @Override
        public void writeLazy(ByteBuffer value) {
            array = null;
            pieces++;
        }
    }
}
