package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import io.machxp.pager.object.MemoryObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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
 *
 * <p>What involves a kernel in the record (what {@link SessionPages} indexes it under) changes
 * only through the methods here, which note each kernel that may stop being involved
 * ({@link #mayLeave}): a holder dropped, an operation's requester or awaited holder done, a
 * withdrawn request. {@link SessionPages#settle} then looks at those kernels alone, each in O(1)
 * (the queue's requesters are counted, {@link #queuedBy}), instead of every kernel indexed here
 * against the whole queue. The queue is read-only outside this class.
 */
final class PageRecord {
    final MemoryObject object;
    final PageKey key;
    KernelSession writer;
    final Set<KernelSession> readers = new LinkedHashSet<>();
    /** The operation in progress: changed through {@link #startNext}, {@link #endCurrent}. */
    PageOperation current;
    private final ArrayDeque<PageOperation> queued = new ArrayDeque<>();
    /** The requests queued behind {@link #current}, FIFO; read-only (changed through {@link #enqueue} and the like). */
    final Collection<PageOperation> queue = Collections.unmodifiableCollection(queued);
    /**
     * For each kernel with requests in the queue: how many, read [0] and write [1] (null while no
     * kernel's request is queued): whether a kernel is queued, or a request a repeat, in O(1).
     */
    private Map<KernelSession, int[]> queuedCounts;
    /** Kernels that may no longer be involved since the last {@link SessionPages#settle} (null: none). */
    private List<KernelSession> leaving;
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
    final IndexedSessions indexed = new IndexedSessions();

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
        mayLeave(s);
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
        if (writer != s) {
            mayLeave(writer);
        }
        writer = s;
        sessions.touch(s, this);
    }

    void addReader(KernelSession s) {
        assert writer == null : key + " has a writer";
        readers.add(s);
        sessions.touch(s, this);
    }

    /** Queues {@code op} behind the others. */
    void enqueue(PageOperation op) {
        queued.add(op);
        if (op.requester != null) {
            if (queuedCounts == null) {
                queuedCounts = new HashMap<>();
            }
            queuedCounts.computeIfAbsent(op.requester, k -> new int[2])[op.write ? 1 : 0]++;
        }
    }

    /** The first queued request becomes the operation in progress (none is); returns it, or null if none is queued. */
    PageOperation startNext() {
        assert current == null : key + " has an operation in progress";
        PageOperation op = queued.poll();
        if (op != null && op.requester != null) {
            int[] n = queuedCounts.get(op.requester);
            if (--n[op.write ? 1 : 0] == 0 && n[op.write ? 0 : 1] == 0) {
                queuedCounts.remove(op.requester);
            }
        }
        current = op;
        return op;
    }

    /** The operation in progress is done (or dropped): its requester and any holder it awaited may leave. */
    void endCurrent() {
        PageOperation op = current;
        current = null;
        if (op != null) {
            mayLeave(op.requester);
            op.awaited.keySet().forEach(this::mayLeave);
        }
    }

    /** The operation in progress waits for {@code s} no more: what it had asked of {@code s}, or null if nothing. */
    PageOperation.Change stopAwaiting(KernelSession s) {
        PageOperation.Change change = current == null ? null : current.awaited.remove(s);
        if (change != null) {
            mayLeave(s);
        }
        return change;
    }

    /** {@code s}'s queued requests go, and the operation in progress is answered to it no more; whether any was. */
    boolean withdraw(KernelSession s) {
        boolean changed = false;
        if (queuedCounts != null && queuedCounts.remove(s) != null) {
            changed = queued.removeIf(op -> op.requester == s);
        }
        if (current != null && current.requester == s) {
            current.requester = null;
            changed = true;
        }
        if (changed) {
            mayLeave(s);
        }
        return changed;
    }

    /** Whether {@code s} has a request queued (of either access when {@code write} is null). */
    boolean queuedBy(KernelSession s, Boolean write) {
        int[] n = queuedCounts == null || s == null ? null : queuedCounts.get(s);
        return n != null && (write == null ? n[0] + n[1] > 0 : n[write ? 1 : 0] > 0);
    }

    /** {@code s} may no longer be involved in the record: {@link SessionPages#settle} looks. */
    private void mayLeave(KernelSession s) {
        if (s != null && indexed.contains(s)) {
            if (leaving == null) {
                leaving = new ArrayList<>(2);
            }
            leaving.add(s);
        }
    }

    /** The kernels that may have left since the last call (null: none), forgotten here. */
    List<KernelSession> takeLeaving() {
        List<KernelSession> out = leaving;
        leaving = null;
        return out;
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
