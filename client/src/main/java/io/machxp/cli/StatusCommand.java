package io.machxp.cli;

import io.machxp.client.KernelClient;
import io.machxp.client.PagerAdminClient;
import io.machxp.proto.admin.FutexStatus;
import io.machxp.proto.admin.PageStatus;
import io.machxp.proto.admin.PagerStatusReply;
import io.machxp.proto.admin.SessionStatus;
import io.machxp.proto.task.KernelStatisticsReply;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * machxp status: the pager's sessions (with their leases), futexes held and queued (holder,
 * waiters with priorities, fencing token) and pages with their holders; with --kernel, each
 * kernel's counters. A table, or --json (the fields of pager_admin.proto's PagerStatusReply).
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        header = "Show a running pager's sessions, leases, futexes, waiters and pages, and its kernels' counters.",
        description = {"Exit 0 when every server answered, 3 when one could not be reached or did not answer",
            "within --timeout."})
final class StatusCommand implements Callable<Integer> {
    /** After a list the pager's reply did not hold whole (it lists 2 MiB of futexes and pages). */
    private static final String NOT_LISTED = "  and %d more, not listed (a status lists 2 MiB of futexes and pages)%n";


    /** --verbose: the stack trace of an error. */
    @picocli.CommandLine.Mixin
    VerboseOption verboseOption;
    @Spec
    CommandSpec spec;

    @Option(names = "--pager", required = true, paramLabel = "HOST:PORT", description = "the pager's address")
    String pager;

    @Option(names = "--kernel", split = ",", paramLabel = "HOST:PORT",
            description = "kernels whose counters to show too (repeatable, or comma-separated)")
    List<String> kernels = List.of();

    @Option(names = "--json", description = "print one JSON object: {\"pager\": ..., \"kernels\": [...]}")
    boolean json;

    @Option(names = "--timeout", defaultValue = "10s", paramLabel = "DURATION",
            description = "how long each server has to answer, e.g. 10s or 500ms (default ${DEFAULT-VALUE})")
    String timeout;

    @Mixin
    TlsOptions tls;

    @Override
    public Integer call() throws Exception {
        HostPort.require(spec, "--pager", pager);
        kernels.forEach(k -> HostPort.require(spec, "--kernel", k));
        java.time.Duration deadline = DurationConverter.parse(timeout, "--timeout");
        if (deadline.isZero()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--timeout must be more than 0; it bounds each server's answer, e.g. 10s");
        }
        PagerStatusReply status;
        try (PagerAdminClient admin = PagerAdminClient.connect(pager, tls.transport(), deadline)) {
            status = admin.status();
        }
        List<KernelStatisticsReply> counters = new ArrayList<>();
        for (String k : kernels) {
            try (KernelClient client = KernelClient.connect(k, tls.transport(), deadline)) {
                counters.add(client.statistics());
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(new com.fasterxml.jackson.databind.ObjectMapper()
                    .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(StatusJson.of(status, counters)));
        } else {
            table(out, status, counters);
        }
        out.flush();
        return ExitCodes.OK;
    }

    static void table(PrintWriter out, PagerStatusReply s, List<KernelStatisticsReply> kernels) {
        out.printf(Locale.ROOT, "pager %s: %d %s, lease %s%s%n", s.getPagerName(), s.getSessionsCount(),
                s.getSessionsCount() == 1 ? "session" : "sessions",
                s.getLeaseMs() == 0 ? "none" : s.getLeaseMs() + " ms", s.getInGrace() ? ", in its start-up wait" : "");
        out.printf(Locale.ROOT, "%nSESSIONS%n  %-10s %4s %10s %14s %5s %6s%n", "KERNEL", "ID", "SESSION", "LEASE LEFT", "HELD",
                "QUEUED");
        for (SessionStatus k : s.getSessionsList()) {
            out.printf(Locale.ROOT, "  %-10s %4d %10d %11d ms %5d %6d%s%n", k.getKernelName(), k.getKernelId(), k.getSessionId(),
                    k.getLeaseLeftMs(), k.getFutexesHeld(), k.getFutexesQueued(), k.getBroken() ? "  (stream broken)" : "");
        }
        out.printf(Locale.ROOT, "%nFUTEXES%n  %-20s %-10s %20s  %s%n", "OBJECT:OFFSET", "HOLDER", "TOKEN", "WAITERS (kernel/priority,"
                + " in grant order)");
        for (FutexStatus f : s.getFutexesList()) {
            String waiters = f.getWaitersList().stream().map(w -> w.getKernel() + "/" + Integer.toUnsignedString(
                    w.getPriority())).collect(Collectors.joining(" "));
            out.printf(Locale.ROOT, "  %-20s %-10s %20s  %s%s%n", f.getObject() + ":" + f.getOffset(),
                    f.getHolder().isEmpty() ? "-" : f.getHolder(), Long.toUnsignedString(f.getFencingToken()),
                    waiters.isEmpty() ? "-" : waiters, f.getOwnerDied() ? "  (owner died)" : "");
        }
        if (s.getFutexesOmitted() > 0) {
            out.printf(Locale.ROOT, NOT_LISTED, s.getFutexesOmitted());
        }
        out.printf(Locale.ROOT, "%nPAGES%n  %-20s %-10s %s%n", "OBJECT:OFFSET", "WRITER", "READERS");
        for (PageStatus p : s.getPagesList()) {
            out.printf(Locale.ROOT, "  %-20s %-10s %s%n", p.getObject() + ":" + p.getOffset(),
                    p.getWriter().isEmpty() ? "-" : p.getWriter(),
                    p.getReadersList().isEmpty() ? "-" : String.join(" ", p.getReadersList()));
        }
        if (s.getPagesOmitted() > 0) {
            out.printf(Locale.ROOT, NOT_LISTED, s.getPagesOmitted());
        }
        for (KernelStatisticsReply k : kernels) {
            out.printf(Locale.ROOT, "%nKERNEL %s (id %d)%n  acquisitions %s%n  xp sent %s%n  xp received %s%n", k.getKernelName(),
                    k.getKernelId(), k.getAcquiresMap(), k.getXpSentMap(), k.getXpReceivedMap());
        }
    }
}
