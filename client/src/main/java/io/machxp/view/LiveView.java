package io.machxp.view;

import io.machxp.proto.transport.Transport;
import java.io.IOException;
import java.util.List;

/**
 * The live view of a running pager and its kernels: a {@link ViewServer} on a loopback port fed by
 * a {@link ViewFeed}. What {@code machxp view}, {@code demo --view} and {@code cluster up --view}
 * start; see docs/view.md.
 */
public final class LiveView implements AutoCloseable {
    private final ViewServer server;
    private final ViewFeed feed;

    private LiveView(ViewServer server, ViewFeed feed) {
        this.server = server;
        this.feed = feed;
    }

    /**
     * Serves the view on 127.0.0.1:{@code port} (0: any free port) of the pager at {@code pagerTarget}
     * and the kernels at {@code kernelTargets}, reached with {@code transport}.
     *
     * @throws IOException if the port cannot be bound
     */
    public static LiveView start(int port, String pagerTarget, List<String> kernelTargets, Transport transport)
            throws IOException {
        ViewServer server = ViewServer.start(port);
        try {
            return new LiveView(server, ViewFeed.start(server, pagerTarget, kernelTargets, transport));
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    public String url() {
        return server.url();
    }

    public int port() {
        return server.port();
    }

    @Override
    public void close() {
        feed.close();
        server.close();
    }
}
