package io.machxp.bench.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.machxp.cli.Logs;
import org.slf4j.LoggerFactory;

/** For the bench's report: machxp's logs from WARN up, the peers' (chatty at start and stop) from ERROR up. */
public final class BenchLogs {
    private BenchLogs() {}

    public static void quiet() {
        Logs.warningsOnly();
        System.setProperty("hazelcast.logging.type", "slf4j");
        for (String peer : new String[] {"com.hazelcast", "org.apache.zookeeper", "org.apache.curator"}) {
            ((Logger) LoggerFactory.getLogger(peer)).setLevel(Level.ERROR);
        }
    }
}
