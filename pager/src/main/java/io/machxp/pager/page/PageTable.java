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

    /** The record of the page, or null. */
    PageRecord get(String object, long offset) {
        return pages.get(new PageKey(object, offset));
    }

    /** Records made so far: each record's {@link PageRecord#made}, its place in the table's order. */
    private long made;

    /** The record of the page, made if it has none. */
    PageRecord record(MemoryObject o, long offset) {
        return pages.computeIfAbsent(new PageKey(o.name(), offset), k -> new PageRecord(o, offset, made++));
    }

    /** Whether {@code p} is the page's record now (not one forgotten). */
    boolean current(PageRecord p) {
        return pages.get(p.key) == p;
    }

    /** Forgets the record of a page nobody holds, asks for or is asked about. */
    void pruneIfIdle(PageRecord p) {
        if (p.idle()) {
            pages.remove(p.key, p);
        }
    }

    /** Every record; {@code remove} forgets the last one returned. */
    Iterator<PageRecord> iterator() {
        return pages.values().iterator();
    }

    /** Whether {@code s} holds any page, writable or read-only. */
    boolean holdsAny(KernelSession s) {
        for (PageRecord p : pages.values()) {
            if (p.holds(s)) {
                return true;
            }
        }
        return false;
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
