package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * For each kernel session, the pages of {@link PageTable} it has to do with, so that a message of
 * one kernel finds its own pages without walking every kernel's page records:
 * <pre>
 *  awaited   exact: the pages whose operation in progress waits for its lock_completed, by
 *            object and offset; a range lock_completed takes the part of its range, O(log n + k)
 *            for k pages it completes (before: every page of the range, or every page record)
 *  touched   a superset of the pages it holds, asks for or is asked about: every page it was
 *            made a holder of, or asked for, since its object's last terminate (entries go only
 *            then, or with the session); a terminate and a forgotten session visit these, each
 *            paid for by the request or grant that touched it (before: every page record of
 *            every kernel, at each terminate). At most one entry per page of an object per
 *            session, however often touched.
 * </pre>
 * Pager core thread only. Not in snapshots: rebuilt from the records ({@link PageTable#reindex}).
 */
final class SessionPages {
    private final Map<KernelSession, Map<String, TreeSet<Long>>> awaited = new HashMap<>();
    private final Map<KernelSession, Map<String, Set<Long>>> touched = new HashMap<>();

    /** {@code s} has to do with the page now (a holder, a requester, asked about it). */
    void touch(KernelSession s, PageKey key) {
        touched.computeIfAbsent(s, k -> new HashMap<>()).computeIfAbsent(key.object(), k -> new HashSet<>())
                .add(key.offset());
    }

    /** The page's operation in progress waits for {@code s}'s lock_completed. */
    void await(KernelSession s, PageKey key) {
        awaited.computeIfAbsent(s, k -> new HashMap<>()).computeIfAbsent(key.object(), k -> new TreeSet<>())
                .add(key.offset());
        touch(s, key);
    }

    /** The page's operation waits for {@code s} no more. */
    void unawait(KernelSession s, PageKey key) {
        Map<String, TreeSet<Long>> of = awaited.get(s);
        TreeSet<Long> offsets = of == null ? null : of.get(key.object());
        if (offsets != null && offsets.remove(key.offset()) && offsets.isEmpty()) {
            of.remove(key.object());
            if (of.isEmpty()) {
                awaited.remove(s);
            }
        }
    }

    /** The offsets in [{@code from}, {@code to}) of {@code object} whose operation awaits {@code s}, ascending (a copy). */
    List<Long> awaitedIn(KernelSession s, String object, long from, long to) {
        Map<String, TreeSet<Long>> of = awaited.get(s);
        TreeSet<Long> offsets = of == null ? null : of.get(object);
        if (offsets == null || from >= to) {
            return List.of();
        }
        NavigableSet<Long> in = offsets.subSet(from, true, to, false);
        return new ArrayList<>(in);
    }

    /** The pages of {@code object} (null: of every object) {@code s} touched, in no order. */
    List<PageKey> touched(KernelSession s, String object) {
        Map<String, Set<Long>> of = touched.get(s);
        List<PageKey> keys = new ArrayList<>();
        if (of == null) {
            return keys;
        }
        of.forEach((name, offsets) -> {
            if (object == null || object.equals(name)) {
                offsets.forEach(offset -> keys.add(new PageKey(name, offset)));
            }
        });
        return keys;
    }

    /** {@code s} has nothing to do with the pages of {@code object} (null: of any object) any more. */
    void untouch(KernelSession s, String object) {
        if (object == null) {
            touched.remove(s);
            return;
        }
        Map<String, Set<Long>> of = touched.get(s);
        if (of != null && of.remove(object) != null && of.isEmpty()) {
            touched.remove(s);
        }
    }

    /** Entries kept, for tests: touched pages of every session. */
    long touchedCount() {
        long n = 0;
        for (Map<String, Set<Long>> of : touched.values()) {
            for (Set<Long> offsets : of.values()) {
                n += offsets.size();
            }
        }
        return n;
    }

    void clear() {
        awaited.clear();
        touched.clear();
    }
}
