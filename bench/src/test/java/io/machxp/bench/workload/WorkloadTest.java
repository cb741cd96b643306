package io.machxp.bench.workload;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.bench.process.ProcessWorkload;
import io.machxp.bench.systems.CuratorService;
import io.machxp.bench.systems.HazelcastService;
import io.machxp.bench.systems.MachxpService;
import java.time.Duration;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * The bench's workload on every system it compares: each must complete its operations and pass the
 * workload's own checks (no overlap in a critical section, no lost update); and the checks must
 * catch a lock that does not exclude. Runs are bounded by operations ({@link #OPS} per worker, all
 * measured, no warm-up), not by a clock: a loaded machine makes them slower, never failing.
 */
class WorkloadTest {
    static final long OPS = 200;

    private static BenchOptions options(int nodes, int threads, BenchOptions.Api api) {
        return new BenchOptions(nodes, threads, 2 * nodes, 0.9, Duration.ZERO, Duration.ZERO, 0.5,
                Duration.ZERO, Duration.ofMillis(400), 7, api).withOpsPerWorker(OPS);
    }

    @ParameterizedTest
    @EnumSource(MachxpService.Mode.class)
    void machxpKeepsMutualExclusionAndEveryUpdateInEveryMode(MachxpService.Mode mode) throws Exception {
        BenchOptions o = options(3, 2, BenchOptions.Api.LOCAL);
        try (MachxpService service = new MachxpService(mode, o)) {
            SystemResult r = new Workload(o).run(service);
            assertThat(r.ops()).isEqualTo(o.workers() * OPS);
            assertThat(r.violations()).isZero();
            assertThat(r.lostUpdates()).isZero();
            assertThat(r.messagesPerOp()).isNotNull();
            assertThat(r.fairness().jain()).as("Jain's index over the nodes").isBetween(1.0 / 3, 1.0);
            assertThat(r.fairness().maxWaitMicros()).isGreaterThanOrEqualTo(r.fairness().worstP99WaitMicros());
            if (mode == MachxpService.Mode.NO_CACHE) {
                // lock_futex, futex_granted and futex_released for every lock and unlock; the page-ins
                // after another kernel wrote come on top, as many as the workers' interleaving makes
                assertThat(r.messagesPerOp()).as("Part II: every lock and unlock goes to the pager").isGreaterThanOrEqualTo(3.0);
            } else {
                assertThat(r.messagesPerOp()).as("the cache: only operations that cross kernels send XP").isLessThan(4.0);
            }
        }
    }

    @Test
    void machxpOverGrpcTasks() throws Exception {
        BenchOptions o = options(2, 2, BenchOptions.Api.GRPC);
        try (MachxpService service = new MachxpService(MachxpService.Mode.CACHED, o)) {
            SystemResult r = new Workload(o).run(service);
            assertThat(r.system()).isEqualTo("machxp cached (gRPC tasks)");
            assertThat(r.ops()).isEqualTo(o.workers() * OPS);
            assertThat(r.correct()).isTrue();
        }
    }

    @Test
    void strictAlternationOnMachxpHandsLocksOffBetweenKernels() throws Exception {
        BenchOptions o = new BenchOptions(3, 2, 6, 0.9, Duration.ZERO, Duration.ZERO, 0.5, Duration.ZERO,
                Duration.ofMillis(400), 7, BenchOptions.Api.LOCAL, BenchOptions.Pattern.ALTERNATION,
                BenchOptions.Data.SYSTEM, OPS);
        try (MachxpService service = new MachxpService(MachxpService.Mode.CACHED, o)) {
            SystemResult r = new Workload(o).run(service);
            assertThat(r.ops()).isPositive();
            assertThat(r.correct()).isTrue();
            // every acquisition but each lock's first (nobody held it) a handoff between kernels,
            // whatever the interleaving (StrictAlternation): each sends XP messages
            assertThat(r.ops() - Math.round(r.handoffShare() * r.ops())).isLessThanOrEqualTo(o.locks());
            assertThat(r.messagesPerOp()).isGreaterThan(2.0);
        }
    }

    /** --api process: each node's workers in a JVM of their own, KernelClient tasks of the kernels here. */
    @Test
    void machxpTasksInProcessesOfTheirOwn() throws Exception {
        BenchOptions o = processes(2, 2, BenchOptions.Pattern.ALTERNATION);
        try (MachxpService service = new MachxpService(MachxpService.Mode.CACHED, o)) {
            SystemResult r = new ProcessWorkload(o).run(service);
            assertThat(r.system()).isEqualTo("machxp cached (task processes)");
            assertThat(r.ops()).isPositive();
            assertThat(r.data()).startsWith("system: the lock's page");
            assertThat(r.correct()).isTrue();
            assertThat(r.messagesPerOp()).isPositive();
            assertThat(r.fairness().jain()).isBetween(0.5, 1.0);
        }
    }

    @Test
    void curatorClientsInProcessesOfTheirOwn() throws Exception {
        BenchOptions o = processes(2, 1, BenchOptions.Pattern.LOCALITY);
        try (CuratorService service = new CuratorService(o)) {
            SystemResult r = new ProcessWorkload(o).run(service);
            assertThat(r.system()).isEqualTo("Curator InterProcessMutex (client processes)");
            assertThat(r.ops()).isEqualTo(o.workers() * OPS);
            assertThat(r.data()).contains("a znode");
            assertThat(r.correct()).as("the counters in znodes, each increment kept").isTrue();
        }
    }

    @Test
    void hazelcastClientsInAProcessOfTheirOwn() throws Exception {
        BenchOptions o = processes(1, 2, BenchOptions.Pattern.LOCALITY);
        try (HazelcastService service = new HazelcastService(o)) {
            SystemResult r = new ProcessWorkload(o).run(service);
            assertThat(r.system()).isEqualTo("Hazelcast FencedLock (client processes)");
            assertThat(r.ops()).isEqualTo(o.workers() * OPS);
            assertThat(r.data()).contains("an IMap entry");
            assertThat(r.correct()).as("the counters in an IMap, each increment kept").isTrue();
        }
    }

    /** Bounded by operations: a cold worker JVM takes as long as it takes. Each system's own data store. */
    private static BenchOptions processes(int nodes, int threads, BenchOptions.Pattern pattern) {
        return new BenchOptions(nodes, threads, 2 * nodes, 0.9, Duration.ZERO, Duration.ZERO, 0.5,
                Duration.ZERO, Duration.ofSeconds(1), 7, BenchOptions.Api.PROCESS, pattern, BenchOptions.Data.SYSTEM, OPS);
    }

    /** --data shared across processes: the counters on the mapped board, checked there. */
    @Test
    void sharedDataAcrossWorkerProcesses() throws Exception {
        BenchOptions o = processes(2, 2, BenchOptions.Pattern.LOCALITY).withData(BenchOptions.Data.SHARED);
        try (CuratorService service = new CuratorService(o)) {
            SystemResult r = new ProcessWorkload(o).run(service);
            assertThat(r.ops()).isEqualTo(o.workers() * OPS);
            assertThat(r.correct()).isTrue();
            assertThat(r.data()).isEqualTo(DataStep.SHARED);
            assertThat(service.counter(0) + service.counter(1)).as("no znode written").isZero();
        }
    }

    @Test
    void curatorOnEmbeddedZooKeeper() throws Exception {
        BenchOptions o = options(2, 2, BenchOptions.Api.LOCAL);
        try (CuratorService service = new CuratorService(o)) {
            SystemResult r = new Workload(o).run(service);
            assertThat(r.ops()).isEqualTo(o.workers() * OPS);
            assertThat(r.correct()).isTrue();
            assertThat(r.messagesPerOp()).isNull();
        }
    }

    @Test
    void hazelcastFencedLockOnEmbeddedCpGroup() throws Exception {
        BenchOptions o = options(3, 1, BenchOptions.Api.LOCAL);
        try (HazelcastService service = new HazelcastService(o)) {
            SystemResult r = new Workload(o).run(service);
            assertThat(r.ops()).isEqualTo(o.workers() * OPS);
            assertThat(r.correct()).isTrue();
        }
    }

    /** A lock that locks nothing: the first two workers meet inside lock 0's critical section. */
    @Test
    void theChecksCatchALockThatDoesNotExclude() throws Exception {
        BenchOptions o = new BenchOptions(1, 2, 1, 1.0, Duration.ZERO, Duration.ZERO, 1.0, Duration.ZERO,
                Duration.ofMillis(100), 1, BenchOptions.Api.LOCAL);
        CyclicBarrier meet = new CyclicBarrier(2);
        AtomicLongArray counters = new AtomicLongArray(1);
        LockService broken = new LockService() {
            @Override
            public String name() {
                return "broken";
            }

            @Override
            public Client client(int node, int worker) {
                boolean[] first = {true};
                return new Client() {
                    @Override
                    public void lock(int lock) {}

                    @Override
                    public void unlock(int lock) {}

                    @Override
                    public long read(int lock) throws Exception {
                        long v = counters.get(lock);
                        if (first[0]) {
                            first[0] = false;
                            meet.await(); // both workers are now inside, having read the same value
                        }
                        return v;
                    }

                    @Override
                    public void write(int lock, long value) {
                        counters.set(lock, value);
                    }
                };
            }

            @Override
            public long messages() {
                return -1;
            }

            @Override
            public long counter(int lock) {
                return counters.get(lock);
            }

            @Override
            public void close() {}
        };
        SystemResult r = new Workload(o).run(broken);
        assertThat(r.violations()).isPositive();
        assertThat(r.lostUpdates()).isPositive();
        assertThat(r.correct()).isFalse();
    }
}
