package io.machxp.conform;

import io.machxp.proto.xp.KernelToPager;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * A kernel whose stream stalls before its answer to a barrier reaches the pager, as on a loaded
 * host where the kernel finds its stream stalled (a keepalive unanswered for a sixth of the lease)
 * before its lock_completed got through: the lock_completed of every other object (the first,
 * third, ...) and everything the kernel sends after it on that stream are held, never delivered.
 * The kernel resumes its session on a new stream, and sends the lock_completed again there.
 */
final class HeldBarrier implements XpProxy.Plant {
    private final Set<Integer> objects = new HashSet<>();
    private final Set<XpProxy.Link> held = Collections.newSetFromMap(new IdentityHashMap<>());

    @Override
    public synchronized KernelToPager up(XpProxy.Link link, KernelToPager m) {
        if (held.contains(link)) {
            return null;
        }
        if (m.hasMemoryObjectLockCompleted() && objects.add(m.getMemoryObjectLockCompleted().getObjectId())
                && objects.size() % 2 == 1) {
            held.add(link);
            return null;
        }
        return m;
    }

    /** How many streams were held. */
    synchronized int held() {
        return held.size();
    }
}
