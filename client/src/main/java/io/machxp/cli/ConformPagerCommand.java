package io.machxp.cli;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.conform.CaseResult;
import io.machxp.conform.ConformCase;
import io.machxp.conform.ConformReport;
import io.machxp.conform.ConformRunner;
import io.machxp.conform.PagerCases;
import io.machxp.conform.PagerProbe;
import io.machxp.scenario.Durations;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
    /** A MUST case failed (cli/ExitCodes). */
    static final int FAILED = ExitCodes.CHECK_FAILED;
    /** The target cannot be reached (cli/ExitCodes). */
    static final int UNREACHABLE = ExitCodes.UNREACHABLE;

    @Option(names = "--target", paramLabel = "HOST:PORT", description = "the pager's XP address")
    String target;

    @Option(names = "--cases", paramLabel = "REGEX",
            description = "run only the cases whose id matches, e.g. '^8\\.' or 'token' (default: all)")
    String cases;

    @Option(names = "--timeout", defaultValue = "5s",
            description = "how long a case waits for an answer; the lease cases get three of the target's leases more "
                    + "(default ${DEFAULT-VALUE})")
    String timeout;

    @Option(names = "--connect-timeout", defaultValue = "30s",
            description = "how long the target may take to accept a connection, at the start and after a restart "
                    + "(default ${DEFAULT-VALUE}); exit status 3 if it does not")
    String connectTimeout;

    @Option(names = "--object", defaultValue = "shared",
            description = "a memory object the target serves, of at least a few dozen pages (default ${DEFAULT-VALUE})")
    String object;

    @Option(names = "--restart-cmd", paramLabel = "CMD",
            description = "a shell command that restarts the target (returns once it was restarted); the cases that "
                    + "need a restart are skipped without it")
    String restartCmd;

    @Option(names = "--json", description = "print one JSON object instead of the table")
    boolean json;

    @Option(names = "--junit", paramLabel = "FILE", description = "also write the results as JUnit XML to FILE")
    Path junit;

    @Option(names = "--list", description = "list the cases (id, level, section, what it checks) and exit")
    boolean list;

    @Mixin
    TlsOptions tls;

    @Override
    public Integer call() throws IOException {
        List<ConformCase> selected = PagerCases.matching(cases);
        if (list) {
            for (ConformCase c : selected) {
                System.out.printf("%-38s %-6s %-5s %s%s%n", c.id(), c.level(), c.section(), c.title(),
                        c.needsRestart() ? " (needs --restart-cmd)" : "");
            }
            return ExitCodes.OK;
        }
        if (target == null) {
            throw new IllegalArgumentException("give the pager under test with --target HOST:PORT");
        }
        if (selected.isEmpty()) {
            throw new IllegalArgumentException("--cases '" + cases + "' matches no case; see --list");
        }
        Duration perCase = Duration.ofNanos(Durations.parse(timeout, "--timeout"));
        Duration connecting = Duration.ofNanos(Durations.parse(connectTimeout, "--connect-timeout"));
        ManagedChannel channel = NettyChannelBuilder.forTarget(target,
                tls.transport().channelCredentials(target, "machxp conform")).build();
        try {
            List<CaseResult> results = ConformRunner.run(channel, selected,
                    new ConformRunner.Options(perCase, object, restartCmd == null ? null : () -> restart(restartCmd),
                            connecting),
                    r -> {
                        if (!json) {
                            System.out.println(ConformReport.line(r));
                        }
                    });
            ConformReport report = new ConformReport("machxp conform pager", target, results);
            System.out.println(json ? report.json() : report.summary());
            if (junit != null) {
                Files.writeString(junit, report.junitXml(), StandardCharsets.UTF_8);
            }
            return report.mustFailures() == 0 ? ExitCodes.OK : FAILED;
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
