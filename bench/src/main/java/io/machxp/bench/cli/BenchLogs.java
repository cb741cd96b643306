package io.machxp.bench.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.machxp.cli.Logs;
import org.slf4j.LoggerFactory;

/**
 * For the bench's report: machxp's logs from WARN up, the peers' and Ratis's (chatty at start and
 * stop) from ERROR up. Two exceptions: Hazelcast's warning that its CP data structures run in
 * unsafe mode (CP off) is shown, as Hazelcast means it to be; and Ratis logs nothing: when the
 * bench stops a replicated pager it reports every append and heartbeat in flight as an error, and
 * what matters in a run reaches the kernels, which log it, and the bench's checks ("correct").
 */
public final class BenchLogs {
    private BenchLogs() {}

    public static void quiet() {
        Logs.warningsOnly();
        System.setProperty("hazelcast.logging.type", "slf4j");
        for (String peer : new String[] {"com.hazelcast", "org.apache.zookeeper", "org.apache.curator"}) {
            ((Logger) LoggerFactory.getLogger(peer)).setLevel(Level.ERROR);
        }
        ((Logger) LoggerFactory.getLogger("com.hazelcast.cp.internal.CPSubsystemImpl")).setLevel(Level.WARN);
        ((Logger) LoggerFactory.getLogger("org.apache.ratis")).setLevel(Level.OFF);
    }
}
