package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import io.machxp.proto.xp.PagerToKernel;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A relinquish_futex with try makes the holder A, whose held word's page left it unwaited, fetch
 * that page before it answers (xp-spec 8.3). Here the owner on A ends during that wait (review L2
 * of branch trylock): the page comes back with the dead owner's TID in the word, A settles the
 * death first (OWNER_DIED, nobody on A waits) and then answers the try from that word, so B's
 * trylock takes the futex with OWNER_DIED, as Linux's FUTEX_TRYLOCK_PI takes a word of OWNER_DIED
 * and TID 0 after the robust-list walk (TID|OWNER_DIED: EOWNERDEAD).
 */
class TrylockOwnerDiesDuringPageWaitTest {
    private static final long MS = 1_000_000;
    private static final long LEASE = 20 * MS;
    private final SimCluster cluster = new SimCluster(new SimCluster.Options(1, 100_000, 0, 4096, LEASE),
            Map.of("obj", 4096L), (time, kernel, event, tid, detail) -> { });
    private long diedAt = -1;
    private long suppliedAfterDeath = -1;
    private boolean ended;

    @Test
    void theTrylockTakesTheFutexWithOwnerDied() {
        SimCalls.Worker[] holder = new SimCalls.Worker[1];
        cluster.filter(new SimCluster.MessageFilter() {
            @Override
            public PagerToKernel toKernel(String kernel, PagerToKernel m) {
                if (kernel.equals("A") && m.hasMemoryObjectRelinquishFutex() && m.getMemoryObjectRelinquishFutex().getTry()
                        && diedAt < 0) {
                    // the try reaches A, which fetches the page; its owner ends right after
                    cluster.at(cluster.now(), () -> {
                        diedAt = cluster.now();
                        SimCalls.Worker a = holder[0];
                        a.core().threadTerminate(a.task(), a.tid(), reply(() -> ended = true));
                    });
                }
                if (kernel.equals("A") && m.hasMemoryObjectDataSupply() && diedAt >= 0 && suppliedAfterDeath < 0) {
                    suppliedAfterDeath = cluster.now();
                }
                return m;
            }
        });
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj");
        holder[0] = a;
        SimCalls.Worker b = SimCalls.worker(cluster, "B", "obj");
        SimCalls.Worker c = SimCalls.worker(cluster, "C", "obj");
        assertThat(SimCalls.<Acquired>await(cluster, r -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r)))
                .as("A holds the futex").isInstanceOf(Acquired.class);
        SimCalls.<Void>await(cluster, r -> c.core().vmWrite(c.task(), c.base() + 8, new byte[] {7}, r)); // the page leaves A unwaited

        Object trylock = SimCalls.<Acquired>await(cluster, r -> b.core().vmLockFutex(b.task(), b.tid(), b.base(), 0, r));

        assertThat(diedAt).as("A's owner ended after the try reached A").isPositive();
        assertThat(suppliedAfterDeath).as("and before A had the page back").isGreaterThanOrEqualTo(diedAt);
        assertThat(ended).isTrue();
        assertThat(trylock).as("B's trylock takes the futex, told its owner died (EOWNERDEAD)")
                .isInstanceOfSatisfying(Acquired.class, acq -> assertThat(acq.ownerDied()).isTrue());
    }

    private static Reply<Void> reply(Runnable done) {
        return new Reply<>() {
            @Override
            public void complete(Void v) {
                done.run();
            }

            @Override
            public void fail(KernelError error) {
                throw new AssertionError(error.message());
            }
        };
    }
}
