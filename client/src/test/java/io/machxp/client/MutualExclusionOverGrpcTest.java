package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.task.AcquirePath;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Threads on three kernels that lock the same futexes exclude each other. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MutualExclusionOverGrpcTest {
    private static final int KERNELS = 3;
    private static final int THREADS = 3;
    private static final int OPS = 150;
    /** Two futexes in the first page, one in the second. */
    private static final long[] FUTEXES = {0, 4, 4096};

    @Test
    void threadsOnThreeKernelsExcludeEachOther() throws Exception {
        test(true);
    }

    @Test
    void threadsOnThreeKernelsExcludeEachOtherWithoutTheCache() throws Exception {
        test(false);
    }

    private void test(boolean cache) throws Exception {
        try (ClusterFixture c = new ClusterFixture(KERNELS, cache)) {
            AtomicIntegerArray inside = new AtomicIntegerArray(FUTEXES.length);
            LongAdder violations = new LongAdder();
            LongAdder[] paths = {new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder()};
            List<CompletableFuture<Void>> workers = new ArrayList<>();
            for (int k = 0; k < KERNELS; k++) {
                for (int t = 0; t < THREADS; t++) {
                    ThreadClient thread = c.thread(k);
                    long base = c.base[k];
                    SplittableRandom random = new SplittableRandom(k * 31L + t);
                    workers.add(CompletableFuture.runAsync(() -> {
                        for (int i = 0; i < OPS; i++) {
                            int f = random.nextInt(FUTEXES.length);
                            AcquirePath path = thread.lockFutex(base + FUTEXES[f]);
                            paths[path.getNumber()].increment();
                            if (inside.incrementAndGet(f) != 1) {
                                violations.increment();
                            }
                            for (int spin = 0; spin < 200; spin++) {
                                Thread.onSpinWait();
                            }
                            inside.decrementAndGet(f);
                            thread.unlockFutex(base + FUTEXES[f]);
                        }
                    }, c.pool));
                }
            }
            CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(100, TimeUnit.SECONDS);

            assertThat(violations.sum()).isZero();
            long total = paths[1].sum() + paths[2].sum() + paths[3].sum();
            assertThat(total).isEqualTo((long) KERNELS * THREADS * OPS);
            assertThat(paths[AcquirePath.PAGER_GRANT_VALUE].sum()).as("futexes moved between kernels").isPositive();
            assertThat(c.cluster.pager().stats().handoffs()).isPositive();
            if (!cache) {
                assertThat(paths[AcquirePath.PAGER_GRANT_VALUE].sum()).isEqualTo(total);
            }
        }
    }
}
