package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The sessions {@link SessionPages} indexes one page record under: a list while they are few (one
 * or two, usually: nothing hashed, little kept per record), a hash set once more kernels share the
 * page, so that a look-up stays O(1) on a page read-shared or queued on by many kernels (before, a
 * list: each kernel taking a copy of a page K kernels shared looked at all K). By identity, as
 * sessions are. Pager core thread only.
 */
final class IndexedSessions {
    /** Above this many, the sessions are kept in a hash set. */
    private static final int LISTED = 8;

    private final List<KernelSession> listed = new ArrayList<>(2);
    private Set<KernelSession> hashed;

    boolean contains(KernelSession s) {
        return hashed != null ? hashed.contains(s) : listed.contains(s);
    }

    void add(KernelSession s) {
        if (hashed != null) {
            hashed.add(s);
            return;
        }
        listed.add(s);
        if (listed.size() > LISTED) {
            hashed = new HashSet<>(listed);
            listed.clear();
        }
    }

    boolean remove(KernelSession s) {
        return hashed != null ? hashed.remove(s) : listed.remove(s);
    }

    int size() {
        return hashed != null ? hashed.size() : listed.size();
    }

    void clear() {
        listed.clear();
        hashed = null;
    }

    /** A copy, in no particular order (for checks). */
    List<KernelSession> toList() {
        return hashed != null ? new ArrayList<>(hashed) : new ArrayList<>(listed);
    }
}
