package io.machxp.bench.scale;

import io.machxp.bench.systems.MachxpService;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.PagerDirectory;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.pager.PagerConfig;
import io.machxp.pager.policy.GrantPolicy;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * How many futexes one kernel can cache and what each costs: one kernel, {@code count} futex
 * words 8 bytes apart in one object; every page is faulted in first, then each futex is locked and
 * unlocked once (asked from the pager: the kernel caches it from then on), then all are locked and
 * unlocked again, which must send no XP message at all. Memory per cached futex is the heap's
 * growth over the caching pass, after full collections, divided by the count: the kernel's futex
 * entries and the pager's record of each, both in this JVM.
 */
public final class FutexCapacity {
    private static final String OBJECT = "futexes";
    private static final int SPACING = 8;
    private static final int CACHING_THREADS = 8;

    /**
     * @param bytesPerFutex heap growth per cached futex (kernel and pager state together)
     * @param cachingSeconds time to cache them all (one pager round trip each, 8 threads)
     * @param cachedNanosPerLockUnlock one lock+unlock of a cached futex in the second pass
     * @param messagesSecondPass XP messages during the second pass (0: all were cached)
     */
    public record Result(int futexes, double bytesPerFutex, double cachingSeconds, double cachedNanosPerLockUnlock,
            long messagesSecondPass) {}

    private FutexCapacity() {}

    public static Result measure(int count) throws Exception {
        long page = PagerConfig.DEFAULT_PAGE_SIZE;
        long size = ((long) count * SPACING + page - 1) / page * page;
        // The bench's long lease: a JVM stalled on a loaded machine lost the default 5 s one here
        // ("the pager answered no keepalive for 4.3 s"), and what is measured does not depend on it.
        try (EmbeddedCluster cluster = EmbeddedCluster.start(
                Map.of(EmbeddedCluster.kernelName(0), CoreOptions.DEFAULT.withCacheFutexes(true)), Map.of(OBJECT, size),
                PagerDirectory.SINGLE, GrantPolicy.IMMEDIATE, MachxpService.LEASE)) {
            LocalTask task = cluster.kernel(0).taskCreate("capacity");
            long base = task.vmMap(OBJECT);
            for (long offset = 0; offset < size; offset += page) {
                task.vmRead(base + offset, 1); // every page resident before the baseline
            }
            long heapBefore = settledHeap();
            long t0 = System.nanoTime();
            List<Thread> threads = new ArrayList<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            for (int w = 0; w < CACHING_THREADS; w++) {
                int first = w;
                LocalThread thread = task.threadCreate();
                Thread t = new Thread(() -> {
                    try {
                        for (int i = first; i < count; i += CACHING_THREADS) {
                            thread.lockFutex(base + (long) i * SPACING);
                            thread.unlockFutex(base + (long) i * SPACING);
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "capacity-" + w);
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            if (failure.get() != null) {
                throw new IllegalStateException("caching " + count + " futexes failed: " + failure.get(), failure.get());
            }
            double cachingSeconds = (System.nanoTime() - t0) / 1e9;
            long heapAfter = settledHeap();

            LocalThread again = task.threadCreate();
            long messagesBefore = cluster.pager().stats().messages();
            long t1 = System.nanoTime();
            for (int i = 0; i < count; i++) {
                again.lockFutex(base + (long) i * SPACING);
                again.unlockFutex(base + (long) i * SPACING);
            }
            double nanosPerPair = (double) (System.nanoTime() - t1) / count;
            long messages = cluster.pager().stats().messages() - messagesBefore;
            return new Result(count, Math.round(10.0 * (heapAfter - heapBefore) / count) / 10.0,
                    Math.round(cachingSeconds * 100) / 100.0, Math.round(nanosPerPair * 10) / 10.0, messages);
        }
    }

    /** Heap in use after full collections, once it stops shrinking. */
    private static long settledHeap() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long last = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            memory.gc();
            long used = memory.getHeapMemoryUsage().getUsed();
            if (used >= last) {
                return used;
            }
            last = used;
        }
        return last;
    }
}
