package io.machxp.kernel.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** Words in page contents: little-endian, as the task interface documents. Core thread only. */
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
}
