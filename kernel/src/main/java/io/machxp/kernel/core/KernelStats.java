package io.machxp.kernel.core;

import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one kernel, readable from any thread: XP messages by routine in each direction and
 * futex acquisitions by path. Written by the core and by the fast path.
 */
public final class KernelStats {
    private final EnumMap<KernelToPager.RoutineCase, LongAdder> sent = new EnumMap<>(KernelToPager.RoutineCase.class);
    private final EnumMap<PagerToKernel.RoutineCase, LongAdder> received = new EnumMap<>(PagerToKernel.RoutineCase.class);
    private final EnumMap<AcquirePath, LongAdder> acquires = new EnumMap<>(AcquirePath.class);

    public KernelStats() {
        for (KernelToPager.RoutineCase c : KernelToPager.RoutineCase.values()) {
            sent.put(c, new LongAdder());
        }
        for (PagerToKernel.RoutineCase c : PagerToKernel.RoutineCase.values()) {
            received.put(c, new LongAdder());
        }
        for (AcquirePath p : AcquirePath.values()) {
            acquires.put(p, new LongAdder());
        }
    }

    /** Keepalives (session upkeep) are counted apart from the XP routines: see keepalives(). */
    public void sent(KernelToPager message) {
        if (message.hasKernelKeepalive()) {
            keepalives.increment();
            return;
        }
        sent.get(message.getRoutineCase()).increment();
    }

    public void received(PagerToKernel message) {
        if (message.hasPagerKeepalive()) {
            keepalives.increment();
            return;
        }
        received.get(message.getRoutineCase()).increment();
    }

    /** kernel_keepalive sent and pager_keepalive received. */
    public long keepalives() {
        return keepalives.sum();
    }

    private final LongAdder keepalives = new LongAdder();

    /** memory_object_relinquish_futex_hint acted on (the futex held under its grant) and dropped (xp-spec 13.6). */
    public final LongAdder hintsActed = new LongAdder();
    public final LongAdder hintsDropped = new LongAdder();

    public void acquired(AcquirePath path) {
        acquires.get(path).increment();
    }

    /**
     * Fast-path acquisitions counted elsewhere without a shared write (each in-process thread
     * keeps its own count), added into {@link #acquires} for FAST_PATH.
     */
    private final java.util.List<java.util.function.LongSupplier> fastPathCounts =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    public void addFastPathCount(java.util.function.LongSupplier count) {
        fastPathCounts.add(count);
    }

    private long sum(AcquirePath path) {
        long n = acquires.get(path).sum();
        if (path == AcquirePath.FAST_PATH) {
            for (java.util.function.LongSupplier c : fastPathCounts) {
                n += c.getAsLong();
            }
        }
        return n;
    }

    public long sent(KernelToPager.RoutineCase routine) {
        return sent.get(routine).sum();
    }

    public long received(PagerToKernel.RoutineCase routine) {
        return received.get(routine).sum();
    }

    /** All XP messages this kernel has sent to its pager. */
    public long sentTotal() {
        return sent.values().stream().mapToLong(LongAdder::sum).sum();
    }

    public long acquires(AcquirePath path) {
        return sum(path);
    }

    /** Routine name (as in the .proto, e.g. memory_object_lock_futex) -> count, nonzero only. */
    public Map<String, Long> sentByRoutine() {
        return byName(sent);
    }

    public Map<String, Long> receivedByRoutine() {
        return byName(received);
    }

    public Map<String, Long> acquiresByPath() {
        Map<String, Long> out = new java.util.TreeMap<>();
        acquires.forEach((k, v) -> {
            long n = sum(k);
            if (k != AcquirePath.UNRECOGNIZED && n > 0) {
                out.put(k.name(), n);
            }
        });
        return out;
    }

    private static <E extends Enum<E>> Map<String, Long> byName(EnumMap<E, LongAdder> counters) {
        Map<String, Long> out = new java.util.TreeMap<>();
        counters.forEach((k, v) -> {
            if (v.sum() > 0) {
                out.put(k.name().toLowerCase(java.util.Locale.ROOT), v.sum());
            }
        });
        return out;
    }
}
