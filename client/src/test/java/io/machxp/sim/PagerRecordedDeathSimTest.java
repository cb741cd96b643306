package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * xp-spec 8.7, end to end in virtual time: a kernel whose thread owns a futex nobody waits for is
 * cut off and declared dead; the pager records the death in its own copy of the word (nobody holds
 * the page), so the futex's next grant says nothing of it, and the next locker, on another kernel,
 * finds OWNER_DIED in the word it pages in and acquires with EOWNERDEAD, as after Linux's
 * robust-list walk.
 */
class PagerRecordedDeathSimTest {
    private static final long MS = 1_000_000;
    private static final long LEASE = 20 * MS;
    private final SimCluster cluster = new SimCluster(new SimCluster.Options(1, 100_000, 0, 4096, LEASE),
            Map.of("obj", 4096L), (time, kernel, event, tid, detail) -> { });

    @SuppressWarnings("unchecked")
    private <T> T await(Consumer<Reply<T>> call) {
        return (T) SimCalls.await(cluster, call);
    }

    @Test
    void theNextLockerElsewhereGetsEownerdeadFromTheWordThePagerWrote() {
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj");
        SimCalls.Worker b = SimCalls.worker(cluster, "B", "obj");
        Acquired first = await(r -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r));
        assertThat(first.ownerDied()).isFalse();

        cluster.partition("A", 10 * LEASE); // A's thread owns the futex; nobody waits for it
        cluster.runUntil(cluster.now() + 3 * LEASE);
        assertThat(cluster.pagerStats().kernelsDeclaredDead()).isEqualTo(1);
        assertThat(cluster.pagerStats().deathsRecordedByPager()).as("recorded in the word, not left to a grant")
                .isEqualTo(1);

        Acquired next = await(r -> b.core().vmLockFutex(b.task(), b.tid(), b.base(), -1, r));
        assertThat(next.ownerDied()).as("EOWNERDEAD, from the word").isTrue();
        assertThat(next.fencingToken()).isGreaterThan(first.fencingToken());
    }
}
