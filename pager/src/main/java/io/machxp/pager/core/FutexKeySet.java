package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import java.util.AbstractSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * A kernel's futexes (those it holds, or those it waits for: {@link KernelSession#held},
 * {@link KernelSession#queued}), in the order added, with an index by object kept beside them,
 * so that what concerns one object (a memory_object_terminate) looks only at that object's
 * futexes, not at all the kernel holds. Pager core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  add, remove, iterator.remove  -> the set and its object's index alike
 *  iteration                     -> in the order added (a key removed and added again goes to
 *                                   the end: the ask-back round's rotation, FutexParking)
 *  of(object)                    -> that object's keys, in the same relative order
 * </pre>
 * The index is derived: a restored core adds the keys again in the snapshot's order and has the
 * same index, so nothing of it is in the snapshot.
 */
public final class FutexKeySet extends AbstractSet<FutexKey> {
    private final LinkedHashSet<FutexKey> all = new LinkedHashSet<>();
    private final Map<String, LinkedHashSet<FutexKey>> byObject = new HashMap<>();

    @Override
    public boolean add(FutexKey key) {
        if (!all.add(key)) {
            return false;
        }
        byObject.computeIfAbsent(key.object(), o -> new LinkedHashSet<>()).add(key);
        return true;
    }

    @Override
    public boolean remove(Object o) {
        if (!all.remove(o)) {
            return false;
        }
        unindex((FutexKey) o);
        return true;
    }

    @Override
    public boolean contains(Object o) {
        return all.contains(o);
    }

    @Override
    public int size() {
        return all.size();
    }

    @Override
    public void clear() {
        all.clear();
        byObject.clear();
    }

    @Override
    public Iterator<FutexKey> iterator() {
        Iterator<FutexKey> it = all.iterator();
        return new Iterator<>() {
            private FutexKey last;

            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public FutexKey next() {
                last = it.next();
                return last;
            }

            @Override
            public void remove() {
                it.remove();
                unindex(last);
            }
        };
    }

    /** The keys of {@code object} (null: all), in the set's order: a copy, so the set may change meanwhile. */
    public List<FutexKey> of(String object) {
        if (object == null) {
            return List.copyOf(all);
        }
        LinkedHashSet<FutexKey> keys = byObject.get(object);
        return keys == null ? List.of() : List.copyOf(keys);
    }

    private void unindex(FutexKey key) {
        LinkedHashSet<FutexKey> keys = byObject.get(key.object());
        keys.remove(key);
        if (keys.isEmpty()) {
            byObject.remove(key.object());
        }
    }
}
