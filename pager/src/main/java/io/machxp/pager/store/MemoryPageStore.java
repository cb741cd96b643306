package io.machxp.pager.store;

import java.util.HashMap;
import java.util.Map;

/** A {@link PageStore} in memory: the pages last as long as the pager. The default. */
public final class MemoryPageStore implements PageStore {
    private final Map<String, Map<Long, byte[]>> objects = new HashMap<>();

    @Override
    public byte[] read(String object, long offset) {
        byte[] page = objects.getOrDefault(object, Map.of()).get(offset);
        return page == null ? null : page.clone();
    }

    @Override
    public void write(String object, long offset, byte[] page) {
        objects.computeIfAbsent(object, o -> new HashMap<>()).put(offset, page.clone());
    }
}
