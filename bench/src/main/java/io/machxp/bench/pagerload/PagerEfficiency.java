package io.machxp.bench.pagerload;

import io.machxp.bench.systems.MachxpService;
import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.SystemResult;
import io.machxp.bench.workload.Workload;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Pager efficiency: XP messages the pager handles per second of its own CPU. The pager runs as
 * {@code machxp pager} in a child process; kernels in this JVM drive the bench workload on it in
 * the Part II variant (--no-cache: every lock and unlock is a request to the pager) over real
 * gRPC on loopback. Over the measured window it counts the XP messages the pager received and
 * sent and the CPU time (user + system, every thread) of the pager's process. With {@link
 * #measureSynthetic} the load is a {@link SyntheticLoad} instead: virtual kernels speaking XP
 * directly from one or a few event loops, cheap enough per message to saturate the pager.
 *
 * <p>The kernels' leases are those of {@code machxp pager --lease-ms}; on a loaded machine a kernel
 * starved of CPU for a whole lease is declared dead and its futexes become unrecoverable, which
 * ends the run: a long lease keeps the measurement about message handling.
 */
public final class PagerEfficiency {
    /**
     * @param messages XP messages at the pager over the window, both directions
     * @param seconds the window's wall time
     * @param pagerCpuSeconds CPU time of the pager process over the window
     * @param loadAverage the machine's load averages (1, 5, 15 minutes) at the end (other processes share the cores)
     * @param workload what the workers saw (throughput, latency, violations, lost updates); null with the synthetic load
     * @param synthetic what the synthetic load did over the window; null with the kernels' load
     * @param threadCpuSeconds the pager's CPU over the window by thread name, the largest first
     *     ("pager-NAME-1-1" is the core thread; the rest is the JIT, GC and gRPC's helpers)
     * @param coreThread the core thread's counters over the window: CPU in user and system mode,
     *     and its waits (each an event-loop pass that found nothing to do and slept)
     * @param readCalls read and readv system calls of the pager process over the window (its sockets are
     *     read with recv, which is not among them)
     * @param writeCalls write system calls of the pager process over the window
     * @param passes passes of the core thread's event loop over the window (the pager counts them:
     *     each one wait or poll for I/O, what it found, then the queued tasks)
     */
    public record Result(long messages, double seconds, double pagerCpuSeconds, String loadAverage,
            SystemResult workload, Map<String, Double> threadCpuSeconds, ProcCounters.Thread coreThread,
            long readCalls, long writeCalls, long passes, Synthetic synthetic) {
        public double messagesPerSecond() {
            return messages / seconds;
        }

        /** The share of one CPU the pager used. */
        public double pagerCpuShare() {
            return pagerCpuSeconds / seconds;
        }

        public double messagesPerCpuSecond() {
            return messages / pagerCpuSeconds;
        }

        /** The core thread's CPU per XP message, in microseconds: user mode (Java), system mode (the OS). */
        public double coreUserMicrosPerMessage() {
            return coreThread.userNanos() / 1e3 / messages;
        }

        public double coreSystemMicrosPerMessage() {
            return coreThread.systemNanos() / 1e3 / messages;
        }

        /**
         * Minor page faults of the core thread per XP message: Java heap touched for the first time
         * (a heap that grows, or one the JVM shrank and grows again, costs a fault per fresh 4 KiB).
         */
        public double pageFaultsPerMessage() {
            return (double) coreThread.pageFaults() / Math.max(1, messages);
        }

        /** The share of one CPU the core thread used (the pager saturates as it nears 1). */
        public double coreThreadCpuShare() {
            return coreThread.cpuNanos() / 1e9 / seconds;
        }

        /**
         * XP messages per pass of the core's event loop: the OS's cost of a pass (its wait or poll,
         * reads, writes) is shared by these. A pass that found nothing does not count here as a
         * wake-up does, so under saturation (the loop polls without sleeping) this stays honest.
         */
        public double messagesPerPass() {
            return (double) messages / Math.max(1, passes);
        }

        /** XP messages per wake-up of the core thread: how many each pass of its event loop handles. */
        public double messagesPerWakeup() {
            return (double) messages / Math.max(1, coreThread.waits());
        }

        /**
         * XP messages per write system call of the pager (its reads are not counted: Netty's epoll
         * transport reads with recv, which /proc/PID/io leaves out).
         */
        public double messagesPerWrite() {
            return (double) messages / Math.max(1, writeCalls);
        }

        public boolean correct() {
            return workload != null ? workload.violations() == 0 && workload.lostUpdates() == 0
                    : synthetic.errors() == 0;
        }

        /** Lock+unlock operations a second over the window, whichever load. */
        public double opsPerSecond() {
            return workload != null ? workload.opsPerSecond() : synthetic.cycles() / seconds;
        }
    }

    /**
     * The synthetic load over the window ({@link SyntheticLoad}).
     *
     * @param options what it ran
     * @param cycles lock/unlock cycles completed in the window
     * @param errors protocol errors over the whole run (must be 0)
     * @param firstError the first one's description, or null
     * @param relinquishesCrossed relinquishes that reached a kernel after its release (shared futexes)
     * @param loadCpuSeconds CPU time of this process (the load) over the window, every thread
     * @param loadThreadsCpuSeconds of which the load's event-loop threads
     */
    public record Synthetic(SyntheticLoad.Options options, long cycles, long errors, String firstError,
            long relinquishesCrossed, double loadCpuSeconds, double loadThreadsCpuSeconds) {}

