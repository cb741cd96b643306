package io.machxp.cli;

import io.machxp.demo.DemoHooks;
import io.machxp.demo.DemoReport;
import io.machxp.proto.transport.Transport;
import io.machxp.view.LiveView;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/**
 * demo --view: the live view starts once the cluster is up, before the workload; after it, the
 * report is printed and the view (with the cluster) stays up until Ctrl-C.
 */
final class DemoView implements DemoHooks {
    /** Prints the report; may fail as a write does. */
    interface Printer {
        void print(DemoReport report) throws IOException;
    }

    private final int port;
    private final Transport transport;
    private final Printer printer;
    private final PrintWriter out;
    private LiveView view;

    DemoView(int port, Transport transport, Printer printer, PrintWriter out) {
        this.port = port;
        this.transport = transport;
        this.printer = printer;
        this.out = out;
    }

    @Override
    public void beforeRun(String pagerTarget, List<String> kernelTargets) throws IOException {
        view = LiveView.start(port, pagerTarget, kernelTargets, transport);
        out.printf(Locale.ROOT, "machxp demo: the live view is at %s%n", view.url());
        out.flush();
    }

    @Override
    public void afterRun(DemoReport report) throws InterruptedException {
        try {
            printer.print(report);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        out.printf(Locale.ROOT, "machxp demo: done; the view stays at %s with the cluster: Ctrl-C to stop%n", view.url());
        out.flush();
        Shutdown.awaitSignal(view);
    }
}
