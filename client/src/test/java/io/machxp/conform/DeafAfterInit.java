package io.machxp.conform;

import io.machxp.proto.xp.KernelToPager;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * A kernel whose stream stalls before a resume case has its stall set up, as on a loaded host
 * where the kernel finds its stream stalled (a keepalive answer slower than a sixth of the lease)
 * while the case still waits for a keepalive: after the memory_object_init of every other object
 * (the first, third, ...), nothing the kernel sends on that stream reaches the pager, its
 * keepalives among them. The kernel resumes its session on a new stream before the case counted
 * the hellos, and the pager, not yet asked to refuse, takes the resume.
 */
final class DeafAfterInit implements XpProxy.Plant {
    private final Set<Integer> objects = new HashSet<>();
    private final Set<XpProxy.Link> deaf = Collections.newSetFromMap(new IdentityHashMap<>());

    @Override
    public synchronized KernelToPager up(XpProxy.Link link, KernelToPager m) {
        if (deaf.contains(link)) {
            return null;
        }
        if (m.hasMemoryObjectInit() && objects.add(m.getMemoryObjectInit().getObjectId()) && objects.size() % 2 == 1) {
            deaf.add(link);
        }
        return m;
    }

    /** How many streams went deaf. */
    synchronized int deafened() {
        return deaf.size();
    }
}
