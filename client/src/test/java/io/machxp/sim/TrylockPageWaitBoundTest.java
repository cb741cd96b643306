package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A relinquish_futex with try makes a holder whose held word's page left it unwaited fetch the page
 * before it answers (xp-spec 8.3). Here a third kernel holds that page writable and keeps its lease
 * but never answers the lock_request that recalls it: the case the pager's answer deadline D (4.8,
 * three leases in the simulator) exists for. That kernel is ended at D, and its page reverts only a
 * lease later; the holder's own try is overdue at D too. So the holder bounds its wait (half a
 * lease) and answers busy from its held word: only the silent kernel is ended. Before the bound
 * (review H1 of branch trylock) the innocent holder was ended and declared dead as well.
 */
class TrylockPageWaitBoundTest {
    private static final long MS = 1_000_000;
    private static final long LEASE = 20 * MS;
    private final List<String> dead = new ArrayList<>();
    private final SimCluster.Options options = new SimCluster.Options(1, 100_000, 0, 4096, LEASE);
    private final SimCluster cluster = new SimCluster(options, Map.of("obj", 4096L), (time, kernel, event, tid, detail) -> { });
    private boolean silentC;

    private record Worker(String kernel, KernelCore core, long task, int tid, long base) { }

    /** What a call answered: its value or its KernelError; null while it has not. */
    private static final class Answer<T> implements Reply<T> {
        Object value;
        boolean answered;
        long at;
        private final SimCluster cluster;

        Answer(SimCluster cluster) {
            this.cluster = cluster;
        }

        @Override
        public void complete(T v) {
            value = v;
            answered = true;
            at = cluster.now();
        }

        @Override
        public void fail(KernelError error) {
            value = error;
            answered = true;
            at = cluster.now();
        }
    }

    private <T> T await(Consumer<Reply<T>> call) {
        Answer<T> a = new Answer<>(cluster);
        call.accept(a);
        while (!a.answered && cluster.step()) {
            // the simulation runs until the answer comes
        }
        assertThat(a.answered).isTrue();
        @SuppressWarnings("unchecked")
        T value = (T) a.value;
        return value;
    }

    private Worker worker(String kernel) {
        KernelCore core = cluster.addKernel(kernel, CoreOptions.DEFAULT).core;
        cluster.runUntil(cluster.now() + MS);
        MachTask task = await(r -> core.taskCreate("t", r));
        VmMapping m = await(r -> core.vmMap(task.id, "obj", r));
        MachThread t = await(r -> core.threadCreate(task.id, r));
        return new Worker(kernel, core, task.id, t.tid, m.start());
    }

    @Test
    void aSilentWriterOfTheWordsPageGetsOnlyItselfEnded() {
        cluster.onDeclaredDead((time, kernel, held) -> dead.add(kernel));
        cluster.filter(new SimCluster.MessageFilter() {
            @Override
            public PagerToKernel toKernel(String kernel, PagerToKernel m) {
                // C keeps its lease (keepalives flow) but never sees, so never answers, a recall
                return silentC && kernel.equals("C") && m.hasMemoryObjectLockRequest() ? null : m;
            }
        });
        Worker a = worker("A");
        Worker b = worker("B");
        Worker c = worker("C");
        assertThat(await((Reply<Acquired> r) -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r)))
                .as("A holds the futex").isInstanceOf(Acquired.class);
        await((Reply<Void> r) -> c.core().vmWrite(c.task(), c.base() + 8, new byte[] {7}, r)); // the page leaves A unwaited
        silentC = true;

        long asked = cluster.now();
        Answer<Acquired> trylock = new Answer<>(cluster);
        b.core().vmLockFutex(b.task(), b.tid(), b.base(), 0, trylock); // A fetches the page, C never gives it back
        long deadline = options.answerDeadlineNanos();
        cluster.runUntil(asked + 2 * deadline + 4 * LEASE); // past C's end and death, and A's had it come

        assertThat(trylock.answered).isTrue();
        assertThat(trylock.value).as("the trylock is busy (ETIMEDOUT, its timeout of 0): A still owns the futex")
                .isInstanceOfSatisfying(KernelError.class, e -> assertThat(e.errno()).isEqualTo(Errno.ETIMEDOUT));
        assertThat(trylock.at - asked).as("answered by A's held word, before the pager's answer deadline")
                .isLessThan(deadline);
        assertThat(dead).as("only the silent C is ended and declared dead").containsExactly("C");
    }
}
