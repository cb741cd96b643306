package io.machxp.chaos.real;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The processes of a real chaos run: a pager (with a store, so that it can be killed and
 * restarted) and kernels, each a JVM in its own namespace of {@link Netns}, plaintext on
 * addresses of those namespaces only. A process killed is started again with the same arguments.
 */
final class RealCluster implements AutoCloseable {
    static final String PAGER = io.machxp.chaos.Starvation.PAGER;
    static final int PAGER_PORT = 7070;
    static final int KERNEL_PORT = 7071;
    private static final long START_SECONDS = 90;

    private final Netns net;
    private final StallMonitor stalls;
    private final Path dir;
    private final long leaseMillis;
    private final int futexes;
    private final List<String> kernelNames;
    private NodeProcess pager;
    private final Map<String, NodeProcess> kernels = new LinkedHashMap<>();

    RealCluster(Netns net, StallMonitor stalls, Path dir, long leaseMillis, int futexes, List<String> kernelNames) {
        this.net = net;
        this.stalls = stalls;
        this.dir = dir;
        this.leaseMillis = leaseMillis;
        this.futexes = futexes;
        this.kernelNames = kernelNames;
    }

    /** Makes the network and starts the pager, then the kernels. */
    void start() throws IOException {
        net.createPager();
        for (int k = 0; k < kernelNames.size(); k++) {
            net.createKernel(kernelNames.get(k), k + 1);
        }
        startPager();
        for (String k : kernelNames) {
            startKernel(k);
        }
    }

    List<String> kernelNames() {
        return kernelNames;
    }

    /** Where the clients reach kernel {@code name}. */
    String kernelTarget(String name) {
        return net.kernelAddress(kernelNames.indexOf(name) + 1) + ":" + KERNEL_PORT;
    }

    /** Starts the pager on the run's store (again after a kill: it finds its store and takes reclaims). */
    synchronized void startPager() throws IOException {
        pager = NodeProcess.start("pager", net.pagerNs(), List.of("pager", "--bind", "0.0.0.0", "--port",
                String.valueOf(PAGER_PORT), "--plaintext", "--object", RealChaos.OBJECT + "=" + futexes * Worker.PAGE,
                "--store", dir.resolve("store").toString(), "--lease-ms", String.valueOf(leaseMillis)),
                stalls.probeFile(PAGER), dir.resolve("pager.log"));
        if (!pager.awaitListening(START_SECONDS)) {
            throw new IOException("the pager did not start within " + START_SECONDS + " s; see " + dir.resolve("pager.log"));
        }
    }

    /** Starts kernel {@code name}; it waits out the lease of a killed predecessor of its name. */
    synchronized void startKernel(String name) throws IOException {
        int k = kernelNames.indexOf(name) + 1;
        NodeProcess p = NodeProcess.start("kernel " + name, net.kernelNs(name), List.of("kernel", "--name", name,
                "--pager", net.pagerAddress(k) + ":" + PAGER_PORT, "--bind", "0.0.0.0", "--port",
                String.valueOf(KERNEL_PORT), "--plaintext", "--connect-timeout",
                String.valueOf(Math.max(30, 4 * leaseMillis / 1000))), stalls.probeFile(name),
                dir.resolve("kernel-" + name + ".log"));
        kernels.put(name, p);
        if (!p.awaitListening(START_SECONDS)) {
            throw new IOException("kernel " + name + " did not start within " + START_SECONDS + " s; see "
                    + dir.resolve("kernel-" + name + ".log"));
        }
    }

    synchronized NodeProcess pager() {
        return pager;
    }

    synchronized NodeProcess kernel(String name) {
        return kernels.get(name);
    }

    Netns net() {
        return net;
    }

    StallMonitor stalls() {
        return stalls;
    }

    /** Kills every process (also stopped ones); idempotent. */
    @Override
    public synchronized void close() {
        List<NodeProcess> all = new ArrayList<>(kernels.values());
        if (pager != null) {
            all.add(pager);
        }
        for (NodeProcess p : all) {
            p.kill();
        }
    }
}
