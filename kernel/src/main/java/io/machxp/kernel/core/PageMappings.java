package io.machxp.kernel.core;

import io.machxp.kernel.vm.VmPage;

/**
 * A resident page's two kinds of direct mapping: into in-process tasks
 * ({@link io.machxp.kernel.vm.PageMapping}, the page's words) and into task processes on
 * this host ({@link io.machxp.kernel.shm.SharedPages}, its slot in shared memory). One kind at a
 * time, since each has its own copy of the bytes while mapped. Core thread only; the page cache
 * counts a {@code true} answer (a task wrote the page) as the page's change.
 */
final class PageMappings {
    private PageMappings() {}

    /** Takes both kinds back; whether a task wrote the page through either since it was mapped. */
    static boolean unmap(VmPage p) {
        p.takeMapping();
        boolean wrote = p.mapping.takeWritten();
        if (p.sharedPages != null && p.resident() && p.sharedPages.take(p, p.futexWords())) {
            wrote = true;
        }
        if (p.sharedWritten) {
            p.sharedWritten = false;
            wrote = true;
        }
        return wrote;
    }

    /**
     * Maps the page with its access into task processes ({@code shared}, if the kernel shares the
     * object's pages) or in-process tasks, after unmapping the other kind; whether that unmapping
     * found the page written.
     */
    static boolean map(VmPage p, boolean shared) {
        if (shared && p.sharedPages != null) {
            p.takeMapping();
            boolean wrote = p.mapping.takeWritten();
            p.sharedPages.map(p);
            return wrote;
        }
        boolean wrote = p.sharedPages != null && p.sharedPages.mapped(p) && unmap(p);
        p.mapInProcess(); // not while accesses from before the last take are under way: the core serves them
        return wrote;
    }
}
