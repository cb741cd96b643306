package io.machxp.pager.object;

import java.util.HashMap;
import java.util.Map;

/**
 * A memory object the pager serves: a name, a size in whole pages, and the pages that hold data.
 * A page the pager has no data for is supplied as memory_object_data_unavailable (zero fill).
 */
public final class MemoryObject {
    private final String name;
    private final long size;
    private final Map<Long, byte[]> pages = new HashMap<>();

    public MemoryObject(String name, long size) {
        this.name = name;
        this.size = size;
    }

    public String name() {
        return name;
    }

    public long size() {
        return size;
    }

    /** The data of the page at {@code offset}, or null if it is all zeros. */
    public byte[] page(long offset) {
        return pages.get(offset);
    }
}