    private PagerEfficiency() {}

    /** Runs {@code options}' workload (the warm-up, then the measured window) on a pager process. */
    public static Result measure(BenchOptions options, long leaseMillis, List<String> pagerJvmArgs) throws Exception {
        return measure(options, leaseMillis, pagerJvmArgs, Pinning.NONE);
    }

    /** {@link #measure(BenchOptions, long, List)} with the pager process and this one (the load) on the CPUs {@code pinning} names. */
    public static Result measure(BenchOptions options, long leaseMillis, List<String> pagerJvmArgs, Pinning pinning)
            throws Exception {
        Map.Entry<String, Long> object = MachxpService.objectBytes(options);
        try (PagerProcess pager = PagerProcess.start(object.getKey(), object.getValue(), leaseMillis,
                pagerJvmArgs, pinning.pagerPrefix())) {
            pinning.pinThisProcess();
            String target = pager.target(120);
            try (MeteredService service = new MeteredService(
                    MachxpService.onPager(MachxpService.Mode.NO_CACHE, options, target), pager, target)) {
                SystemResult workload;
                try {
                    workload = new Workload(options).run(service);
                } catch (IllegalStateException e) {
                    throw new IllegalStateException(e.getMessage() + "\nthe pager process's output:\n" + pager.output(), e);
                }
                List<PagerSampler.Sample> s = service.samples();
                return result(s.get(s.size() - 2), s.get(s.size() - 1), workload, null);
            }
        }
    }

    /**
     * Runs the synthetic load {@code load} on a pager process: {@code warmup}, then the measured
     * {@code duration}; then stops it and waits for every stream to end.
     */
    public static Result measureSynthetic(SyntheticLoad.Options load, java.time.Duration warmup,
            java.time.Duration duration, long leaseMillis, List<String> pagerJvmArgs, Pinning pinning) throws Exception {
        int pageSize = io.machxp.pager.PagerConfig.DEFAULT_PAGE_SIZE;
        try (PagerProcess pager = PagerProcess.start(SyntheticLoad.OBJECT, load.objectBytes(pageSize), leaseMillis,
                pagerJvmArgs, pinning.pagerPrefix())) {
            pinning.pinThisProcess(); // before the load's threads start: they inherit its CPUs
            String target = pager.target(120);
            try (PagerSampler sampler = new PagerSampler(pager, target);
                    SyntheticLoad synthetic = SyntheticLoad.start(target, load, pageSize)) {
                Thread.sleep(warmup.toMillis());
                long self = ProcessHandle.current().pid();
                long cyclesBefore = synthetic.cycles();
                ProcCounters loadBefore = ProcCounters.read(self);
                PagerSampler.Sample begin = sampler.sample();
                Thread.sleep(duration.toMillis());
                PagerSampler.Sample end = sampler.sample();
                ProcCounters loadAfter = ProcCounters.read(self);
                long cycles = synthetic.cycles() - cyclesBefore;
                synthetic.stopAndWait(60);
                if (synthetic.errors() > 0 && synthetic.cycles() == 0) {
                    throw new IllegalStateException("the synthetic load ran no cycle: " + synthetic.firstError()
                            + "\nthe pager process's output:\n" + pager.output());
                }
                double loadThreads = byThread(loadBefore, loadAfter).entrySet().stream()
                        .filter(e -> e.getKey().startsWith("synthetic-load")).mapToDouble(Map.Entry::getValue).sum();
                return result(begin, end, null, new Synthetic(load, cycles, synthetic.errors(), synthetic.firstError(),
                        synthetic.relinquishesCrossed(),
                        (loadAfter.total().cpuNanos() - loadBefore.total().cpuNanos()) / 1e9, loadThreads));
            }
        }
    }

    private static Result result(PagerSampler.Sample begin, PagerSampler.Sample end, SystemResult workload,
            Synthetic synthetic) {
        ProcCounters from = begin.counters();
        ProcCounters to = end.counters();
        return new Result(end.messages() - begin.messages(), (end.nanoTime() - begin.nanoTime()) / 1e9,
                (to.total().cpuNanos() - from.total().cpuNanos()) / 1e9, loadAverage(), workload,
                byThread(from, to), coreThread(from, to), to.readCalls() - from.readCalls(),
                to.writeCalls() - from.writeCalls(), end.passes() - begin.passes(), synthetic);
    }

    private static Map<String, Double> byThread(ProcCounters begin, ProcCounters end) {
        Map<String, Double> used = new java.util.LinkedHashMap<>();
        end.threads().entrySet().stream()
                .map(e -> Map.entry(e.getKey(), (e.getValue().cpuNanos()
                        - begin.threads().getOrDefault(e.getKey(), IDLE).cpuNanos()) / 1e9))
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> used.put(e.getKey(), e.getValue()));
        return used;
    }

    private static final ProcCounters.Thread IDLE = new ProcCounters.Thread(0, 0, 0, 0);

    /** The core thread's counters over the window: it is "pager-NAME-1-1", the first thread of its event loop. */
    static ProcCounters.Thread coreThread(ProcCounters begin, ProcCounters end) {
        return end.threads().entrySet().stream()
                .filter(e -> e.getKey().startsWith("pager-") && e.getKey().endsWith("-1-1"))
                .map(e -> e.getValue().minus(begin.threads().getOrDefault(e.getKey(), IDLE)))
                .findFirst().orElse(IDLE);
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }
}
