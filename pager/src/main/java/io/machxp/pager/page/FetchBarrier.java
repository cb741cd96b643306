package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keeps an answered keepalive a barrier for page answers (xp-spec 4.2, 10.1, Appendix C) when a
 * page's data or a backend's consent is asked of the store off the core thread
 * ({@link PageOutput#pageEffect}: every blocking, on-disk store). Pager core thread only.
 *
 * <h2>Overview</h2>
 * A kernel's keepalive marks the session's page operations that wait for the store when it
 * arrives: those fetching, and those queued behind a fetching operation of the same page (a
 * memory store would have answered all of them in the events before the keepalive). Its answer
 * is held until none of them waits for the store any more: answered, withdrawn, or waiting for
 * another kernel's lock_completed (which no store makes faster; a memory store's answer would not
 * have come before the barrier either). Only that session's answer waits; operations that arrive
 * after the keepalive are not in its mark, so a kernel that keeps asking does not hold its own
 * keepalives back. A session's keepalive answers leave in the order they came.
 * <pre>
 *  keepalive arrives          mark = the session's operations waiting for the store now
 *  its store writes done      mark clear: answered now; else held (behind any held before it)
 *  a page's fetch is back     the held answers whose marks are clear go, in order per session
 * </pre>
 */
final class FetchBarrier {
    /** Pages whose current operation has a fetch out. */
    private final Set<PageRecord> fetching = new HashSet<>();
    /** Answers held per session, in arrival order. */
    private final Map<KernelSession, ArrayDeque<Held>> held = new LinkedHashMap<>();

    /** The operations of {@code s} a keepalive arriving now waits for. */
    record Mark(KernelSession session, List<Waiting> ops) {
        boolean clear() {
            return ops.stream().noneMatch(Waiting::onStore);
        }
    }

    /** One operation of a mark, on its page. */
    record Waiting(PageRecord page, PageOperation op) {
        boolean onStore() {
            if (op.requester == null) {
                return false; // withdrawn: nobody is answered
            }
            if (page.current == op) {
                return op.fetching;
            }
            return page.current != null && page.current.fetching && page.queue.contains(op);
        }
    }

    private record Held(Mark mark, Runnable answer) {
    }

    void started(PageRecord p) {
        fetching.add(p);
    }

    void finished(PageRecord p) {
        fetching.remove(p);
    }

    /** The session's operations that wait for the store now. */
    Mark mark(KernelSession s) {
        List<Waiting> ops = new ArrayList<>();
        for (PageRecord p : fetching) {
            if (p.current != null && p.current.requester == s) {
                ops.add(new Waiting(p, p.current));
            }
            for (PageOperation op : p.queue) {
                if (op.requester == s) {
                    ops.add(new Waiting(p, op));
                }
            }
        }
        return new Mark(s, ops);
    }

    /** Runs {@code answer} once {@code mark} is clear and the session's answers held before it went. */
    void after(Mark mark, Runnable answer) {
        ArrayDeque<Held> queue = held.get(mark.session());
        if (queue == null && mark.clear()) {
            answer.run();
            return;
        }
        held.computeIfAbsent(mark.session(), s -> new ArrayDeque<>()).add(new Held(mark, answer));
    }

    /** A fetch came back (and its page's operations ran on): the held answers now clear go. */
    void release() {
        if (held.isEmpty()) {
            return;
        }
        List<Runnable> go = new ArrayList<>();
        for (var it = held.values().iterator(); it.hasNext(); ) {
            ArrayDeque<Held> queue = it.next();
            while (!queue.isEmpty() && queue.peek().mark().clear()) {
                go.add(queue.poll().answer());
            }
            if (queue.isEmpty()) {
                it.remove();
            }
        }
        go.forEach(Runnable::run);
    }

    /** How many keepalive answers wait for fetches (for tests and the status). */
    int heldCount() {
        return held.values().stream().mapToInt(ArrayDeque::size).sum();
    }
}
