package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.ReclaimedFutex;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * chaos --mix contended seed 3211, made small (xp-spec 9.4, 12.6): kernel A's thread owns a futex
 * whose page kernel C reads, so the pager's copy of the word names A's thread; A is cut off and
 * declared dead, and B gets the futex with owner_died: its thread takes it with EOWNERDEAD and
 * records OWNER_DIED (then, consistent, its own TID) in B's copy only. The pager restarts; B
 * reclaims the futex and the page, and is then cut off for good. Its copy is lost and the page
 * reverts to the pager's, which still names A's dead thread, a kernel the restarted pager never
 * knew. Before, B's reclaim said no owner_died (its word had recorded it), so the restarted pager
 * neither owed the death nor knew A's TID prefix dead: B's own death was "recorded" by leaving
 * the foreign-looking TID, the next grant said nothing, and the new kernel D (given A's old id)
 * found its own thread named in the word: EDEADLK, ESRCH for its other lockers. Now a reclaim says
 * owner_died for the whole holding its grant said it, as the pager before the restart owed it.
 */
class OwnerDiedAcrossRestartSimTest {
    private static final long MS = 1_000_000;
    private static final long LEASE = 20 * MS;
    private final SimCluster cluster = new SimCluster(new SimCluster.Options(1, 100_000, 0, 4096, LEASE),
            Map.of("obj", 4096L), (time, kernel, event, tid, detail) -> { });

    @SuppressWarnings("unchecked")
    private <T> T await(Consumer<Reply<T>> call) {
        return (T) SimCalls.await(cluster, call);
    }

    @Test
    void aGranteeThatRecordedOwnerDiedInItsOwnCopyReclaimsItWithOwnerDied() {
        List<ReclaimedFutex> reclaimedByB = new ArrayList<>();
        cluster.observe((sent, arrives, from, to, m) -> {
            if (from.equals("B") && m instanceof KernelToPager k && k.getKernelHello().hasReclaim()) {
                k.getKernelHello().getReclaim().getObjectsList().forEach(o -> reclaimedByB.addAll(o.getFutexesList()));
            }
        });
        SimCalls.Worker a = SimCalls.worker(cluster, "A", "obj");
        SimCalls.Worker b = SimCalls.worker(cluster, "B", "obj");
        SimCalls.Worker c = SimCalls.worker(cluster, "C", "obj");
        Acquired first = await(r -> a.core().vmLockFutex(a.task(), a.tid(), a.base(), -1, r));
        assertThat(first.ownerDied()).isFalse();

        Object[] bLocked = new Object[1];
        b.core().vmLockFutex(b.task(), b.tid(), b.base(), -1, new Reply<Acquired>() {
            @Override
            public void complete(Acquired value) {
                bLocked[0] = value;
            }

            @Override
            public void fail(io.machxp.kernel.core.KernelError error) {
                bLocked[0] = error;
            }
        });
        cluster.runUntil(cluster.now() + 2 * MS); // B waits for A's thread (WAITERS in A's word)
        assertThat(SimCalls.<byte[]>await(cluster, r -> c.core().vmRead(c.task(), c.base() + 8, 8, r)))
                .as("C read the futex's page: the pager's copy names A's thread, and A no longer writes it").isInstanceOf(byte[].class);
        cluster.partition("A", 20 * LEASE);
        while (bLocked[0] == null && cluster.step()) {
            // until A is declared dead and B's thread gets the futex
        }
        assertThat(bLocked[0]).as("B's lock after A's death").isInstanceOf(Acquired.class);
        assertThat(((Acquired) bLocked[0]).ownerDied()).as("EOWNERDEAD: A's thread died owning it").isTrue();
        assertThat(SimCalls.<Void>await(cluster, (Reply<Void> r) -> b.core().vmFutexConsistent(b.task(), b.tid(),
                b.base(), r))).as("B's thread marks it consistent: B's copy of the word names it").isNull();

        cluster.crashPager(MS / 2);
        cluster.runUntil(cluster.now() + 5 * MS); // B (and C) reclaim in the new pager's grace period
        assertThat(reclaimedByB).as("B reclaimed the futex").hasSize(1);
        assertThat(reclaimedByB.get(0).getOwnerDied())
                .as("its grant said owner_died, which the pager's copy does not record: the reclaim says so").isTrue();

        cluster.partition("B", 20 * LEASE); // B's thread dies owning the futex, its copy of the page lost
        cluster.runUntil(cluster.now() + 3 * LEASE);

        SimCalls.Worker d = SimCalls.worker(cluster, "D", "obj");
        Object locked = SimCalls.<Acquired>await(cluster, r -> d.core().vmLockFutex(d.task(), d.tid(), d.base(),
                10 * LEASE, r));
        assertThat(locked).as("D's lock after B's thread died owning the futex (not EDEADLK or ESRCH from A's "
                + "stale TID in the reverted word)").isInstanceOf(Acquired.class);
        assertThat(((Acquired) locked).ownerDied()).as("EOWNERDEAD: B's thread died owning it").isTrue();
        assertThat(SimCalls.<Void>await(cluster, (Reply<Void> r) -> d.core().vmUnlockFutex(d.task(), d.tid(),
                d.base(), r))).as("D unlocks it").isNull();
    }
}
