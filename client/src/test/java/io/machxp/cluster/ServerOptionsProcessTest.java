package io.machxp.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** machxp pager --metrics-port 0 --log-format json --log-level DEBUG, as an operator starts it. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ServerOptionsProcessTest {
    @Test
    void aPagerLogsJsonAndServesMetrics() throws Exception {
        try (MachxpProcess pager = MachxpProcess.start("pager", "pager", "--port", "0", "--metrics-port", "0",
                "--log-format", "json", "--log-level", "DEBUG", "--lease-ms", "0")) {
            pager.port();
            Matcher m = Pattern.compile("metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics").matcher("");
            String out = pager.output();
            assertThat(out).containsPattern("metrics on http://127\\.0\\.0\\.1:\\d+/metrics");
            m.reset(out).find();
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + m.group(1) + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("machxp_sessions{pager=\"pager\"} 0.0");
            assertThat(out.lines().filter(l -> l.startsWith("{")))
                    .anySatisfy(l -> assertThat(l).contains("\"level\":\"INFO\"")
                            .contains("Message\":\"pager pager serving [shared]"));
        }
    }
}
