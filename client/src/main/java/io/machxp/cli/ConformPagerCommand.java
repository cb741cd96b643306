package io.machxp.cli;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.conform.CaseResult;
import io.machxp.conform.ConformCase;
import io.machxp.conform.ConformRunner;
import io.machxp.conform.PagerCases;
import io.machxp.conform.PagerProbe;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * machxp conform pager: plays kernels against a pager under test over real gRPC, one case per rule
 * of docs/xp-spec.md.
 */
@Command(name = "pager", mixinStandardHelpOptions = true,
        description = {"Play kernels against a pager under test and check it against docs/xp-spec.md.",
            "Run the target with a short lease (e.g. machxp pager --lease-ms 400): the lease cases wait one out."})
final class ConformPagerCommand implements Callable<Integer> {
    /** The target cannot be reached (cli/ExitCodes). */
    static final int UNREACHABLE = ExitCodes.UNREACHABLE;

    @Option(names = "--target", paramLabel = "HOST:PORT", description = "the pager's XP address")
    String target;

    @Option(names = "--object", defaultValue = "shared",
            description = "a memory object the target serves, of at least a few dozen pages (default ${DEFAULT-VALUE})")
    String object;

    @Option(names = "--restart-cmd", paramLabel = "CMD",
            description = "a shell command that restarts the target (returns once it was restarted); the cases that "
                    + "need a restart are skipped without it")
    String restartCmd;

    @Mixin
    ConformOptions options;

    @Override
    public Integer call() throws IOException {
        List<ConformCase<PagerProbe>> selected = options.select(PagerCases.all());
        if (options.list) {
            ConformOptions.print(selected, "(needs --restart-cmd)");
            return ExitCodes.OK;
        }
        if (target == null) {
            throw new IllegalArgumentException("give the pager under test with --target HOST:PORT");
        }
        Duration perCase = options.perCase();
        Duration connecting = options.connecting();
        ManagedChannel channel = NettyChannelBuilder.forTarget(target,
                options.tls.transport().channelCredentials(target, "machxp conform")).build();
        try {
            List<CaseResult> results = ConformRunner.run(channel, selected,
                    new ConformRunner.Options(perCase, object, restartCmd == null ? null : () -> restart(restartCmd),
                            connecting), options.progress());
            return options.report("machxp conform pager", target, results);
        } catch (ConformRunner.Unreachable e) {
            System.err.println("machxp conform pager: cannot reach " + target + ": " + e.getMessage()
                    + "; is the pager running there (and do the TLS options match it)?");
            return UNREACHABLE;
        } finally {
            channel.shutdownNow();
            try {
                channel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Runs the restart command through the shell; it must exit 0. */
    static void restart(String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", command).inheritIO().start();
        int status = p.waitFor();
        if (status != 0) {
            throw new IOException("--restart-cmd '" + command + "' exited with status " + status);
        }
    }
}
