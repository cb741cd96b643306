package io.machxp.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * GET /metrics in Prometheus's text format, from a Micrometer registry the pager or kernel
 * publishes its meters to; served by the JDK's HTTP server on one thread (scrapes are rare).
 */
public final class MetricsServer implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final HttpServer http;

    private MetricsServer(HttpServer http) {
        this.http = http;
        http.createContext("/metrics", this::scrape);
    }

    /** @throws IOException naming the address when the port cannot be bound */
    public static MetricsServer start(String bind, int port) throws IOException {
        HttpServer http;
        try {
            http = HttpServer.create(new InetSocketAddress(bind, port), 0);
        } catch (IOException e) {
            throw new IOException("cannot serve metrics on " + bind + ":" + port + ": " + e.getMessage()
                    + "; choose another --metrics-port, or 0 for any free one", e);
        }
        MetricsServer server = new MetricsServer(http);
        http.start();
        return server;
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public int port() {
        return http.getAddress().getPort();
    }

    private void scrape(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET")) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        http.stop(0);
        registry.close();
    }
}
