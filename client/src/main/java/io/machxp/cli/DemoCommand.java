package io.machxp.cli;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.machxp.demo.Demo;
import io.machxp.demo.DemoOptions;
import io.machxp.demo.DemoReport;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        header = "Threads on several kernels share futexes over gRPC; reports throughput and XP messages.",
        description = {"Threads on several kernels lock and unlock futexes of one shared object over gRPC,",
            "and the demo reports throughput, where acquisitions came from, and the XP messages it cost.",
            "With no options: an embedded pager and 3 kernels on loopback in this JVM."})
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--kernels", defaultValue = "3", description = "kernels to start (default ${DEFAULT-VALUE})")
    int kernels;

    @Option(names = "--threads", defaultValue = "4", description = "threads per kernel (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--futexes", defaultValue = "6", description = "futexes, futex i homed on kernel i mod kernels (default ${DEFAULT-VALUE})")
    int futexes;

    @Option(names = "--ops", defaultValue = "1000", description = "lock/unlock pairs per thread (default ${DEFAULT-VALUE})")
    int ops;

    @Option(names = "--warmup", defaultValue = "2s", converter = DurationConverter.class,
            description = "the same workload first for this long, not measured: the JVM compiles the code meanwhile "
                    + "(default ${DEFAULT-VALUE}; 0: none, the first ops then measure the JIT)")
    java.time.Duration warmup;

    @Option(names = "--locality", defaultValue = "0.9", description = "chance a thread uses a futex homed on its kernel (default ${DEFAULT-VALUE})")
    double locality;

    @Option(names = "--think", defaultValue = "0", converter = DurationConverter.class,
            description = "each worker's work outside the lock after an unlock, parked off the CPU (default ${DEFAULT-VALUE}: none)")
    java.time.Duration think;

    @Option(names = "--seed", defaultValue = "42", description = "fixes every thread's choice of futexes (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--no-cache", description = "Part II only: every lock and unlock goes to the pager (the baseline)")
    boolean noCache;

    @Option(names = "--piggyback",
            description = "entry consistency: a futex grant carries the pages the last owner dirtied under it")
    boolean piggyback;

    @Option(names = "--pagers", defaultValue = "1", description = "pagers to start; futex i is in object demo-(i mod "
            + "pagers), served by pager i mod pagers (default ${DEFAULT-VALUE}; docs/multi-pager.md)")
    int pagers;

    @Option(names = "--json", description = "print one JSON object instead of the table")
    boolean json;

    @Option(names = "--connect", split = ",", paramLabel = "HOST:PORT",
            description = "use running kernels (their task interfaces) instead of embedded ones")
    List<String> connect = List.of();

    @Option(names = "--pager", paramLabel = "HOST:PORT", description = "with --connect: the kernels' pager")
    String pager;

    @Option(names = "--object", defaultValue = "shared", description = "with --connect: the object to use (default ${DEFAULT-VALUE})")
    String object;

    @Option(names = "--grpc-only", description = "workers make every call over gRPC, even to kernels that share memory"
            + " with them on this host (docs/shared-memory.md)")
    boolean grpcOnly;

    @Option(names = "--ipc", description = "the Mach IPC demo instead (docs/mach-ipc.md): a name server and an RPC"
            + " server on the first kernel, clients on the others, the server killed; with --kernels, --calls, --connect")
    boolean ipc;

    @Option(names = "--calls", defaultValue = "200", description = "with --ipc: RPCs per client (default ${DEFAULT-VALUE})")
    int calls;

    @Option(names = "--verbose", description = "log what the pager and kernels do; print a stack trace with an error")
    boolean verbose;

    @Option(names = "--view", paramLabel = "PORT", description = "serve the live view (docs/view.md) on "
            + "http://127.0.0.1:PORT/ during the run, and after it until Ctrl-C (0: any free port)")
    Integer viewPort;

    @Option(names = "--trace", paramLabel = "FILE", description = "write the embedded cluster's XP messages, in real "
            + "time, as Chrome trace-event JSON (open it in ui.perfetto.dev), as run --trace does for a scenario")
    java.nio.file.Path trace;

    /** With --connect: the client's TLS files (or --plaintext) for the running kernels and pager. */
    @Mixin
    TlsOptions tls;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Options that set up the embedded kernels: a running kernel was set up by its own command line. */
    static final java.util.List<String> EMBEDDED_ONLY = java.util.List.of("--kernels", "--no-cache",
            "--piggyback", "--pagers");
    /** Options that only say which running kernels to use. */
    static final java.util.List<String> CONNECT_ONLY = java.util.List.of("--pager", "--object");

    @Override
    public Integer call() throws Exception {
        var parsed = spec.commandLine().getParseResult();
        for (String option : connect.isEmpty() ? CONNECT_ONLY : EMBEDDED_ONLY) {
            if (parsed.hasMatchedOption(option)) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), connect.isEmpty()
                        ? option + " is for --connect (running kernels); the embedded demo starts its own"
                        : option + " cannot apply to running kernels (--connect): they were started with their own "
                                + "options; give it to 'machxp kernel' instead, or drop --connect");
            }
        }
        if (!verbose) {
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("io.machxp")).setLevel(Level.WARN);
        }
        if (connect.isEmpty() && (tls.cert != null || tls.key != null || tls.ca != null || tls.plaintext)) {
            throw new IllegalArgumentException("the TLS options and --plaintext are for --connect; the embedded demo"
                    + " runs on loopback in plaintext");
        }
        if (ipc) {
            return ipcDemo(parsed);
        }
        if (trace != null && !connect.isEmpty()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--trace records the embedded "
                    + "cluster's messages, which this JVM runs; running kernels (--connect) are other processes: "
                    + "drop --connect, or write the workload as a scenario and use 'machxp trace'");
        }
        DemoOptions options = new DemoOptions(kernels, threads, futexes, ops, locality, seed, !noCache, piggyback, connect,
                pager, object, grpcOnly, think, pagers, warmup);
        io.machxp.demo.DemoHooks hooks = viewPort == null ? io.machxp.demo.DemoHooks.NONE
                : new DemoView(viewPort, tls.transport(), r -> print(r), spec.commandLine().getErr());
        if (trace != null) {
            hooks = new DemoTrace(trace, String.format(Locale.ROOT, "machxp demo (real, %d kernels x %d threads, %d futexes, "
                    + "locality %s, seed %d%s)", kernels, threads, futexes, locality, seed, noCache ? ", no-cache" : ""),
                    hooks, spec.commandLine().getErr());
        }
        DemoReport report = Demo.run(options, tls.transport(), hooks);
        if (viewPort == null) {
            print(report);
        }
        java.util.List<String> failed = report.failures();
        var err = spec.commandLine().getErr();
        failed.forEach(f -> err.println("machxp demo: " + f));
        err.flush();
        return ExitCodes.check(failed.isEmpty());
    }

    /** Options of the futex demo that the IPC demo does not take. */
    static final java.util.List<String> FUTEX_ONLY = java.util.List.of("--threads", "--futexes", "--ops", "--warmup", "--locality",
            "--seed", "--no-cache", "--piggyback", "--json", "--pager", "--object", "--grpc-only", "--view", "--trace");

    private int ipcDemo(picocli.CommandLine.ParseResult parsed) throws Exception {
        for (String option : FUTEX_ONLY) {
            if (parsed.hasMatchedOption(option)) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), option + " is for the futex demo;"
                        + " the IPC demo (--ipc) takes --kernels, --calls and --connect");
            }
        }
        if (kernels < 2 || calls < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--ipc needs --kernels 2 or more and --calls 1 or more");
        }
        var report = io.machxp.demo.ipc.IpcDemo.run(kernels, calls, connect, tls.transport(), System.out);
        io.machxp.demo.ipc.IpcDemo.print(report, System.out);
        System.out.flush();
        return ExitCodes.check(report.ok());
    }

    private void print(DemoReport report) throws java.io.IOException {
        if (json) {
            System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report));
        } else {
            report.printTable(System.out);
        }
        System.out.flush();
    }
}
