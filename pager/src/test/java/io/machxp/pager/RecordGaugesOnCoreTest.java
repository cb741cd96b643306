package io.machxp.pager;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.DefaultEventLoop;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A gauge of the core's record counts read on the core thread itself takes the counts at once: it
 * queued its query behind itself, waited its whole bound and read NaN (late6 review A6).
 */
class RecordGaugesOnCoreTest {
    @Test
    void aGaugeReadOnTheCoreThreadReadsTheCountsWithoutWaitingForItself() throws Exception {
        DefaultEventLoop loop = new DefaultEventLoop();
        try {
            RecordGauges gauges = new RecordGauges("p", new CoreQueries("p", loop),
                    () -> Map.of("pages", 3, "futexes", 5));
            gauges.waitAtMost(Duration.ofMillis(50));
            double onCore = loop.submit(() -> gauges.count("futexes")).get(30, TimeUnit.SECONDS);
            assertThat(onCore).isEqualTo(5.0);
            assertThat(gauges.count("pages")).as("from another thread, as a scrape").isEqualTo(3.0);
        } finally {
            loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
