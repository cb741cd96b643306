package io.machxp.cli;

import io.machxp.view.LiveView;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * machxp view: a web page that shows a running pager and its kernels live (see docs/view.md),
 * served on a loopback port until Ctrl-C.
 */
@Command(name = "view", mixinStandardHelpOptions = true,
        header = "Serve a live web page of a running pager and its kernels: threads, futexes, pages, XP messages.",
        description = {"Serves http://127.0.0.1:PORT/ until Ctrl-C: kernels and their threads (priorities, boosts),",
            "each futex's holder and waiters, pages and their holders, message rates and the latest XP messages.",
            "The page updates by Server-Sent Events, four times a second; docs/view.md tells what it shows."})
final class ViewCommand implements Callable<Integer> {
    @Option(names = "--pager", required = true, paramLabel = "HOST:PORT", description = "the pager's address")
    String pager;

    @Option(names = "--kernel", split = ",", paramLabel = "HOST:PORT",
            description = "kernels whose threads to show (repeatable, or comma-separated)")
    List<String> kernels = List.of();

    @Option(names = "--port", defaultValue = "8080", description = "the page's port on 127.0.0.1 (default ${DEFAULT-VALUE}; 0: any free port)")
    int port;

    /** --verbose: the stack trace of an error. */
    @Mixin
    VerboseOption verboseOption;

    @Mixin
    TlsOptions tls;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        LiveView view = LiveView.start(port, pager, kernels, tls.transport());
        spec.commandLine().getOut().printf(Locale.ROOT, "machxp view: %s (pager %s%s); Ctrl-C to stop%n", view.url(), pager,
                kernels.isEmpty() ? ", no kernel threads: give --kernel" : ", kernels " + String.join(" ", kernels));
        spec.commandLine().getOut().flush();
        Shutdown.awaitSignal(view);
        return ExitCodes.OK;
    }
}
