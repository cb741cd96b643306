package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import io.machxp.pager.object.MemoryObject;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The page records of {@link PageCoherence}: a page has a record only while a kernel holds it, or
 * an operation is in progress or waits on it; an idle record is forgotten
 * ({@link #pruneIfIdle}), since the page's data and version are its object's (its store's), so a
 * record made again later starts from the same state. The records are thus bounded by the pages
 * kernels hold or ask for. Pager core thread only.
 */
final class PageTable {
    /** In the order made: {@link PageCoherence#forget} walks them in it, and a snapshot keeps it. */
    private final Map<PageKey, PageRecord> pages = new java.util.LinkedHashMap<>();
    /** Each kernel's pages, so that one kernel's message walks its own ({@link SessionPages}). */
    final SessionPages sessions;

    /** {@code settled}: told how many entries each settle of the index looked at ({@link SessionPages}). */
    PageTable(java.util.function.LongConsumer settled) {
        this.sessions = new SessionPages(settled);
    }

    /** The record of the page, or null. */
    PageRecord get(String object, long offset) {
        return pages.get(new PageKey(object, offset));
    }

    /** Records made so far: each record's {@link PageRecord#made}, its place in the table's order. */
    private long made;

    /** The record of the page, made if it has none. */
    PageRecord record(MemoryObject o, long offset) {
        return pages.computeIfAbsent(new PageKey(o.name(), offset), k -> new PageRecord(o, offset, made++, sessions));
    }

    /** Whether {@code p} is the page's record now (not one forgotten). */
    boolean current(PageRecord p) {
        return pages.get(p.key) == p;
    }

    /**
     * After any change to {@code p}: the kernels it no longer involves lose their index entry
     * ({@link SessionPages#settle}), and the record is forgotten if nobody holds, asks for or is
     * asked about the page.
     */
    void pruneIfIdle(PageRecord p) {
        sessions.settle(p);
        if (p.idle()) {
            pages.remove(p.key, p);
        }
    }

    /** Every record; {@code remove} forgets the last one returned. */
    Iterator<PageRecord> iterator() {
        return pages.values().iterator();
    }

    /** Whether {@code s} holds any page, writable or read-only (of the pages it touched: {@link SessionPages}). */
    boolean holdsAny(KernelSession s) {
        for (PageRecord p : sessions.touched(s, null)) {
            if (p.holds(s)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The records of the pages {@code s} touched of {@code object} (null: of every object), in the
     * table's order (the order a walk of every record met them in, the same on every replica).
     */
    List<PageRecord> touchedBy(KernelSession s, String object) {
        List<PageRecord> out = sessions.touched(s, object); // exact: only current records
        out.sort(java.util.Comparator.comparingLong(p -> p.made));
        return out;
    }

    /** After a snapshot's records were read: each kernel's pages, from the records ({@link SessionPages}). */
    void reindex() {
        sessions.clear(pages.values());
        for (PageRecord p : pages.values()) {
            if (p.writer != null) {
                sessions.touch(p.writer, p);
            }
            p.readers.forEach(r -> sessions.touch(r, p));
            if (p.current != null) {
                if (p.current.requester != null) {
                    sessions.touch(p.current.requester, p);
                }
                p.current.awaited.keySet().forEach(h -> sessions.await(h, p));
            }
            for (PageOperation op : p.queue) {
                if (op.requester != null) {
                    sessions.touch(op.requester, p);
                }
            }
        }
    }

    int count() {
        return pages.size();
    }

    /** How many pages {@code s} holds, writable or read-only. */
    int heldBy(KernelSession s) {
        int n = 0;
        for (PageRecord p : pages.values()) {
            n += p.holds(s) ? 1 : 0;
        }
        return n;
    }

    /** The kernel holding the page writable, or null. */
    String writerOf(String object, long offset) {
        PageRecord p = get(object, offset);
        return p == null || p.writer == null ? null : p.writer.kernelName;
    }

    /** The kernels holding read-only copies of the page. */
    List<String> readersOf(String object, long offset) {
        PageRecord p = get(object, offset);
        return p == null ? List.of() : p.readers.stream().map(s -> s.kernelName).toList();
    }

    /** Each page some kernel holds, with its writer (or null) and readers. */
    void forEachHeld(PageCoherence.HeldPage visitor) {
        for (PageRecord p : pages.values()) {
            if (p.writer != null || !p.readers.isEmpty()) {
                visitor.page(p.key, p.writer, List.copyOf(p.readers));
            }
        }
    }
}
