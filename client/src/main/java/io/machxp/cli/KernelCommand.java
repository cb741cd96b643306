package io.machxp.cli;

import io.machxp.cluster.CloseAtExit;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.proto.transport.Transport;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "kernel", mixinStandardHelpOptions = true,
        description = "Run a kernel: hosts tasks and threads, caches futexes, talks XP to a pager.")
final class KernelCommand implements Callable<Integer> {
    @Option(names = "--name", required = true, description = "unique among the pager's kernels, e.g. A")
    String name;

    @Option(names = "--pager", required = true, paramLabel = "HOST:PORT", description = "the pager's XP address; "
            + "with several pagers repeat it, or separate the addresses by commas, the primary first "
            + "(docs/multi-pager.md)")
    java.util.List<String> pagers;

    @Option(names = "--object-pagers", paramLabel = "OBJECT=N,...", description = "with several pagers: which serves "
            + "each named object (pagers numbered from 0); others by CRC-32 of the name mod the number of pagers")
    String objectPagers;

    @Option(names = "--port", defaultValue = "7071", description = "task interface port (default ${DEFAULT-VALUE}; 0 = any free port)")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1",
            description = "address to listen on (default ${DEFAULT-VALUE}; 0.0.0.0 for clients on other hosts, "
                    + "with the TLS files or --plaintext)")
    String bind;

    /** One certificate for both sides: the server of the task interface and the pager's client. */
    @Mixin
    TlsOptions tls;

    @Mixin
    ServerOptions server;

    @Option(names = "--no-cache", description = "Part II only: every futex lock and unlock goes to the pager")
    boolean noCache;

    @Option(names = "--piggyback",
            description = "entry consistency: a futex release carries the pages dirtied under the futex")
    boolean piggyback;

    @Option(names = "--max-pages", defaultValue = "0",
            description = "evict resident pages beyond this many, returning dirty ones to the pager (default: no limit)")
    int maxPages;

    @Option(names = "--cpus", defaultValue = "1", description = "simulated CPUs for thread_compute (default ${DEFAULT-VALUE})")
    int cpus;

    @Option(names = "--no-pi", description = "no priority inheritance: futex waiters in plain FIFO order, no boosting")
    boolean noPi;

    @Option(names = "--shm-dir", paramLabel = "DIR|none",
            description = "where to share memory with task processes on this host (default /dev/shm where writable;"
                    + " none: every task call over gRPC); see docs/shared-memory.md")
    String shmDir;

    @Option(names = "--ipc-id", paramLabel = "N",
            description = "this kernel's id for Mach IPC across kernels (1 or more, unique in the cluster, never reused);"
                    + " with --ipc-listen and --ipc-peer; see docs/mach-ipc.md")
    Integer ipcId;

    @Option(names = "--ipc-listen", paramLabel = "HOST:PORT",
            description = "where to listen for the other kernels' IPC links (port 0: any free one)")
    String ipcListen;

    @Option(names = "--ipc-peer", paramLabel = "ID=HOST:PORT",
            description = "another kernel's IPC id and link address; repeat for each")
    java.util.List<String> ipcPeers = new java.util.ArrayList<>();

    @Option(names = "--connect-timeout", defaultValue = "10", description = "seconds to wait for the pager's welcome once connected, and for the other kernels' IPC links; "
                    + "a pager that refuses the connection (not listening yet) fails the start at once (default ${DEFAULT-VALUE})")
    int connectTimeoutSeconds;

    @Option(names = "--close-wait", defaultValue = "5", paramLabel = "SECONDS",
            description = "on a clean end, seconds to wait at most, per pager, for a session's resume to be taken and "
                    + "then for the pager to answer the keepalive sent after the kernel's last return (its store has "
                    + "then written what the kernel gave back, xp-spec 2.6); 0: end at once (default ${DEFAULT-VALUE})")
    int closeWaitSeconds;

    private java.nio.file.Path shmDirectory() {
        if (shmDir == null) {
            return io.machxp.kernel.shm.SharedMemory.defaultDir();
        }
        if (shmDir.equals("none")) {
            return null;
        }
        java.nio.file.Path dir = java.nio.file.Path.of(shmDir);
        if (!java.nio.file.Files.isDirectory(dir) || !java.nio.file.Files.isWritable(dir)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--shm-dir " + shmDir
                    + " is not a writable directory; give one (a tmpfs such as /dev/shm), or none");
        }
        return dir;
    }

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** The IPC links asked for: all of --ipc-id and --ipc-listen, or neither (then no --ipc-peer). */
    private io.machxp.kernel.ipc.link.LinkConfig links() {
        if (ipcId == null && ipcListen == null && ipcPeers.isEmpty()) {
            return null;
        }
        if (ipcId == null || ipcListen == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "IPC links need both "
                    + "--ipc-id and --ipc-listen (and an --ipc-peer ID=HOST:PORT for each other kernel)");
        }
        try {
            return io.machxp.kernel.ipc.link.LinkConfig.parse(ipcId, ipcListen, ipcPeers);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    @Override
    public Integer call() throws Exception {
        server.configureLogging();
        server.leaveInterruptToParent();
        if (cpus < 1 || maxPages < 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--cpus must be 1 or more and --max-pages 0 or more");
        }
        if (connectTimeoutSeconds < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--connect-timeout "
                    + connectTimeoutSeconds + " must be 1 or more (seconds to wait for the pager's welcome)");
        }
        if (closeWaitSeconds < 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--close-wait "
                    + closeWaitSeconds + " must be 0 or more (seconds to wait for the pagers' answers on a clean end)");
        }
        Transport transport = tls.transport();
        String pager = String.join(",", pagers);
        KernelConfig config = new KernelConfig(name, pager, bind, port, Duration.ofSeconds(connectTimeoutSeconds),
                new CoreOptions(!noCache, piggyback, maxPages, cpus, !noPi).withPagers(io.machxp.kernel.core.PagerDirectory
                        .parse(pager.split(",", -1).length, objectPagers)), transport, shmDirectory(), links())
                .withCloseWait(Duration.ofSeconds(closeWaitSeconds));
        // registered before the start: a signal while the kernel waits for its pager (its session
        // directory made) interrupts the start, which closes the kernel (Kernel.start), within the bound
        CloseAtExit.Starting<Kernel> atExit = CloseAtExit.beforeInterruptibleStart("kernel " + name,
                CloseAtExit.DEFAULT_BOUND);
        Kernel kernel;
        try {
            kernel = atExit.start(() -> Kernel.start(config));
        } catch (Exception | Error e) {
            atExit.close();
            throw e;
        }
        MetricsServer metrics;
        try {
            metrics = server.startMetrics(bind, kernel::publishMetricsTo);
        } catch (java.io.IOException e) {
            atExit.close();
            kernel.close();
            throw e;
        }
        if (metrics != null) {
            System.err.printf(Locale.ROOT, "kernel metrics on http://%s:%d/metrics%n", bind, metrics.port());
        }
        System.err.printf(Locale.ROOT, "kernel %s (id %d) listening on %s:%d (%s), pager %s%s%s%n", name, kernel.kernelId(), bind,
                kernel.port(), transport.isTls() ? "mutual TLS" : "plaintext", pager, noCache ? ", futex cache off" : "",
                kernel.ipcKernel() == 0 ? "" : ", IPC id " + kernel.ipcKernel() + " links on " + kernel.ipcAddress());
        server.exitWithParent("kernel " + name);
        Shutdown.awaitSignal(() -> { // the kernel is atExit's
            if (metrics != null) {
                metrics.close();
            }
        });
        return ExitCodes.OK;
    }
}
