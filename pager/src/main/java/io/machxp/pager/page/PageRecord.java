package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import io.machxp.pager.object.MemoryObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The pager's record of one page across kernels: one writer or any number of readers, the
 * operation in progress on it and the requests queued behind that operation (FIFO). The pager's
 * own copy of the data is in the {@link MemoryObject}. Pager core thread only.
 *
 * <pre>
 *   UNHELD      (no writer, no readers)
 *   READ by R*  (readers R, no writer)     each reader has a read-only copy (lock_value WRITE)
 *   WRITTEN by W (writer W, no readers)    W alone has the page, writable (lock_value NONE)
 * </pre>
 * Invariants: a writer means no readers; the current operation is null when the queue is empty.
 */
final class PageRecord {
    final MemoryObject object;
    final PageKey key;
    KernelSession writer;
    final Set<KernelSession> readers = new LinkedHashSet<>();
    PageOperation current;
    final ArrayDeque<PageOperation> queue = new ArrayDeque<>();
    /**
     * Travelling with a forwarded futex (direct handoff): requests wait until the forward settles,
     * or until the order is withdrawn and {@link #gateWriter} no longer writes the page.
     */
    boolean gated;
    /** While gated: the writer that may send the page with the futex (the futex's holder). */
    KernelSession gateWriter;
    /** While gated: a request came, the order is withdrawn; the page may be taken back from its writer. */
    boolean gateOpening;
    /**
     * While gated: its holder released the futex (the page may come back inside that release) or
     * leaves without a release, and the forward settles next, in the same core event: nothing runs
     * on the page until then, so the copy's target, which may hold the holder's last writes, can
     * become its writer. Kept after the settle ungates the page until the release is done
     * ({@link FutexPages#forwardGranted}): with a target, until its grant is sent (or its early
     * release taken), so that no revoke reaches the target before its page; without a target (it
     * left), until the futex is granted to the next or freed, its token above the forward's and its
     * owner_died settled, so that nothing run on the page (a death's recording) sees it before.
     */
    boolean gateSettling;

    /** Its place in the order the table made records (the table's iteration order). */
    final long made;

    /** The sessions {@link SessionPages} indexes this record under (one or two, usually). */
    final List<KernelSession> indexed = new ArrayList<>(2);

    /** Whom each kernel made a holder here is told to ({@link SessionPages}: a terminate finds its pages). */
    private final SessionPages sessions;

    PageRecord(MemoryObject object, long offset, long made, SessionPages sessions) {
        this.object = object;
        this.key = new PageKey(object.name(), offset);
        this.made = made;
        this.sessions = sessions;
    }

    long offset() {
        return key.offset();
    }

    boolean holds(KernelSession s) {
        return writer == s || readers.contains(s);
    }

    /** Every kernel holding the page except {@code s}. */
    List<KernelSession> holdersExcept(KernelSession s) {
        List<KernelSession> out = new ArrayList<>();
        if (writer != null && writer != s) {
            out.add(writer);
        }
        for (KernelSession r : readers) {
            if (r != s) {
                out.add(r);
            }
        }
        return out;
    }

    /** {@code s} no longer holds the page. */
    void drop(KernelSession s) {
        if (writer == s) {
            writer = null;
        }
        readers.remove(s);
    }

    /** The writer {@code s} keeps a read-only copy. */
    void downgrade(KernelSession s) {
        if (writer == s) {
            writer = null;
            readers.add(s);
        }
    }

    void makeWriter(KernelSession s) {
        assert holdersExcept(s).isEmpty() : key + " has other holders";
        readers.remove(s);
        writer = s;
        sessions.touch(s, this);
    }

    void addReader(KernelSession s) {
        assert writer == null : key + " has a writer";
        readers.add(s);
        sessions.touch(s, this);
    }

    /** Nobody holds the page and nothing is in progress or waiting on it. */
    boolean idle() {
        return writer == null && readers.isEmpty() && current == null && queue.isEmpty() && !gated;
    }

    @Override
    public String toString() {
        return key.toString();
    }
}
