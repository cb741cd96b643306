package io.machxp.client;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.PagerDirectory;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test fixture: two pagers on loopback, pager 0 serving object "zero" and pager 1 object "one"
 * (each only its own), and kernels A, B, ... using both over real gRPC. Pager 1 can be crashed
 * (its server stops: every kernel's stream to it breaks) and started again on its port and its
 * store (a temporary directory), without a fresh start: it then holds its grace period, and
 * kernels reclaim from it.
 */
final class TwoPagers implements AutoCloseable {
    static final String ZERO = "zero";
    static final String ONE = "one";
    static final PagerDirectory DIRECTORY = PagerDirectory.of(2, Map.of(ZERO, 0, ONE, 1));

    /** Pager 1's lease, kept across its restart. */
    private final Duration lease;
    private final Pager pager0;
    private Pager pager1;
    private final int port1;
    private final java.nio.file.Path store1;
    private final EmbeddedCluster kernels;

    private TwoPagers(Duration lease, Pager pager0, Pager pager1, java.nio.file.Path store1, EmbeddedCluster kernels) {
        this.lease = lease;
        this.store1 = store1;
        this.pager0 = pager0;
        this.pager1 = pager1;
        this.port1 = pager1.port();
        this.kernels = kernels;
    }

    /** The pagers (leases of {@code lease}) and {@code kernelCount} kernels named A, B, ... */
    static TwoPagers start(int kernelCount, Duration lease) throws IOException {
        return start(kernelCount, lease, lease);
    }

    /**
     * The pagers, pager 0 with leases of {@code lease0} and pager 1 of {@code lease1}, and
     * {@code kernelCount} kernels named A, B, ... A test gives a long lease to a pager whose
     * sessions must only go on (a loaded machine can pause a kernel's keepalives for a second or
     * more), and a short one to a pager whose lease it waits out.
     */
    static TwoPagers start(int kernelCount, Duration lease0, Duration lease1) throws IOException {
        java.nio.file.Path store1 = java.nio.file.Files.createTempDirectory("two-pagers-store");
        Pager p0 = Pager.start(config("pager0", 0, ZERO).withLease(lease0));
        Pager p1 = null;
        try {
            p1 = Pager.start(config("pager1", 0, ONE).withLease(lease1).withStoreDir(store1));
            Map<String, CoreOptions> options = new LinkedHashMap<>();
            for (int i = 0; i < kernelCount; i++) {
                options.put(EmbeddedCluster.kernelName(i), CoreOptions.DEFAULT.withPagers(DIRECTORY));
            }
            return new TwoPagers(lease1, p0, p1, store1, EmbeddedCluster.startKernels(options, p0.target() + "," + p1.target()));
        } catch (IOException | RuntimeException e) {
            if (p1 != null) {
                p1.close();
            }
            p0.close();
            throw e;
        }
    }

    private static PagerConfig config(String name, int port, String object) {
        return new PagerConfig(name, "127.0.0.1", port, PagerConfig.DEFAULT_PAGE_SIZE, Map.of(object, 64 * 1024L));
    }

    Kernel kernel(int index) {
        return kernels.kernel(index);
    }

    List<String> kernelTargets() {
        return kernels.kernelTargets();
    }

    /** The pagers' addresses as a kernel is given them: pager 0 first. */
    String pagerTargets() {
        return pager0.target() + "," + pager1.target();
    }

    Pager pager(int index) {
        return index == 0 ? pager0 : pager1;
    }

    /** Pager 1 stops at once, as a crashed process: every kernel's stream to it breaks. */
    void crashPagerOne() {
        pager1.close();
    }

    /** Pager 0, the primary, stops at once as a crashed process. */
    void crashPagerZero() {
        pager0.close();
    }

    /** Pager 1 again on its port, not fresh: it waits out its grace period and takes reclaims. */
    void restartPagerOne() throws IOException {
        pager1 = Pager.start(config("pager1", port1, ONE).withLease(lease).withStoreDir(store1).withFreshStart(false));
    }

    @Override
    public void close() {
        kernels.close();
        pager1.close();
        pager0.close();
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(store1)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temporary directory: left for the system to clear
        }
    }
}
