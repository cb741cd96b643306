package io.machxp.kernel.core;

import io.machxp.kernel.vm.PageContents;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Words in page contents: little-endian, as the task interface documents. A page's own contents
 * are words ({@link PageContents}); byte arrays are copies (a pager's data, a task's). The byte-array
 * views here are plain access only (a byte-array view supports nothing else on JDK 22 and later);
 * the atomic accesses to a page's words are {@link PageContents}'s. Core thread only.
 */
final class PageBytes {
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private PageBytes() {}

    static int getInt(byte[] page, int at) {
        return (int) INT.get(page, at);
    }

    static void putInt(byte[] page, int at, int value) {
        INT.set(page, at, value);
    }

    static long getLong(byte[] page, int at) {
        return (long) LONG.get(page, at);
    }

    static void putLong(byte[] page, int at, long value) {
        LONG.set(page, at, value);
    }

    static int getInt(long[] page, int at) {
        return PageContents.getInt(page, at);
    }

    static void putInt(long[] page, int at, int value) {
        PageContents.putInt(page, at, value);
    }

    static long getLong(long[] page, int at) {
        return PageContents.getLong(page, at);
    }

    static void putLong(long[] page, int at, long value) {
        PageContents.putLong(page, at, value);
    }
}
