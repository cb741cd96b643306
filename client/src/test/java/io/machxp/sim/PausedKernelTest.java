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
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A kernel process paused (SIGSTOP, a long GC pause) for longer than its lease, in virtual time:
 * when it resumes, nothing it does is accepted - neither the calls its tasks queued meanwhile nor
 * a grant the pager sent it before declaring it dead. Both cases failed before the kernel checked
 * its lease on every task call and every pager message when it runs (chaos seeds 5 and 16 of the
 * first harness with pauses found them).
 */
class PausedKernelTest {
    private static final long MS = 1_000_000;
    private static final long LEASE = 20 * MS;
    private final SimCluster cluster = new SimCluster(new SimCluster.Options(1, 100_000, 0, 4096, LEASE),
            Map.of("obj", 4096L), (time, kernel, event, tid, detail) -> { });

    private record Worker(String kernel, KernelCore core, long task, int tid, long base) { }

    /** What a call answered: its value or its KernelError; null while it has not. */
    private static final class Answer<T> implements Reply<T> {
        Object value;
        boolean answered;

        @Override
        public void complete(T v) {
            value = v;
            answered = true;
        }

        @Override
        public void fail(KernelError error) {
            value = error;
            answered = true;
        }
    }

    private <T> T await(Consumer<Reply<T>> call) {
        Answer<T> a = new Answer<>();
        call.accept(a);
        while (!a.answered && cluster.step()) {
            // the simulation runs until the answer comes
        }
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
    void callsQueuedInAPauseLongerThanTheLeaseAreRefusedWhenItResumes() {
        Worker a = worker("A");
        assertThat(await((Reply<Acquired> r) -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r)))
                .isInstanceOf(Acquired.class);
        await((Reply<Void> r) -> a.core().vmWrite(a.task(), a.base() + 8, new byte[] {1}, r));
        await((Reply<Void> r) -> a.core().vmUnlockFutex(a.task(), a.tid(), a.base(), r)); // cached, page writable

        cluster.pause("A", 3 * LEASE);
        Answer<Void> write = new Answer<>();
        Answer<byte[]> read = new Answer<>();
        Answer<Acquired> lock = new Answer<>();
        cluster.call("A", () -> a.core().vmWrite(a.task(), a.base() + 8, new byte[] {2}, write));
        cluster.call("A", () -> a.core().vmRead(a.task(), a.base() + 8, 1, read));
        cluster.call("A", () -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, lock));
        cluster.runUntil(cluster.now() + LEASE);
        assertThat(write.answered).as("nothing runs in a paused kernel").isFalse();

        cluster.runUntil(cluster.now() + 3 * LEASE);
        for (Answer<?> call : new Answer<?>[] {write, read, lock}) {
            assertThat(call.answered).isTrue();
            assertThat(call.value).isInstanceOfSatisfying(KernelError.class,
                    e -> assertThat(e.errno()).isEqualTo(Errno.EIO));
        }
    }

    @Test
    void aGrantThatArrivedInAPauseLongerThanTheLeaseIsNotHandedOut() {
        Worker a = worker("A");
        Worker b = worker("B");
        assertThat(await((Reply<Acquired> r) -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r)))
                .isInstanceOf(Acquired.class);
        Answer<Acquired> waiting = new Answer<>();
        b.core().vmLockFutex(b.task(), b.tid(), b.base(), -1, waiting);
        cluster.runUntil(cluster.now() + MS); // B's request is at the pager, which asked A to give it up
        cluster.pause("B", 3 * LEASE);
        await((Reply<Void> r) -> a.core().vmUnlockFutex(a.task(), a.tid(), a.base(), r)); // the pager grants B
        cluster.runUntil(cluster.now() + 4 * LEASE);

        assertThat(waiting.answered).isTrue();
        assertThat(waiting.value).as("B resumed past its lease: the grant it found is stale")
                .isInstanceOfSatisfying(KernelError.class, e -> assertThat(e.errno()).isEqualTo(Errno.EIO));
        Acquired next = await((Reply<Acquired> r) -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r));
        assertThat(next.ownerDied()).as("the pager declared B dead holding the futex").isTrue();
    }
}
