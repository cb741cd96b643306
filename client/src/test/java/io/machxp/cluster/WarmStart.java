package io.machxp.cluster;

import io.machxp.cli.Machxp;
import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * A machxp command in a JVM warmed beforehand, as a supervisor's standby process would be: it
 * starts and closes a throwaway pager of its own (port 0, in memory: the real one's store and port
 * are untouched), says {@link #WARM}, and runs {@code machxp ARGS...} only once a line comes on its
 * standard input ({@link MachxpProcess#go}). A test that restarts a pager then times the restart
 * of a pager, not the class loading of a cold JVM on a loaded machine.
 */
public final class WarmStart {
    /** The line a warm process prints when it waits for its go. */
    static final String WARM = "warm, waiting for go";

    private WarmStart() {}

    public static void main(String[] args) throws Exception {
        Pager warmUp = Pager.start(new PagerConfig("warm-up", "127.0.0.1", 0, 4096, Map.of("warm-up", 16_384L))
                .withFreshStart(true).withLease(Duration.ofSeconds(20)));
        warmUp.close();
        System.err.println(WARM);
        System.err.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (in.readLine() == null) {
            System.exit(1); // the test went away before its go
        }
        Machxp.main(args);
    }
}
