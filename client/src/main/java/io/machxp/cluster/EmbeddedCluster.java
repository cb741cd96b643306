package io.machxp.cluster;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.ipc.link.LinkConfig;
import java.net.InetSocketAddress;
import io.machxp.kernel.core.PagerDirectory;
import java.util.LinkedHashMap;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A pager (or several) and kernels in one JVM, talking XP over real gRPC sockets on loopback with
 * free ports: the default setting of the demo and of the end-to-end tests. With several pagers
 * each serves the objects a {@link PagerDirectory} gives it, and every kernel uses them all
 * (docs/multi-pager.md).
 *
 * <p>Closing: the kernels, then the pagers. A second close (the command's own and its close at
 * exit on a SIGTERM, at once) returns only after the first has finished ({@link #close}).
 */
public final class EmbeddedCluster implements AutoCloseable {
    private final List<Pager> pagers;
    private final List<Kernel> kernels;

    private EmbeddedCluster(List<Pager> pagers, List<Kernel> kernels) {
        this.pagers = pagers;
        this.kernels = kernels;
    }

    /**
     * Starts a pager serving {@code objects} (name -> bytes) and kernels named A, B, C, ...
     *
     * @param cacheFutexes false for Part II only (--no-cache)
     */
    public static EmbeddedCluster start(int kernelCount, boolean cacheFutexes, Map<String, Long> objects)
            throws IOException {
        return start(kernelCount, cacheFutexes, false, objects);
    }

    /**
     * As {@link #start(int, boolean, Map)}, with kernels that piggyback dirty pages on futex
     * releases when {@code piggyback} is set.
     */
    public static EmbeddedCluster start(int kernelCount, boolean cacheFutexes, boolean piggyback,
            Map<String, Long> objects) throws IOException {
        Map<String, CoreOptions> kernels = new LinkedHashMap<>();
        for (int i = 0; i < kernelCount; i++) {
            kernels.put(kernelName(i), CoreOptions.DEFAULT.withCacheFutexes(cacheFutexes).withPiggyback(piggyback));
        }
        return start(kernels, objects);
    }

    /** A pager serving {@code objects} and a kernel for each entry of {@code kernels}, in order. */
    public static EmbeddedCluster start(Map<String, CoreOptions> kernelOptions, Map<String, Long> objects)
            throws IOException {
        return start(kernelOptions, objects, PagerDirectory.SINGLE);
    }

    /**
     * {@code directory.count()} pagers, each serving the objects of {@code objects} the directory
     * gives it, and a kernel for each entry of {@code kernelOptions} that uses them all.
     */
    public static EmbeddedCluster start(Map<String, CoreOptions> kernelOptions, Map<String, Long> objects,
            PagerDirectory directory) throws IOException {
        return start(kernelOptions, objects, directory, io.machxp.pager.policy.GrantPolicy.IMMEDIATE);
    }

    /** As {@link #start(Map, Map, PagerDirectory)}, with pagers that decide with {@code grants} (a variant's pager side). */
    public static EmbeddedCluster start(Map<String, CoreOptions> kernelOptions, Map<String, Long> objects,
            PagerDirectory directory, io.machxp.pager.policy.GrantPolicy grants) throws IOException {
        return start(kernelOptions, objects, directory, grants, PagerConfig.DEFAULT_LEASE);
    }

    /**
     * As {@link #start(Map, Map, PagerDirectory, io.machxp.pager.policy.GrantPolicy)}, with pagers
     * that give the kernels a lease of {@code lease} (a benchmark on a loaded machine: long enough
     * that a stalled JVM does not cost a kernel its session).
     */
    public static EmbeddedCluster start(Map<String, CoreOptions> kernelOptions, Map<String, Long> objects,
            PagerDirectory directory, io.machxp.pager.policy.GrantPolicy grants, java.time.Duration lease)
            throws IOException {
        List<Pager> pagers = new ArrayList<>();
        List<Kernel> kernels = new ArrayList<>();
        try {
            for (int p = 0; p < directory.count(); p++) {
                Map<String, Long> served = new LinkedHashMap<>();
                for (Map.Entry<String, Long> o : objects.entrySet()) {
                    if (directory.pagerOf(o.getKey()) == p) {
                        served.put(o.getKey(), o.getValue());
                    }
                }
                PagerConfig config = (p == 0 ? PagerConfig.loopback(served) : new PagerConfig("pager" + p, "127.0.0.1", 0,
                        PagerConfig.DEFAULT_PAGE_SIZE, served)).withLease(lease);
                pagers.add(grants == io.machxp.pager.policy.GrantPolicy.IMMEDIATE ? Pager.start(config)
                        : Pager.start(config, new io.machxp.pager.store.MemoryPageStore(), grants));
            }
            String targets = String.join(",", pagers.stream().map(Pager::target).toList());
            for (Map.Entry<String, CoreOptions> k : kernelOptions.entrySet()) {
                kernels.add(Kernel.start(KernelConfig.loopback(k.getKey(), targets)
                        .withCore(k.getValue().withPagers(directory))));
            }
        } catch (IOException | RuntimeException e) {
            kernels.forEach(Kernel::close);
            pagers.forEach(Pager::close);
            throw e;
        }
        return new EmbeddedCluster(pagers, kernels);
    }

    /**
     * Kernels only, one for each entry of {@code kernelOptions}, using the pager (or pagers,
     * comma-separated) at {@code pagerTargets} that runs elsewhere, e.g. in another process.
     */
    public static EmbeddedCluster startKernels(Map<String, CoreOptions> kernelOptions, String pagerTargets)
            throws IOException {
        List<Kernel> kernels = new ArrayList<>();
        try {
            for (Map.Entry<String, CoreOptions> k : kernelOptions.entrySet()) {
                kernels.add(Kernel.start(KernelConfig.loopback(k.getKey(), pagerTargets).withCore(k.getValue())));
            }
        } catch (IOException | RuntimeException e) {
            kernels.forEach(Kernel::close);
            throw e;
        }
        return new EmbeddedCluster(List.of(), kernels);
    }

    /** Objects {@code prefix}0 .. {@code prefix}(n-1) spread over {@code pagers}: object i on pager i mod pagers. */
    public static PagerDirectory roundRobin(int pagers, String prefix, int objects) {
        Map<String, Integer> assigned = new LinkedHashMap<>();
        for (int i = 0; i < objects; i++) {
            assigned.put(prefix + i, i % pagers);
        }
        return PagerDirectory.of(pagers, assigned);
    }

    /**
     * A pager and {@code kernelCount} kernels whose Mach IPC is linked (docs/mach-ipc.md): kernel
     * i has IPC id i + 1, listens on a free loopback port, and is told the others' addresses.
     */
    public static EmbeddedCluster startLinked(int kernelCount, Map<String, Long> objects) throws IOException {
        Pager pager = Pager.start(PagerConfig.loopback(objects));
        List<Kernel> kernels = new ArrayList<>();
        try {
            Map<Integer, InetSocketAddress> table = new LinkedHashMap<>();
            for (int i = 0; i < kernelCount; i++) {
                Kernel k = Kernel.start(KernelConfig.loopback(kernelName(i), pager.target()).withIpc(new LinkConfig(i + 1,
                        new InetSocketAddress("127.0.0.1", 0), Map.of(), LinkConfig.DEFAULT_LEASE_MILLIS)));
                kernels.add(k);
                table.put(i + 1, new InetSocketAddress("127.0.0.1", Integer.parseInt(
                        k.ipcAddress().substring(k.ipcAddress().lastIndexOf(':') + 1))));
            }
            for (Kernel k : kernels) {
                k.ipcConnect(table);
            }
        } catch (IOException | RuntimeException e) {
            kernels.forEach(Kernel::close);
            pager.close();
            throw e;
        }
        return new EmbeddedCluster(List.of(pager), kernels);
    }

    /** A, B, ..., Z, K26, K27, ... */
    public static String kernelName(int index) {
        return index < 26 ? String.valueOf((char) ('A' + index)) : "K" + index;
    }

    /** The pager (the primary, of several). */
    public Pager pager() {
        return pagers.get(0);
    }

    /** Every pager, the primary first. */
    public List<Pager> pagers() {
        return pagers;
    }

    public List<Kernel> kernels() {
        return kernels;
    }

    public Kernel kernel(int index) {
        return kernels.get(index);
    }

    /** "127.0.0.1:port" of each kernel's task interface. */
    public List<String> kernelTargets() {
        return kernels.stream().map(k -> "127.0.0.1:" + k.port()).toList();
    }

    /**
     * Closes the kernels, then the pagers. A second close (a command's own close and its close at
     * exit on a SIGTERM, at once) returns only once the first has finished, so the JVM, whose exit
     * waits only for the hook, never halts while a kernel still removes its session directory (CI
     * saw a kernel's directory left so, `IpcDemoSigtermCleanupTest`). For the kernels alone
     * {@code synchronized} is now redundant ({@link Kernel#close} waits for a close begun
     * elsewhere); it is kept because it says so for the whole cluster in one word, pagers included.
     */
    @Override
    public synchronized void close() {
        kernels.forEach(Kernel::close);
        pagers.forEach(Pager::close);
    }
}
