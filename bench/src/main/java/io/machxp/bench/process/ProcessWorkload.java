package io.machxp.bench.process;

import io.machxp.bench.systems.Clients;
import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.Board;
import io.machxp.bench.workload.Hosted;
import io.machxp.bench.workload.LockService;
import io.machxp.bench.workload.Run;
import io.machxp.bench.workload.SystemResult;
import io.machxp.bench.workload.Tally;
import io.machxp.bench.workload.WorkerStats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code machxp bench --api process}: the workload with each node's workers in a {@link WorkerMain}
 * process of their own, clients of the system's servers in this JVM, so that no system's workers
 * call it in-process. The run is coordinated through a {@link Board} in a file every process maps
 * (under /dev/shm when it is writable): the processes say they are ready, this JVM opens the
 * window (warm-up, then measured, on the host's monotonic clock), and each process prints its
 * node's measurements when the window ends. The board's directory is locked for the run
 * ({@link io.machxp.kernel.shm.OwnedDirectory}, as a kernel's session directory): closed at the end,
 * and a run killed before that leaves it to the next run (or kernel) there, which removes it. The counters are read before and after through the
 * system's client side ({@link Clients}), where its users would keep them.
 */
public final class ProcessWorkload extends Run {
    /** How long the worker processes may take to start and connect. */
    private static final long START_SECONDS = 180;
    /** A run bounded by operations: how long its worker processes may take for them (a bound on a hang, not a measure). */
    private static final long RESULT_SECONDS_BOUNDED = 600;
    private static final com.sun.management.OperatingSystemMXBean CPU =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    public ProcessWorkload(BenchOptions options) {
        super(options);
    }

    @Override
    public SystemResult run(LockService service) throws Exception {
        if (!(service instanceof Hosted hosted)) {
            throw new IllegalArgumentException(service.name() + " cannot run its workers in other processes");
        }
        List<String> connection = hosted.connection();
        io.machxp.kernel.shm.OwnedDirectory own = io.machxp.kernel.shm.OwnedDirectory.make(boardDirectory(), "bench");
        Path dir = own.path();
        LegacyBoards.removeDead(dir.getParent(), Files.getOwner(dir));
        WorkerGroup workers = new WorkerGroup();
        // at exit (Ctrl-C, SIGTERM) the workers are killed and the board's directory removed: the
        // finally below does not run then. The hook goes only after that finally, so a signal while
        // it stops the workers is covered too (the hook then kills them alongside it).
        io.machxp.cluster.CloseAtExit atExit = io.machxp.cluster.CloseAtExit.register("bench's worker processes"
                + " for " + service.name(), () -> {
                    workers.kill();
                    own.close();
                }, io.machxp.cluster.CloseAtExit.DEFAULT_BOUND);
        try {
            return measure(service, connection, dir, workers);
        } finally {
            try {
                workers.stop();
                own.close();
            } finally {
                atExit.close();
            }
        }
    }

    private SystemResult measure(LockService service, List<String> connection, Path dir, WorkerGroup workers)
            throws Exception {
        try (LockService reader = Clients.open(connection)) {
            Path file = dir.resolve("board");
            Board b = use(Board.mapped(file, options.locks()));
            long counterBefore = Tally.counterSum(reader, b, options);
            for (int node = 0; node < options.nodes(); node++) {
                workers.add(WorkerProcess.start(node, options, file, connection, dir));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
            while (b.readyCount() < options.workers()) {
                workers.all().forEach(WorkerProcess::check);
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException(service.name() + ": the worker processes were not ready within "
                            + START_SECONDS + " s (" + b.readyCount() + " of " + options.workers() + " workers)");
                }
                LockSupport.parkNanos(5_000_000);
            }
            long begin = System.nanoTime() + options.warmup().toNanos();
            b.open(begin, begin + options.duration().toNanos());
            while (System.nanoTime() - begin < 0) { // the message count at the start of the measurement
                LockSupport.parkNanos(begin - System.nanoTime());
            }
            long messagesAtBegin = service.messages();
            begun();
            long serverCpuAtBegin = CPU.getProcessCpuTime();
            long jitAtBegin = CompilerCpu.nanos();
            long wait = options.bounded() ? RESULT_SECONDS_BOUNDED
                    : TimeUnit.NANOSECONDS.toSeconds(options.duration().toNanos()) + 120;
            WorkerStats[] perNode = new WorkerStats[options.nodes()];
            for (int node = 0; node < perNode.length; node++) {
                perNode[node] = workers.get(node).result(wait);
            }
            long ended = System.nanoTime();
            long serverCpu = CPU.getProcessCpuTime() - serverCpuAtBegin; // the window and the results' wait
            long jitAtEnd = CompilerCpu.nanos();
            long jit = jitAtBegin < 0 || jitAtEnd < 0 ? -1 : jitAtEnd - jitAtBegin;
            long messages = messagesAtBegin < 0 ? -1 : service.messages() - messagesAtBegin;
            costs(service.name(), perNode, serverCpu, jit, messages);
            return Tally.of(service, options, perNode, messages, Tally.counterSum(reader, b, options) - counterBefore,
                    options.bounded() ? Math.max(ended - begin, 1) / 1e9 : options.duration().toNanos() / 1e9);
        }
    }

    /**
     * Per operation of the window, on stderr: the worker processes' calls to the servers and CPU
     * time, and the CPU time of this JVM (the servers: pager and kernels, ZooKeeper, the CP members),
     * with the part of it its JIT compilers used ({@link CompilerCpu}; -1: not known) and the rest.
     * Less sensitive to a loaded machine than throughput: what an operation costs, not how long
     * it waited for a core; but on a loaded machine the JIT still compiles in the window, and
     * the servers' fixed costs per second (timers, heartbeats) are shared by fewer operations, so
     * the figure without the compilers is the one to compare. With the XP messages of the window
     * ({@code messages}; -1: not counted), also the messages per CPU-second of the servers' JVM, and
     * per CPU-second of it without the compilers; and, when the compilers took more than a tenth of
     * it, a line saying that the window was not warm.
     */
    private static void costs(String system, WorkerStats[] perNode, long serverCpuNanos, long jitNanos, long messages) {
        long ops = 0;
        long calls = 0;
        long cpu = 0;
        for (WorkerStats s : perNode) {
            ops += s.ops();
            calls = s.calls() < 0 || calls < 0 ? -1 : calls + s.calls();
            cpu += Math.max(0, s.cpuNanos());
        }
        if (ops == 0) {
            return;
        }
        System.err.printf(java.util.Locale.ROOT, "%s: per operation %s, worker processes' CPU %.1f us, servers' JVM "
                + "CPU %.1f us%s%n", system, calls < 0 ? "(calls not counted)"
                : String.format(java.util.Locale.ROOT, "%.3f calls to the servers", (double) calls / ops),
                cpu / 1e3 / ops, serverCpuNanos / 1e3 / ops, jitNanos < 0 ? ""
                : String.format(java.util.Locale.ROOT, " (JIT compilers %.1f us, the rest %.1f us)", jitNanos / 1e3 / ops,
                        (serverCpuNanos - jitNanos) / 1e3 / ops));
        if (messages > 0 && serverCpuNanos > 0) {
            System.err.printf(java.util.Locale.ROOT, "%s: %,d XP messages in the window, %,.0f per servers' JVM CPU-second%s%n",
                    system, messages, messages / (serverCpuNanos / 1e9), jitNanos < 0 || serverCpuNanos <= jitNanos ? ""
                    : String.format(java.util.Locale.ROOT, ", %,.0f without the JIT compilers", messages
                            / ((serverCpuNanos - jitNanos) / 1e9)));
        }
        if (jitNanos > 0 && serverCpuNanos > 0 && jitNanos * 10 > serverCpuNanos) {
            System.err.printf(java.util.Locale.ROOT, "%s: not warm: the JIT compilers used %.0f%% of the servers' JVM CPU "
                    + "in the window (a longer --warmup moves them out of it)%n", system, 100.0 * jitNanos / serverCpuNanos);
        }
    }

    /**
     * The kernels' shared directory ({@code /dev/shm}, or {@code -Dmachxp.shm.dir}) when this host has
     * it writable (the board is then memory only), else the temporary directory.
     */
    private static Path boardDirectory() {
        Path shm = io.machxp.kernel.shm.SharedMemory.defaultDir();
        return shm != null ? shm : Path.of(System.getProperty("java.io.tmpdir"));
    }

}
