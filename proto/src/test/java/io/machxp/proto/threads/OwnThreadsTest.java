package io.machxp.proto.threads;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link OwnThreads}: blocking calls that can only end together all run at once, however few CPUs
 * the machine has (the common pool's parallelism plus two of them, each waiting for the others),
 * each on a daemon thread with the name it was given.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OwnThreadsTest {
    /**
     * Each call waits on a latch that opens only once all have started. A latch's wait parks
     * without telling the fork-join pool (a CyclicBarrier's wait is a Condition's, which does, and
     * the pool then adds a worker): the same as a futex syscall or a gRPC park. On the common pool
     * (CompletableFuture's default executor on JDK 25) these calls never ended on a 2-CPU machine.
     */
    @Test
    void moreBlockedCallsThanTheCommonPoolHasWorkersAllRun() throws Exception {
        int calls = ForkJoinPool.getCommonPoolParallelism() + 2;
        CountDownLatch all = new CountDownLatch(calls);
        List<CompletableFuture<Long>> waiting = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
            waiting.add(OwnThreads.supply("waits-for-all", () -> {
                all.countDown();
                try {
                    all.await(); // returns only once every call has started
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return all.getCount();
            }));
        }
        for (CompletableFuture<Long> w : waiting) {
            assertThat(w.get()).isZero();
        }
    }

    @Test
    void eachCallRunsOnANamedDaemonThread() throws Exception {
        Thread t = OwnThreads.supply("a-named-call", Thread::currentThread).get();
        assertThat(t.getName()).isEqualTo("a-named-call");
        assertThat(t.isDaemon()).isTrue();
        OwnThreads.run("a-named-call", () -> { }).get();
    }
}
