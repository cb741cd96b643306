package io.machxp.pager.object;

import io.machxp.pager.store.PageStore;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * A memory object the pager serves: a name, a size in whole pages, and the pager's copy of its
 * pages, kept in a {@link PageStore}. A page the pager has no data for (never written, or all
 * zeros) is supplied as memory_object_data_unavailable (zero fill).
 *
 * <p>A page whose store write failed stays here in memory, so the pager still supplies what it
 * was given, until a later write of the page succeeds; only its durability is lost.
 */
public final class MemoryObject {
    private final String name;
    private final long size;
    private final PageStore store;
    private final Map<Long, Unsaved> unsaved = new HashMap<>();

    private record Unsaved(byte[] data, long version) {}

    public MemoryObject(String name, long size, PageStore store) {
        this.name = name;
        this.size = size;
        this.store = store;
    }

    public String name() {
        return name;
    }

    public long size() {
        return size;
    }

    /**
     * The data of the page at {@code offset}, or null if it is all zeros.
     *
     * @throws UncheckedIOException if the store cannot read it
     */
    public byte[] page(long offset) {
        Unsaved kept = unsaved.get(offset);
        byte[] data = kept != null ? kept.data : store.read(name, offset);
        return data == null || isZero(data) ? null : data.clone();
    }

    /**
     * The version of the pager's copy of the page at {@code offset} (0: never written).
     *
     * @throws UncheckedIOException if the store cannot read it
     */
    public long version(long offset) {
        Unsaved kept = unsaved.get(offset);
        return kept != null ? kept.version : store.version(name, offset);
    }

    /**
     * Makes {@code data} (one page) the pager's copy of the page at {@code offset}, as {@code version}.
     *
     * @throws UncheckedIOException if the store cannot write it; the page is then kept in memory
     */
    public void write(long offset, byte[] data, long version) {
        try {
            store.write(name, offset, data, version);
            unsaved.remove(offset);
        } catch (UncheckedIOException e) {
            unsaved.put(offset, new Unsaved(data.clone(), version));
            throw e;
        }
    }

    private static boolean isZero(byte[] data) {
        for (byte b : data) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }
}
