package io.machxp.pager.page;

import io.machxp.pager.core.KernelSession;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The messages {@link PageCoherence} sends while it handles one data_request of several pages,
 * held and sent together at its end, with the lock_requests to one kernel merged into ranges (XP
 * spec 6.4): one lock_request, and one lock_completed back, for a run of pages instead of one each.
 * <pre>
 *  lock_request to K right after a lock_request to K  -> one lock_request for both pages, if K's
 *   with the same object, return, flush, lock value      hello named "lock_ranges" and the second
 *   and reply                                            page follows the first
 *  anything else                                      -> sent as it is, in order
 * </pre>
 * Messages to one kernel keep their order; only neighbours in that order merge. Pager core thread.
 */
final class LockRanges {
    /** The hello feature that lets a pager send a kernel lock_requests of several pages. */
    static final String FEATURE = "lock_ranges";

    private record Held(KernelSession to, PagerToKernel message) {}

    private final List<Held> held = new ArrayList<>();
    /** Each kernel's last held message's index in {@link #held}, to merge into. */
    private final Map<KernelSession, Integer> last = new IdentityHashMap<>();

    void add(KernelSession to, PagerToKernel m) {
        Integer at = last.get(to);
        if (at != null && to.features.contains(FEATURE) && m.hasMemoryObjectLockRequest()
                && held.get(at).message.hasMemoryObjectLockRequest()) {
            MemoryObjectLockRequest before = held.get(at).message.getMemoryObjectLockRequest();
            MemoryObjectLockRequest next = m.getMemoryObjectLockRequest();
            if (before.getOffset() + before.getLength() == next.getOffset()
                    && before.toBuilder().setOffset(0).setLength(0).build()
                            .equals(next.toBuilder().setOffset(0).setLength(0).build())) {
                held.set(at, new Held(to, PagerToKernel.newBuilder().setMemoryObjectLockRequest(before.toBuilder()
                        .setLength(before.getLength() + next.getLength())).build()));
                return;
            }
        }
        last.put(to, held.size());
        held.add(new Held(to, m));
    }

    /** Sends what was held, in order. */
    void sendAll(PageOutput out) {
        held.forEach(h -> out.send(h.to, h.message));
        held.clear();
        last.clear();
    }
}
