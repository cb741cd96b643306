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
import io.machxp.variant.Variants;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The direct handoff (xp-spec 14) with two pagers, in virtual time: a secondary pager names the
 * next kernel by its TID prefix (the primary's kernel id, the cluster-wide name), so the copy goes
 * to the kernel the pager chose even where the two pagers' kernel ids differ.
 */
class DirectHandoffMultiPagerTest {
    private static final long MS = 1_000_000;
    private final List<String> trace = new ArrayList<>();

    private SimCluster cluster(long lease) {
        SimCluster c = new SimCluster(new SimCluster.Options(1, 100_000, 0, 4096, lease),
                Map.of("zero", 4096L, "one", 4096L), PagerDirectory.of(2, Map.of("zero", 0, "one", 1)),
                (time, kernel, event, tid, detail) -> trace.add(kernel + " " + event + " " + detail));
        Variants.of("direct").apply(c);
        return c;
    }

    private record Worker(KernelCore core, long task, int tid, long one) {}

    /** A call started now and answered later: its value (or KernelError), once {@code done}. */
    private static final class Pending<T> implements Reply<T> {
        Object value;
        boolean done;

        @Override
        public void complete(T v) {
            value = v;
            done = true;
        }

        @Override
        public void fail(KernelError e) {
            value = e;
            done = true;
        }
    }

    private static <T> T ok(SimCluster c, Consumer<Reply<T>> call) {
        Object v = SimCalls.await(c, call);
        assertThat(v instanceof KernelError e ? e.errno() + ": " + e.message() : "answered").isEqualTo("answered");
        @SuppressWarnings("unchecked")
        T t = (T) v;
        return t;
    }

    private static Worker worker(SimCluster c, KernelCore core) {
        MachTask task = ok(c, r -> core.taskCreate("t", r));
        VmMapping one = ok(c, r -> core.vmMap(task.id, "one", r));
        MachThread t = ok(c, r -> core.threadCreate(task.id, r));
        return new Worker(core, task.id, t.tid, one.start());
    }

    private static Pending<Acquired> lock(Worker w) {
        Pending<Acquired> p = new Pending<>();
        w.core().vmLockFutex(w.task(), w.tid(), w.one(), -1, p);
        return p;
    }

    private static void unlock(SimCluster c, Worker w) {
        ok(c, (Reply<Void> r) -> w.core().vmUnlockFutex(w.task(), w.tid(), w.one(), r));
    }

    private static void write(SimCluster c, Worker w, byte value) {
        ok(c, (Reply<Void> r) -> w.core().vmWrite(w.task(), w.one() + 8, new byte[] {value}, r));
    }

    private static byte read(SimCluster c, Worker w) {
        return ((byte[]) ok(c, (Reply<byte[]> r) -> w.core().vmRead(w.task(), w.one() + 8, 1, r)))[0];
    }

    /**
     * Kernel ids differ across pagers: C's hello to pager 1 is held, so pager 1 numbers A 1, B 2
     * and C 3, while the primary (and so the TIDs) gave C 1, A 2, B 3. Pager 1 orders B to copy
     * the futex to A; the copy must reach A (TID prefix 2), not C (primary id 1), which without a
     * lease would take it while pager 1 then grants A: two owners under one token.
     */
    @Test
    void directForwardAtASecondaryGoesToTheKernelWithThatPrimaryId() {
        SimCluster c = cluster(0);
        KernelCore kc = c.addKernel("C", CoreOptions.DEFAULT).core;
        c.runUntil(c.now() + 150_000); // the primary welcomed C; its hello to pager 1 is on its way
        c.partition("C", 1, 3 * MS);
        KernelCore ka = c.addKernel("A", CoreOptions.DEFAULT).core;
        c.runUntil(c.now() + MS);
        KernelCore kb = c.addKernel("B", CoreOptions.DEFAULT).core;
        c.runUntil(c.now() + 5 * MS);
        assertThat(List.of(kc.kernelId(), ka.kernelId(), kb.kernelId())).containsExactly(1, 2, 3);
        assertThat(c.pager(1).kernels()).containsExactlyInAnyOrder("A", "B", "C");
        Worker a = worker(c, ka);
        Worker b = worker(c, kb);
        Worker cw = worker(c, kc);

        assertThat(ok(c, (Reply<Acquired> r) -> kb.vmLockFutex(b.task(), b.tid(), b.one(), -1, r))).isNotNull();
        write(c, b, (byte) 1);
        Pending<Acquired> aLock = lock(a);
        c.runUntil(c.now() + MS);
        Pending<Acquired> cLock = lock(cw);
        c.runUntil(c.now() + MS);
        unlock(c, b);
        c.runUntil(c.now() + 5 * MS);

        assertThat(List.of(aLock.done, cLock.done)).as("A and C do not both hold the futex").containsExactly(true, false);
        assertThat(trace).as("the copy went to A").noneMatch(t -> t.startsWith("C forward-taken"));
        assertThat(read(c, a)).isEqualTo((byte) 1);
        unlock(c, a);
        c.runUntil(c.now() + 5 * MS);
        assertThat(cLock.done).isTrue();
        assertThat(((Acquired) cLock.value).fencingToken()).isGreaterThan(((Acquired) aLock.value).fencingToken());
    }
}
