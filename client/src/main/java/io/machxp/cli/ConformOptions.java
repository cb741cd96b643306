package io.machxp.cli;

import io.machxp.conform.CaseResult;
import io.machxp.conform.ConformCase;
import io.machxp.conform.ConformReport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What both halves of the conformance kit share on the command line (a picocli mixin): which cases,
 * how long they wait, the output forms (table, --json, --junit) and the TLS options; and how a run
 * ends: the report, and the exit status of cli/ExitCodes (0 every MUST case passed, 2 one did not).
 */
final class ConformOptions {
    /** --verbose: the stack trace of an error. */
    @picocli.CommandLine.Mixin
    VerboseOption verboseOption;

    @Option(names = "--cases", paramLabel = "REGEX",
            description = "run only the cases whose id matches, e.g. '^8\\.' or 'token' (default: all)")
    String cases;

    @Option(names = "--timeout", defaultValue = "5s",
            description = "how long a case waits for an answer; the lease cases get three leases more "
                    + "(default ${DEFAULT-VALUE})")
    String timeout;

    @Option(names = "--connect-timeout", defaultValue = "30s",
            description = "how long the target may take to connect or accept a connection, at the start and after a "
                    + "restart (default ${DEFAULT-VALUE}); exit status 3 if it does not")
    String connectTimeout;

    @Option(names = "--json", description = "print one JSON object instead of the table")
    boolean json;

    @Option(names = "--junit", paramLabel = "FILE", description = "also write the results as JUnit XML to FILE")
    Path junit;

    @Option(names = "--list", description = "list the cases (id, level, section, what it checks) and exit")
    boolean list;

    @Mixin
    TlsOptions tls;

    Duration perCase() {
        return DurationConverter.parse(timeout, "--timeout");
    }

    Duration connecting() {
        return DurationConverter.parse(connectTimeout, "--connect-timeout");
    }

    /** The cases --cases selects; a usage error if none. */
    <P> List<ConformCase<P>> select(List<ConformCase<P>> all) {
        List<ConformCase<P>> selected = ConformCase.matching(all, cases);
        if (selected.isEmpty() && !list) {
            throw new IllegalArgumentException("--cases '" + cases + "' matches no case; see --list");
        }
        return selected;
    }

    /** Prints the cases, one a line, with {@code restartNote} after those that need a restart. */
    static void print(List<? extends ConformCase<?>> selected, String restartNote) {
        for (ConformCase<?> c : selected) {
            System.out.printf(Locale.ROOT, "%-38s %-6s %-5s %s%s%n", c.id(), c.level(), c.section(), c.title(),
                    c.needsRestart() ? " " + restartNote : "");
        }
    }

    /** One line per case as it finishes (none with --json). */
    Consumer<CaseResult> progress() {
        return r -> {
            if (!json) {
                System.out.println(ConformReport.line(r));
            }
        };
    }

    /** Prints the summary (or the JSON), writes the JUnit XML if asked; the exit status. */
    int report(String suite, String target, List<CaseResult> results) throws IOException {
        ConformReport report = new ConformReport(suite, target, results);
        System.out.println(json ? report.json() : report.summary());
        if (junit != null) {
            Files.writeString(junit, report.junitXml(), StandardCharsets.UTF_8);
        }
        return report.mustFailures() == 0 ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
    }
}
