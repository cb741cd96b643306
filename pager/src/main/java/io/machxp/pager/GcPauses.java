package io.machxp.pager;

import java.lang.management.GarbageCollectorMXBean;
import java.util.List;

/**
 * The JVM's stop-the-world collection time, for {@link StuckCheck}: the sum of the collection
 * times of the collectors that pause the application, leaving out those that report concurrent
 * work. ZGC ("ZGC Cycles", "ZGC Minor Cycles", "ZGC Major Cycles") and Shenandoah ("Shenandoah
 * Cycles") report whole concurrent cycles next to their pauses ("... Pauses"), and G1 from JDK 20
 * its concurrent marking ("G1 Concurrent GC"): time while every thread may run, the core too, so
 * counting it took a JVM collecting concurrently for half of each slice as one in a pause, and
 * a stuck core was never judged stuck there (late11 review LOW-P2). The serial, parallel and G1
 * young and old collectors' beans are pauses and all counted.
 */
final class GcPauses {
    private GcPauses() {}

    /** Whether a collector bean of this name reports pauses (not concurrent cycles or work). */
    static boolean pauses(String name) {
        return !name.endsWith("Cycles") && !name.contains("Concurrent");
    }

    /** Pause time of {@code collectors} so far in ns, or -1 if one of them does not measure it. */
    static long nanos(List<GarbageCollectorMXBean> collectors) {
        long ms = 0;
        for (GarbageCollectorMXBean gc : collectors) {
            if (!pauses(gc.getName())) {
                continue;
            }
            long t = gc.getCollectionTime();
            if (t < 0) {
                return -1;
            }
            ms += t;
        }
        return ms * 1_000_000;
    }
}
