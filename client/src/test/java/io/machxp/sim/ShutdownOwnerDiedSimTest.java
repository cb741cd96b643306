package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * End to end in the simulator (machxp chaos --mix contended, seed 94, made small): a thread of
 * kernel A owns a futex when kernel B reads the futex's page, so the page is no longer writable at
 * A; A shuts down cleanly. The thread's death could not write OWNER_DIED into the word (its
 * page-in never comes), so A gives the futex back with owner_died and the next grant, B's, carries
 * it: B's lock gets the futex with EOWNERDEAD. Before, B found A's dead thread's TID in the word
 * with no OWNER_DIED and its lock waited forever.
 */
class ShutdownOwnerDiedSimTest {
    private static final long MS = 1_000_000;
    private final SimCluster cluster = new SimCluster(new SimCluster.Options(1, 100_000, 0, 4096, 20 * MS),
            Map.of("obj", 4096L), (time, kernel, event, tid, detail) -> { });

    @Test
    void aFutexOwnedAtShutdownWithItsPageElsewhereComesToTheNextLockerWithOwnerDied() {
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj");
        SimCalls.Worker b = SimCalls.worker(cluster, "B", "obj");
        assertThat(SimCalls.<Acquired>await(cluster, r -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r)))
                .isInstanceOf(Acquired.class);
        assertThat(SimCalls.<byte[]>await(cluster, r -> b.core().vmRead(b.task(), b.base() + 8, 8, r)))
                .as("B read the futex's page").isInstanceOf(byte[].class);

        cluster.shutdown("A");
        cluster.runUntil(cluster.now() + 5 * MS);

        Object locked = SimCalls.<Acquired>await(cluster, r -> b.core().vmLockFutex(b.task(), b.tid(), b.base(), 200 * MS, r));
        assertThat(locked).as("B's lock after A shut down owning the futex").isInstanceOf(Acquired.class);
        assertThat(((Acquired) locked).ownerDied()).as("EOWNERDEAD: A's thread died owning it").isTrue();
        Object unlocked = SimCalls.<Void>await(cluster, (Reply<Void> r) -> b.core().vmUnlockFutex(b.task(), b.tid(), b.base(), r));
        assertThat(unlocked).as("B unlocks it").isNull();
    }
}
