package io.machxp.bench.jmh;

import io.machxp.cluster.EmbeddedCluster;
import java.io.IOException;
import java.util.Map;

/**
 * A pager and one kernel in a JVM of their own, for benchmarks whose tasks must run in another
 * process: prints "target HOST:PORT" once the kernel serves, and ends when its stdin closes.
 * Arguments: the object's name and size.
 */
public final class KernelHost {
    private KernelHost() {}

    public static void main(String[] args) throws IOException {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of(args[0], Long.parseLong(args[1])))) {
            System.out.println("target " + cluster.kernelTargets().get(0));
            System.out.flush();
            while (System.in.read() >= 0) {
                // until the benchmark closes our stdin
            }
        }
    }
}
