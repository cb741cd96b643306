package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import io.machxp.proto.task.Errno;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The kernel's side of the lease, in virtual time: a kernel cut off from its pager stops before
 * the pager declares it dead, and tells its threads why; one that keeps its keepalives answered
 * keeps its futexes through many leases.
 */
class KernelLeaseTest {
    private static final long MS = 1_000_000;
    private static final long LEASE = 20 * MS;
    private final List<String> trace = new ArrayList<>();
    private final SimCluster cluster = new SimCluster(new SimCluster.Options(1, 100_000, 0, 4096, LEASE),
            Map.of("obj", 4096L), (time, kernel, event, tid, detail) -> trace.add(time / MS + " " + kernel + " " + event));
    private final List<Long> declaredAt = new ArrayList<>();

    /** Runs the simulation until the call is answered: its value, or the KernelError it failed with. */
    @SuppressWarnings("unchecked")
    private <T> T await(Consumer<Reply<T>> call) {
        return (T) SimCalls.await(cluster, call);
    }

    private SimCalls.Worker worker(String kernel) {
        return SimCalls.worker(cluster, kernel, "obj");
    }

    @Test
    void aKernelCutOffStopsBeforeThePagerDeclaresItDeadAndItsFutexGoesOnWithOwnerDied() {
        cluster.onDeclaredDead((time, kernel, held) -> declaredAt.add(time));
        SimCalls.Worker a = worker("A");
        SimCalls.Worker b = worker("B");
        Acquired first = await(r -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r));

        cluster.runUntil(cluster.now() + 10 * LEASE);  // keepalives keep A's lease through ten leases
        assertThat(trace).noneMatch(e -> e.contains("lease-lost"));
        assertThat(cluster.pagerStats().kernelsDeclaredDead()).isZero();

        long cut = cluster.now();
        cluster.partition("A", 10 * LEASE);
        Object[] got = new Object[1];
        b.core().vmLockFutex(b.task(), b.tid(), b.base(), -1, new Reply<>() {
            @Override
            public void complete(Acquired value) {
                got[0] = value;
            }

            @Override
            public void fail(KernelError error) {
                got[0] = error;
            }
        });
        cluster.runUntil(cut + 3 * LEASE);

        String lost = trace.stream().filter(e -> e.contains("A lease-lost")).findFirst().orElseThrow();
        long lostAt = Long.parseLong(lost.split(" ")[0]) * MS;
        assertThat(declaredAt).hasSize(1);
        assertThat(lostAt).as("A stops first").isLessThan(declaredAt.get(0));
        assertThat(got[0]).isInstanceOfSatisfying(Acquired.class, acq -> {
            assertThat(acq.ownerDied()).isTrue();
            assertThat(acq.fencingToken()).isGreaterThan(first.fencingToken());
        });

        Object read = this.<byte[]>await(r -> a.core().vmRead(a.task(), a.base() + 8, 8, r));
        assertThat(read).isInstanceOf(KernelError.class);
        KernelError e = (KernelError) read;
        assertThat(e.errno()).isEqualTo(Errno.EIO);
        assertThat(e.message()).contains("lease ran out");
    }
}
