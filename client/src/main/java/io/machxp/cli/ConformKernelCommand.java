package io.machxp.cli;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.conform.CaseResult;
import io.machxp.conform.ConformCase;
import io.machxp.conform.ConformRunner;
import io.machxp.conform.kernel.FakePager;
import io.machxp.conform.kernel.KernelCases;
import io.machxp.conform.kernel.KernelProbe;
import io.machxp.conform.kernel.KernelRunner;
import io.machxp.proto.transport.Transport;
import io.machxp.scenario.Durations;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * machxp conform kernel: plays the pager a kernel under test connects to, and drives that kernel
 * through its task interface, one case per rule of docs/xp-spec.md.
 */
@Command(name = "kernel", mixinStandardHelpOptions = true,
        description = {"Play the pager of a kernel under test and drive it through its task interface; check it "
                + "against docs/xp-spec.md.",
            "The kernel connects to --listen (start it with --pager there, or give --kernel-cmd); the kit calls its "
                    + "task interface at --target."})
final class ConformKernelCommand implements Callable<Integer> {
    @Option(names = "--target", paramLabel = "HOST:PORT", description = "the kernel's task interface")
    String target;

    @Option(names = "--listen", defaultValue = "7079", paramLabel = "PORT",
            description = "the port of the kit's pager, which the kernel connects to (default ${DEFAULT-VALUE})")
    int listen;

    @Option(names = "--bind", defaultValue = "127.0.0.1",
            description = "the address the kit's pager listens on (default ${DEFAULT-VALUE})")
    String bind;

    @Option(names = "--lease", defaultValue = "2s",
            description = "the lease the kit's pager gives in its welcome; the lease cases wait one out "
                    + "(default ${DEFAULT-VALUE})")
    String lease;

    @Option(names = "--page-size", defaultValue = "4096",
            description = "the page size the kit's pager gives (default ${DEFAULT-VALUE})")
    int pageSize;

    @Option(names = "--kernel-cmd", paramLabel = "CMD",
            description = "a shell command that starts the kernel under test, run once the kit listens and stopped "
                    + "at the end; {pager} in it is replaced by the kit's HOST:PORT")
    String kernelCmd;

    @Option(names = "--kernel-log", paramLabel = "FILE",
            description = "where the output of --kernel-cmd goes (default: discarded)")
    Path kernelLog;

    @Mixin
    ConformOptions options;

    @Override
    public Integer call() throws IOException, InterruptedException {
        List<ConformCase<KernelProbe>> selected = options.select(KernelCases.all());
        if (options.list) {
            ConformOptions.print(selected, "");
            return ExitCodes.OK;
        }
        if (target == null) {
            throw new IllegalArgumentException("give the kernel's task interface with --target HOST:PORT");
        }
        if (Integer.bitCount(pageSize) != 1 || pageSize < 64) {
            throw new IllegalArgumentException("--page-size " + pageSize + " is not a power of two of at least 64");
        }
        long leaseMillis = Durations.parse(lease, "--lease") / 1_000_000;
        Transport transport = options.tls.transport();
        FakePager pager = FakePager.start(new FakePager.Settings(bind, listen,
                transport.serverCredentials(bind, "machxp conform kernel"), pageSize, leaseMillis));
        Process kernel = kernelCmd == null ? null : startKernel(bind + ":" + pager.port());
        ManagedChannel channel = NettyChannelBuilder.forTarget(target,
                transport.channelCredentials(target, "machxp conform kernel")).build();
        try {
            List<CaseResult> results = KernelRunner.run(pager, channel, selected,
                    new KernelRunner.Options(options.perCase(), options.connecting()), options.progress());
            return options.report("machxp conform kernel", target, results);
        } catch (ConformRunner.Unreachable e) {
            System.err.println("machxp conform kernel: " + e.getMessage() + " (task interface " + target
                    + "); is the kernel running, and do the TLS options match it?");
            return ExitCodes.UNREACHABLE;
        } finally {
            channel.shutdownNow();
            channel.awaitTermination(5, TimeUnit.SECONDS);
            if (kernel != null) {
                stop(kernel);
            }
            pager.close();
        }
    }

    private Process startKernel(String pagerAddress) throws IOException {
        ProcessBuilder b = new ProcessBuilder("sh", "-c", kernelCmd.replace("{pager}", pagerAddress))
                .redirectErrorStream(true);
        b.redirectOutput(kernelLog == null ? ProcessBuilder.Redirect.DISCARD
                : ProcessBuilder.Redirect.appendTo(kernelLog.toFile()));
        return b.start();
    }

    /** SIGTERM to the command and what it started, then SIGKILL after 15 s. */
    private static void stop(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroy);
        p.destroy();
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }
}
