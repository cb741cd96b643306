package io.machxp.demo;

import java.util.List;

/**
 * What the demo runs.
 *
 * @param kernels kernels to start (embedded) - ignored when {@code kernelTargets} is given
 * @param threadsPerKernel worker threads per kernel
 * @param futexes futexes in the shared object, futex i homed on kernel i mod kernels
 * @param opsPerThread lock/unlock pairs per thread
 * @param locality probability that a thread picks a futex homed on its own kernel
 * @param seed fixes each thread's sequence of futex choices
 * @param cacheFutexes false for Part II only: every lock and unlock goes to the pager
 * @param piggyback entry consistency: a futex release carries the pages dirtied under it
 * @param kernelTargets remote kernels ("host:port"); empty for the embedded cluster
 * @param pagerTarget the remote kernels' pager ("host:port"), for its counters
 * @param object the object to use on a remote pager
 * @param grpcOnly every call of the workers over gRPC, also where the kernels share memory with them
 * @param think how long a worker works outside the lock after each unlock (parked, off the CPU); 0: none
 * @param pagers pagers of the embedded cluster; with more than one, futex i is in object
 *     {@code demo-(i mod pagers)}, which pager i mod pagers serves (docs/multi-pager.md)
 * @param warmup how long the workers run the same workload before the measured ops (the JVM
 *     compiles the code meanwhile); not counted in ops/s, latency or messages, but its updates and
 *     violations are checked with the rest; 0: none
 */
public record DemoOptions(int kernels, int threadsPerKernel, int futexes, int opsPerThread, double locality,
        long seed, boolean cacheFutexes, boolean piggyback, List<String> kernelTargets, String pagerTarget, String object,
        boolean grpcOnly, java.time.Duration think, int pagers, java.time.Duration warmup) {

    /** What {@code machxp demo} warms up for unless told otherwise. */
    public static final java.time.Duration DEFAULT_WARMUP = java.time.Duration.ofSeconds(2);

    /** Without a warm-up. */
    public DemoOptions(int kernels, int threadsPerKernel, int futexes, int opsPerThread, double locality,
            long seed, boolean cacheFutexes, boolean piggyback, List<String> kernelTargets, String pagerTarget,
            String object, boolean grpcOnly, java.time.Duration think, int pagers) {
        this(kernels, threadsPerKernel, futexes, opsPerThread, locality, seed, cacheFutexes, piggyback, kernelTargets,
                pagerTarget, object, grpcOnly, think, pagers, java.time.Duration.ZERO);
    }

    /** With one pager. */
    public DemoOptions(int kernels, int threadsPerKernel, int futexes, int opsPerThread, double locality,
            long seed, boolean cacheFutexes, boolean piggyback, List<String> kernelTargets, String pagerTarget,
            String object, boolean grpcOnly, java.time.Duration think) {
        this(kernels, threadsPerKernel, futexes, opsPerThread, locality, seed, cacheFutexes, piggyback, kernelTargets,
                pagerTarget, object, grpcOnly, think, 1);
    }

    /** Workers that use the memory kernels on their host share with them. */
    public DemoOptions(int kernels, int threadsPerKernel, int futexes, int opsPerThread, double locality,
            long seed, boolean cacheFutexes, boolean piggyback, List<String> kernelTargets, String pagerTarget,
            String object) {
        this(kernels, threadsPerKernel, futexes, opsPerThread, locality, seed, cacheFutexes, piggyback, kernelTargets,
                pagerTarget, object, false, java.time.Duration.ZERO);
    }

    public DemoOptions {
        kernelTargets = List.copyOf(kernelTargets);
        require(kernelTargets.isEmpty() ? kernels >= 1 && kernels <= 64 : true, "--kernels must be 1 to 64");
        require(threadsPerKernel >= 1 && threadsPerKernel <= 256, "--threads must be 1 to 256");
        require(futexes >= 1 && futexes <= 256, "--futexes must be 1 to 256");
        require(opsPerThread >= 1, "--ops must be at least 1");
        require(!think.isNegative() && think.compareTo(java.time.Duration.ofSeconds(1)) <= 0,
                "--think must be 0 to 1s");
        require(locality >= 0 && locality <= 1, "--locality must be between 0 and 1");
        require(pagers >= 1 && pagers <= 16, "--pagers must be 1 to 16");
        require(!warmup.isNegative() && warmup.compareTo(java.time.Duration.ofMinutes(10)) <= 0,
                "--warmup must be 0 to 10m");
        require(pagers == 1 || kernelTargets.isEmpty(), "--pagers starts pagers of the embedded demo; running "
                + "kernels (--connect) use the pagers they were started with");
        require(kernelTargets.isEmpty() || pagerTarget != null,
                "--pager HOST:PORT is needed with --connect, to read the pager's message counters");
    }

    public static DemoOptions defaults() {
        return new DemoOptions(3, 4, 6, 1000, 0.9, 42, true, false, List.of(), null, "shared", false, java.time.Duration.ZERO, 1,
                DEFAULT_WARMUP);
    }

    public boolean embedded() {
        return kernelTargets.isEmpty();
    }

    public int kernelCount() {
        return embedded() ? kernels : kernelTargets.size();
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
