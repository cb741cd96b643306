package io.machxp.proto.threads;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
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
    @Test
    void moreBlockedCallsThanTheCommonPoolHasWorkersAllRun() throws Exception {
        int calls = ForkJoinPool.getCommonPoolParallelism() + 2;
        CyclicBarrier all = new CyclicBarrier(calls);
        List<CompletableFuture<Integer>> waiting = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
            waiting.add(OwnThreads.supply("waits-for-all", () -> {
                try {
                    return all.await(); // returns only once every call has started
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (CompletableFuture<Integer> w : waiting) {
            assertThat(w.get()).isBetween(0, calls - 1);
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
