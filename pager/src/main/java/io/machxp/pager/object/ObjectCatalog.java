package io.machxp.pager.object;

import io.machxp.pager.store.MemoryPageStore;
import io.machxp.pager.store.PageStore;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** The memory objects one pager serves, by name, and the store of their pages. Fixed at start. */
public final class ObjectCatalog {
    /** What a pager serves when nothing else is configured. */
    public static final String DEFAULT_OBJECT = "shared";
    public static final long DEFAULT_OBJECT_SIZE = 1 << 20;

    private final Map<String, MemoryObject> objects = new LinkedHashMap<>();

    /** Objects whose pages live in memory only. */
    public ObjectCatalog(Map<String, Long> sizes, int pageSize) {
        this(sizes, pageSize, new MemoryPageStore());
    }

    /**
     * @param sizes object name -> size in bytes; each size a positive multiple of the page size
     * @param store where the pages are kept
     */
    private PageStore store = new MemoryPageStore();

    /** The store of the pages (and of the futex holders' journal, see {@link PageStore#holder}). */
    public PageStore store() {
        return store;
    }

    public ObjectCatalog(Map<String, Long> sizes, int pageSize, PageStore store) {
        this.store = store;
        checkSizes(sizes, pageSize);
        sizes.forEach((name, size) -> objects.put(name, new MemoryObject(name, size, store)));
    }

    /** @throws IllegalArgumentException unless every size is a positive multiple of {@code pageSize} */
    public static void checkSizes(Map<String, Long> sizes, int pageSize) {
        sizes.forEach((name, size) -> {
            if (size <= 0 || size % pageSize != 0) {
                throw new IllegalArgumentException("memory object '" + name + "' has size " + size
                        + "; a size must be a positive multiple of the page size " + pageSize);
            }
        });
    }

    public MemoryObject get(String name) {
        return objects.get(name);
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(objects.keySet());
    }
}
