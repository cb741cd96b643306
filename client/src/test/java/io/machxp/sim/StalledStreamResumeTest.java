package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.PagerDirectory;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.vm.VmMapping;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A kernel whose stream stalls (a TCP connection in retransmission backoff after a short cut)
 * resumes its session on a new stream within its lease (xp.proto, Resume): it keeps its kernel
 * id, its futexes and its pages, nobody is told OWNER_DIED, nothing it wrote is lost, and what the
 * old stream delivers late is fenced. In virtual time: the simulator's stall holds one stream's
 * messages, in order, for longer than the lease. With several pagers each stream resumes on its own.
 */
class StalledStreamResumeTest {
    private static final long MS = 1_000_000;
    private static final long LEASE = 20 * MS;
    private final List<String> trace = new ArrayList<>();
    private final SimCluster cluster = new SimCluster(new SimCluster.Options(7, 100_000, 20_000, 4096, LEASE),
            Map.of("obj", 4096L), (time, kernel, event, tid, detail) -> trace.add(kernel + " " + event));

    private <T> Object await(Consumer<Reply<T>> call) {
        return SimCalls.await(cluster, call);
    }

    @Test
    void aStalledStreamIsResumedWithinTheLeaseAndTheKernelKeepsItsFutexAndItsWrite() {
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj");
        SimCalls.Worker b = SimCalls.worker(cluster, "B", "obj");
        Acquired first = (Acquired) this.<Acquired>await(r -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r));
        byte[] written = ByteBuffer.allocate(8).putLong(42).array();
        assertThat(this.<Void>await(r -> a.core().vmWrite(a.task(), a.base() + 8, written, r))).isNull();

        // Longer than the lease (without a resume A loses it), and its end within a lease of the
        // resume, while the pager still fences the old stream by name (later, gRPC has closed it).
        cluster.stall("A", LEASE * 6 / 5);
        cluster.runUntil(cluster.now() + LEASE / 2);
        Object[] got = new Object[1];
        b.core().vmLockFutex(b.task(), b.tid(), b.base(), -1, reply(got));
        cluster.runUntil(cluster.now() + LEASE);
        assertThat(got[0]).as("B waits: A still owns the futex").isNull();
        assertThat(this.<Void>await(r -> a.core().vmUnlockFutex(a.task(), a.tid(), a.base(), r))).isNull();
        cluster.runUntil(cluster.now() + LEASE);

        assertThat(trace).contains("A pager-stalled", "A pager-resumed").noneMatch(e -> e.contains("lease-lost"));
        assertThat(cluster.pagerStats().sessionsResumed()).isEqualTo(1);
        assertThat(cluster.pagerStats().kernelsDeclaredDead()).isZero();
        assertThat(got[0]).isInstanceOfSatisfying(Acquired.class, acq -> {
            assertThat(acq.ownerDied()).as("nobody died: A resumed and released the futex").isFalse();
            assertThat(acq.fencingToken()).isGreaterThan(first.fencingToken());
        });
        assertThat(this.<byte[]>await(r -> b.core().vmRead(b.task(), b.base() + 8, 8, r))).isEqualTo(written);

        cluster.runUntil(cluster.now() + 2 * LEASE); // the old stream delivers what it held: fenced
        assertThat(cluster.pagerStats().fenced()).isPositive();
        assertThat(trace).noneMatch(e -> e.contains("lease-lost") || e.contains("pager-lost"));
        long other = a.base() + 64; // B still owns the first futex: A takes another one
        assertThat(this.<Acquired>await(r -> a.core().vmLockFutex(a.task(), a.tid(), other, -1, r)))
                .as("A goes on in the same session").isInstanceOfSatisfying(Acquired.class,
                        acq -> assertThat(acq.ownerDied()).isFalse());
    }

    @Test
    void withTwoPagersOnlyTheStalledStreamResumesAndTheOtherSessionGoesOnMeanwhile() {
        SimCluster two = new SimCluster(new SimCluster.Options(7, 100_000, 20_000, 4096, LEASE),
                Map.of("zero", 4096L, "one", 4096L), PagerDirectory.of(2, Map.of("zero", 0, "one", 1)),
                (time, kernel, event, tid, detail) -> trace.add(kernel + " " + event));
        SimCalls.Worker a = SimCalls.worker(two, "A", "one");
        Object held = SimCalls.<Acquired>await(two, r -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r));
        assertThat(held).isInstanceOf(Acquired.class);
        long zero = ((VmMapping) SimCalls.<VmMapping>await(two, r -> a.core().vmMap(a.task(), "zero", r))).start();

        two.stall("A", 1, LEASE * 6 / 5); // only the stream to pager 1
        two.runUntil(two.now() + LEASE / 2);
        Object other = SimCalls.<Acquired>await(two, r -> a.core().vmLockFutex(a.task(), a.tid(), zero, -1, r));
        assertThat(other).as("pager 0's session is not held by pager 1's stall").isInstanceOf(Acquired.class);
        two.runUntil(two.now() + 2 * LEASE);

        assertThat(two.pagerStats(1).sessionsResumed()).isEqualTo(1);
        assertThat(two.pagerStats(0).sessionsResumed()).as("pager 0's stream never stalled").isZero();
        assertThat(trace).contains("A pager-stalled", "A pager-resumed")
                .noneMatch(e -> e.contains("lease-lost") || e.contains("pager-lost") || e.contains("disconnected"));
        assertThat(SimCalls.<Void>await(two, r -> a.core().vmUnlockFutex(a.task(), a.tid(), a.base(), r)))
                .as("A still owns pager 1's futex after the resume").isNull();
    }

    /**
     * A resume whose answer takes longer than the kernel's retry interval (L/10) to come back: on
     * a loaded host a new connection and the pager's answer took 0.6-0.7 s against 0.3 s with a
     * 3 s lease. Each new attempt fenced the one before it at the pager, and the kernel read only
     * the newest stream, so no answer was ever read and the kernel lost its lease (chaos --real:
     * three resumes taken by the pager, then "lease ran out"). An attempt whose connection is up
     * is waited for: here the round trip is 3 ms against a retry interval of 2 ms.
     */
    @Test
    void aResumeSlowerThanTheRetryIntervalIsWaitedForAndTaken() {
        SimCluster slow = new SimCluster(new SimCluster.Options(7, 1_500_000, 0, 4096, LEASE), Map.of("obj", 4096L),
                (time, kernel, event, tid, detail) -> trace.add(kernel + " " + event));
        SimCalls.Worker a = SimCalls.worker(slow, "A", "obj", 10 * MS);
        Object held = SimCalls.<Acquired>await(slow, r -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r));
        assertThat(held).isInstanceOf(Acquired.class);

        slow.stall("A", LEASE * 6 / 5);
        slow.runUntil(slow.now() + 3 * LEASE);

        assertThat(trace).contains("A pager-stalled", "A pager-resumed").noneMatch(e -> e.contains("lease-lost"));
        assertThat(slow.pagerStats().kernelsDeclaredDead()).isZero();
        assertThat(SimCalls.<Void>await(slow, r -> a.core().vmUnlockFutex(a.task(), a.tid(), a.base(), r)))
                .as("A still owns its futex after the resume").isNull();
    }

    private static Reply<Acquired> reply(Object[] box) {
        return new Reply<>() {
            @Override
            public void complete(Acquired value) {
                box[0] = value;
            }

            @Override
            public void fail(KernelError error) {
                box[0] = error;
            }
        };
    }
}
