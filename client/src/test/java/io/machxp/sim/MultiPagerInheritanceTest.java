package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.PagerDirectory;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmMapping;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Priority inheritance across two pagers (docs/multi-pager.md, review M4): a boost that crosses
 * from one pager's futex to another's survives the first pager's crash while the waiter still
 * waits, as Linux keeps a PI boost for as long as the waiter blocks.
 */
class MultiPagerInheritanceTest {
    private static final long MS = 1_000_000;
    private static final long LEASE = 20 * MS;
    private final SimCluster cluster = new SimCluster(new SimCluster.Options(1, 100_000, 0, 4096, LEASE),
            Map.of("zero", 8192L, "one", 8192L), PagerDirectory.of(2, Map.of("zero", 0, "one", 1)),
            (time, kernel, event, tid, detail) -> { });

    private record Worker(KernelCore core, long task, MachThread thread, long zero, long one) {
        int tid() {
            return thread.tid;
        }
    }

    @SuppressWarnings("unchecked")
    private <T> T ok(Consumer<Reply<T>> call) {
        Object v = SimCalls.await(cluster, call);
        assertThat(v instanceof KernelError e ? e.errno() + ": " + e.message() : "answered").isEqualTo("answered");
        return (T) v;
    }

    private Worker worker(String kernel, int priority) {
        KernelCore core = cluster.addKernel(kernel, CoreOptions.DEFAULT).core;
        cluster.runUntil(cluster.now() + MS);
        MachTask task = ok(r -> core.taskCreate("t", r));
        VmMapping zero = ok(r -> core.vmMap(task.id, "zero", r));
        VmMapping one = ok(r -> core.vmMap(task.id, "one", r));
        MachThread t = ok(r -> core.threadCreate(task.id, r));
        this.<Void>ok(r -> core.threadSetPriority(task.id, t.tid, priority, r));
        return new Worker(core, task.id, t, zero.start(), one.start());
    }

    private static Reply<Acquired> record(List<Object> answers) {
        return new Reply<>() {
            @Override
            public void complete(Acquired value) {
                answers.add(value);
            }

            @Override
            public void fail(KernelError error) {
                answers.add(error);
            }
        };
    }

    /**
     * C (50) waits for "one" (pager 1), held by A (5); A waits for "zero" (pager 0), held by B (5).
     * While pager 1 is down, C still waits: A and B keep 50. Before, A's broken stream cleared the
     * relinquish's priority at once and A's lock_futex update at pager 0 deboosted B too.
     */
    @Test
    void aBoostThroughAnotherPagersFutexSurvivesThatPagersCrash() {
        Worker a = worker("A", 5);
        Worker b = worker("B", 5);
        Worker c = worker("C", 50);
        this.<Acquired>ok(r -> b.core().vmLockFutex(b.task(), b.tid(), b.zero(), -1, r));
        this.<Acquired>ok(r -> a.core().vmLockFutex(a.task(), a.tid(), a.one(), -1, r));
        List<Object> answers = new ArrayList<>();
        a.core().vmLockFutex(a.task(), a.tid(), a.zero(), -1, record(answers));
        c.core().vmLockFutex(c.task(), c.tid(), c.one(), -1, record(answers));
        cluster.runUntil(cluster.now() + 2 * MS);
        assertThat(List.of(a.thread().effectivePriority, b.thread().effectivePriority)).as("steady state")
                .containsExactly(50, 50);

        cluster.crashPager(1, 5 * MS);
        cluster.runUntil(cluster.now() + 2 * MS);
        assertThat(answers).as("nobody was answered").isEmpty();
        assertThat(List.of(a.thread().effectivePriority, b.thread().effectivePriority))
                .as("C still waits for A's futex while pager 1 is down").containsExactly(50, 50);

        cluster.runUntil(cluster.now() + 4 * MS); // pager 1 is back (at +5 ms), A's reclaim welcomed; its grace goes on
        assertThat(answers).as("nobody was answered").isEmpty();
        assertThat(List.of(a.thread().effectivePriority, b.thread().effectivePriority))
                .as("C still waits in pager 1's grace period, after A's reclaim was welcomed").containsExactly(50, 50);

        cluster.runUntil(cluster.now() + 2 * LEASE); // pager 1's grace ended; it asked A again
        assertThat(List.of(a.thread().effectivePriority, b.thread().effectivePriority)).as("after the reclaim")
                .containsExactly(50, 50);
        this.<Void>ok(r -> b.core().vmUnlockFutex(b.task(), b.tid(), b.zero(), r));
        cluster.runUntil(cluster.now() + 2 * MS);
        assertThat(b.thread().effectivePriority).as("B's unlock ends its boost").isEqualTo(5);
        this.<Void>ok(r -> a.core().vmUnlockFutex(a.task(), a.tid(), a.one(), r));
        cluster.runUntil(cluster.now() + 2 * MS);
        assertThat(answers).hasSize(2).allSatisfy(v -> assertThat(v).isInstanceOf(Acquired.class));
        assertThat(a.thread().effectivePriority).isEqualTo(5);
    }
}
