package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.PagerToKernel;

/**
 * memory_object_futex_probe: deadlock detection across kernels (xp-spec 8.9). Part of the pager's
 * futexes ({@link PagerFutexes}), core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  probe(futex, hops) from K  held by H != K, K queued for it,      -> passed to H with hops + 1,
 *                               hops within the bound                 made anew from 8.9's fields
 *                             free, held by K, or past the bound    -> dropped: that chain of
 *                                                                      waits is broken, or does
 *                                                                      not come back
 *                             K not queued for it                   -> refused (logged, counted):
 *                                                                      K does not wait for it, so
 *                                                                      no wait of K's is on a chain
 *                                                                      through it (outside review 3,
 *                                                                      O3-5)
 * </pre>
 * The pager keeps no state of its own for a probe: the kernels follow their owners' waits.
 */
final class FutexProbes {
    private final CoreContext core;
    private final FutexRecords records;

    FutexProbes(CoreContext core, FutexRecords records) {
        this.core = core;
        this.records = records;
    }

    /**
     * The most hops a probe makes (xp-spec 8.9), as Linux's default max_lock_depth bounds its PI
     * chain walk. A cycle may pass a kernel more than once (threads of two kernels waiting
     * crosswise), so the number of sessions does not bound it.
     */
    static final int MAX_PROBE_HOPS = 1024;

    /**
     * Deadlock detection across kernels: a probe about a futex goes to the futex's holder, which
     * follows its owner's waits. Dropped when nobody else holds the futex (it was granted or
     * released meanwhile: that chain is broken) or after more hops than {@link #MAX_PROBE_HOPS}
     * or the sessions ({@code sessions}), whichever is more: a chain that does not come back.
     */
    void futexProbe(KernelSession s, MemoryObjectFutexProbe p, int sessions) {
        FutexKey key = PagerFutexes.futexKey(core, s, p.getObjectId(), p.getOffset(), "memory_object_futex_probe");
        if (key == null) {
            return;
        }
        FutexRecord f = records.get(key);
        // hops is a uint32: one at the top of its range is far beyond the bound
        if (f == null || f.holder == null || f.holder == s
                || Integer.compareUnsigned(p.getHops(), Math.max(sessions, MAX_PROBE_HOPS)) > 0) {
            return;
        }
        if (!f.queue.contains(s)) {
            // A kernel sends a probe for a futex its thread waits for (8.9), also when it sends one on
            // around a cycle: it is queued for that futex. A probe from one that is not would make the
            // holder walk its chains for nothing, as often as it is sent, or fail a wait it names.
            core.refuse(s, "memory_object_futex_probe for " + PagerFutexes.describe(key) + ", which it does not wait for (xp-spec 8.9: a "
                    + "kernel probes only for a futex it is queued for)");
            return;
        }
        // Made anew from the fields 8.9 names: the message as it came may carry fields this pager
        // does not know (protobuf keeps them), up to gRPC's 4 MiB, which would go to the holder.
        core.send(f.holder, PagerToKernel.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder()
                .setObjectId(f.holder.objectIdOf(key.object())).setOffset(p.getOffset())
                .setInitiator(p.getInitiator()).setWait(p.getWait()).setHops(p.getHops() + 1)
                .setYoungest(p.getYoungest()).setYoungestWait(p.getYoungestWait())
                .setYoungestBeganMicros(p.getYoungestBeganMicros())).build());
    }
}
