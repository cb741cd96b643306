package io.machxp.pager.futex;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.KernelSession;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A futex record's queue and trylock waiters make their collections only at their first waiter
 * (most records never have one): before that, and after their last waiter left, every question
 * is answered as for an empty queue, and a first waiter is taken as before.
 */
class UnusedQueuesTest {
    private final KernelSession a = new KernelSession(1);
    private final KernelSession b = new KernelSession(2);

    @Test
    void aQueueNoOneEverJoinedAnswersAsEmpty() {
        FutexQueue q = new FutexQueue();
        assertThat(q.isEmpty()).isTrue();
        assertThat(q.size()).isZero();
        assertThat(q.peek()).isNull();
        assertThat(q.poll()).isNull();
        assertThat(q.contains(a)).isFalse();
        assertThat(q.remove(a)).isFalse();
        assertThat(q.reprioritize(a, 5, FutexQueue.KEEP)).isFalse();
        assertThat(q.requeue(a, 5, 0)).isFalse();
        assertThat(q.sinceOf(a)).isEqualTo(FutexQueue.UNKNOWN);
        assertThat(q.waiters()).isEmpty();
        assertThat(q.topPriority()).isZero();
        assertThat(q.topWaitedNanos(100)).isEqualTo(-1);
        List<KernelSession> visited = new ArrayList<>();
        q.forEachWaiter((k, p, arrival, since) -> visited.add(k));
        assertThat(visited).isEmpty();
        assertThat(q.arrivals()).isZero();
    }

    @Test
    void theFirstWaiterOfAnUnusedQueueIsQueuedInGrantOrder() {
        FutexQueue q = new FutexQueue();
        q.add(a, 0, 10);
        q.add(b, 7, 20);
        assertThat(q.peek()).isSameAs(b);
        assertThat(q.topWaitedNanos(30)).isEqualTo(10);
        assertThat(q.poll()).isSameAs(b);
        assertThat(q.poll()).isSameAs(a);
        assertThat(q.isEmpty()).isTrue();
        q.add(b, 0, 40); // after the last left: kept, and used again
        assertThat(q.peek()).isSameAs(b);
        assertThat(q.arrivals()).isEqualTo(3);
    }

    @Test
    void aQueueRestoredFromASnapshotNeedsNoEarlierWaiter() {
        FutexQueue q = new FutexQueue();
        q.restoreArrivals(5);
        q.restoreWaiter(a, 3, 4, FutexQueue.UNKNOWN);
        assertThat(q.peek()).isSameAs(a);
        assertThat(q.topPriority()).isEqualTo(3);
    }

    @Test
    void trylockWaitersNoOneEverJoinedAnswerAsEmpty() {
        TryWaiters t = new TryWaiters();
        assertThat(t.isEmpty()).isTrue();
        assertThat(t.size()).isZero();
        assertThat(t.contains(a)).isFalse();
        assertThat(t.contains(null)).isFalse();
        assertThat(t.remove(a)).isFalse();
        assertThat(t.highest()).isNull();
        assertThat(t.highestPriority()).isZero();
        assertThat(t.priorityOf(a)).isZero();
        assertThat(t.iterator().hasNext()).isFalse();
        assertThat(t.stream()).isEmpty();
        t.clear();
        t.add(a, 1);
        t.add(b, 4);
        assertThat(t.highest()).isSameAs(b);
        var it = t.iterator();
        it.next();
        it.remove();
        assertThat(t.contains(a)).isFalse();
        assertThat(t.size()).isEqualTo(1);
    }
}
