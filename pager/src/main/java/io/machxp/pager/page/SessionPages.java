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
 *  touched   exact: the page records it holds, asks for (in progress or queued) or is awaited
 *            on, by object; a terminate and a forgotten session visit these (before: every page
 *            record of every kernel, at each terminate). An entry goes when the record stops
 *            involving the kernel ({@link #settle}, run by {@link PageTable#pruneIfIdle} after
 *            every change to a record, looking only at the kernels the change may have undone,
 *            {@link PageRecord#takeLeaving}), so the index is bounded by what kernels hold and ask for,
 *            as the records are, and equals what {@link PageTable#reindex} rebuilds after a
 *            snapshot (every replica walks the same pages). By record identity: no boxing; a
 *            record lists the sessions it is indexed under ({@link PageRecord#indexed}).
 * </pre>
 * Pager core thread only. Not in snapshots: rebuilt from the records ({@link PageTable#reindex}).
 */
final class SessionPages {
    private final Map<KernelSession, Map<String, TreeSet<Long>>> awaited = new HashMap<>();
    private final Map<KernelSession, Map<String, Set<PageRecord>>> touched = new HashMap<>();
    /** Told the entries each {@link #settle} looked at (a test's measure: PagerStats.settled). */
    private final java.util.function.LongConsumer settled;

    SessionPages(java.util.function.LongConsumer settled) {
        this.settled = settled;
    }

    /** {@code s} has to do with the page now (a holder, a requester, asked about it). */
    void touch(KernelSession s, PageRecord p) {
        if (p.indexed.contains(s)) {
            return; // the usual case: a lookup in a list of one or two, nothing allocated
        }
        touched.computeIfAbsent(s, k -> new HashMap<>()).computeIfAbsent(p.key.object(), k -> new HashSet<>()).add(p);
        p.indexed.add(s);
    }

    /** The page's operation in progress waits for {@code s}'s lock_completed. */
    void await(KernelSession s, PageRecord p) {
        awaited.computeIfAbsent(s, k -> new HashMap<>()).computeIfAbsent(p.key.object(), k -> new TreeSet<>())
                .add(p.key.offset());
        touch(s, p);
    }

    /**
     * After a change to {@code p}: the sessions it no longer involves lose their entry for it. Only
     * the sessions the change may have undone are looked at ({@link PageRecord#takeLeaving}: a holder
     * dropped, a request done or withdrawn, a holder no longer awaited), each in O(1), so the work is
     * what the change undid (before: every session indexed under the record, each against the whole
     * queue, about K x 2K on a page K kernels queue on, after every message on it).
     */
    void settle(PageRecord p) {
        List<KernelSession> leaving = p.takeLeaving();
        if (leaving != null) {
            for (KernelSession s : leaving) {
                if (p.indexed.contains(s) && !involves(p, s)) {
                    p.indexed.remove(s);
                    remove(s, p);
                }
            }
            settled.accept(leaving.size());
        }
        assert p.indexed.size() + p.queue.size() > CHECKED || indexedExactly(p) : p + " indexed under "
                + p.indexed.toList() + ", which is not what involves kernels in it";
    }

    /** What {@link PageTable#reindex} indexes {@code s} under: holder, requester, awaited. */
    private static boolean involves(PageRecord p, KernelSession s) {
        if (p.holds(s)) {
            return true;
        }
        if (p.current != null && (p.current.requester == s || p.current.awaited.containsKey(s))) {
            return true;
        }
        return p.queuedBy(s, null);
    }

    /** Records this small are checked whole at each settle when assertions are on (tests). */
    private static final int CHECKED = 16;

    /** Whether the record is indexed under exactly the sessions it involves, by a walk of all of it (checks). */
    private static boolean indexedExactly(PageRecord p) {
        Set<KernelSession> involved = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        if (p.writer != null) {
            involved.add(p.writer);
        }
        involved.addAll(p.readers);
        if (p.current != null) {
            if (p.current.requester != null) {
                involved.add(p.current.requester);
            }
            involved.addAll(p.current.awaited.keySet());
        }
        for (PageOperation op : p.queue) {
            if (op.requester != null) {
                involved.add(op.requester);
                if (!p.queuedBy(op.requester, op.write)) {
                    return false; // the queue's counts are off
                }
            }
        }
        List<KernelSession> indexed = p.indexed.toList();
        return indexed.size() == involved.size() && involved.containsAll(indexed);
    }

    private void remove(KernelSession s, PageRecord p) {
        Map<String, Set<PageRecord>> of = touched.get(s);
        Set<PageRecord> records = of == null ? null : of.get(p.key.object());
        if (records != null && records.remove(p) && records.isEmpty()) {
            of.remove(p.key.object());
            if (of.isEmpty()) {
                touched.remove(s);
            }
        }
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

    /** The records of {@code object} (null: of every object) {@code s} has to do with, in no order (a copy). */
    List<PageRecord> touched(KernelSession s, String object) {
        Map<String, Set<PageRecord>> of = touched.get(s);
        List<PageRecord> records = new ArrayList<>();
        if (of == null) {
            return records;
        }
        if (object != null) {
            Set<PageRecord> in = of.get(object);
            if (in != null) {
                records.addAll(in);
            }
            return records;
        }
        of.values().forEach(records::addAll);
        return records;
    }

    /** Whether {@code s} has to do with any page record. */
    boolean touchesAny(KernelSession s) {
        return touched.containsKey(s);
    }

    /** Entries kept, for tests: touched pages of every session. */
    long touchedCount() {
        long n = 0;
        for (Map<String, Set<PageRecord>> of : touched.values()) {
            for (Set<PageRecord> records : of.values()) {
                n += records.size();
            }
        }
        return n;
    }

    /** Before a rebuild from {@code records} (a snapshot's). */
    void clear(Iterable<PageRecord> records) {
        awaited.clear();
        touched.clear();
        records.forEach(p -> {
            p.indexed.clear();
            p.takeLeaving();
        });
    }
}
