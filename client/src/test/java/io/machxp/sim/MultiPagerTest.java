package io.machxp.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.PagerDirectory;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.task.Tids;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Kernels with two pagers in virtual time (docs/multi-pager.md): each object goes to the pager the
 * directory names, a pager's crash or loss stalls only its own objects, TIDs come from the primary,
 * and losing the primary stops every session.
 */
class MultiPagerTest {
    private static final long MS = 1_000_000;
    private static final long LEASE = 20 * MS;
    private final List<String> trace = new ArrayList<>();
    /** "kernel -> pager" or "pager -> kernel" with the object of each message that names one. */
    private final List<String> routes = new ArrayList<>();
    private final SimCluster cluster = new SimCluster(new SimCluster.Options(1, 100_000, 0, 4096, LEASE),
            Map.of("zero", 8192L, "one", 8192L), PagerDirectory.of(2, Map.of("zero", 0, "one", 1)),
            (time, kernel, event, tid, detail) -> trace.add(kernel + " " + event));

    private record Worker(KernelCore core, long task, int tid, long zero, long one) {}

    /** Runs the simulation until the call is answered: its value, or the KernelError it failed with. */
    private <T> Object await(Consumer<Reply<T>> call) {
        return SimCalls.await(cluster, call);
    }

    @SuppressWarnings("unchecked")
    private <T> T ok(Consumer<Reply<T>> call) {
        Object v = await(call);
        assertThat(v instanceof KernelError e ? e.errno() + ": " + e.message() : "answered").isEqualTo("answered");
        return (T) v;
    }

    private Worker worker(String kernel) {
        KernelCore core = cluster.addKernel(kernel, CoreOptions.DEFAULT).core;
        cluster.runUntil(cluster.now() + MS);
        MachTask task = ok(r -> core.taskCreate("t", r));
        VmMapping zero = ok(r -> core.vmMap(task.id, "zero", r));
        VmMapping one = ok(r -> core.vmMap(task.id, "one", r));
        MachThread t = ok(r -> core.threadCreate(task.id, r));
        return new Worker(core, task.id, t.tid, zero.start(), one.start());
    }

    private void observeRoutes() {
        cluster.observe((sent, arrives, from, to, m) -> {
            if (m instanceof KernelToPager k && k.hasMemoryObjectLockFutex()) {
                routes.add(from + " -> " + to + " lock_futex");
            } else if (m instanceof PagerToKernel p && p.hasMemoryObjectFutexGranted()) {
                routes.add(from + " -> " + to + " granted");
            }
        });
    }

    @Test
    void eachObjectsFutexesGoToItsOwnPagerAndTidsComeFromThePrimary() {
        observeRoutes();
        Worker a = worker("A");
        Worker b = worker("B");
        this.<Acquired>ok(r -> a.core().vmLockFutex(a.task(), a.tid(), a.one(), -1, r));
        this.<Acquired>ok(r -> a.core().vmLockFutex(a.task(), a.tid(), a.zero(), -1, r));

        assertThat(routes).containsExactly("A -> pager1 lock_futex", "pager1 -> A granted",
                "A -> pager lock_futex", "pager -> A granted");
        assertThat(Tids.kernelId(a.tid())).isEqualTo(a.core().kernelId());
        assertThat(a.tid()).as("TIDs unique across the cluster").isNotEqualTo(b.tid());
        assertThat(cluster.pager(0).kernels()).containsExactlyInAnyOrder("A", "B");
        assertThat(cluster.pager(1).kernels()).containsExactlyInAnyOrder("A", "B");
    }

    /**
     * xp-spec 2.9: a kernel's hellos to a pager other than its primary carry its TID prefix (the
     * primary's kernel id) and go out after the primary's welcome; the reclaim after that pager's
     * crash carries it too. Hellos to the primary carry none.
     */
    @Test
    void hellosToTheSecondaryPagerCarryThePrimarysKernelIdAsTheTidPrefix() {
        List<String> hellos = new ArrayList<>();
        cluster.observe((sent, arrives, from, to, m) -> {
            if (m instanceof KernelToPager k && k.hasKernelHello()) {
                hellos.add(from + " -> " + to + (k.getKernelHello().hasTidPrefix()
                        ? " prefix " + k.getKernelHello().getTidPrefix() : "")
                        + (k.getKernelHello().hasReclaim() ? " reclaim" : ""));
            } else if (m instanceof PagerToKernel p && p.hasPagerWelcome()) {
                hellos.add(from + " -> " + to + " welcome " + p.getPagerWelcome().getKernelId());
            }
        });
        Worker a = worker("A");
        int id = a.core().kernelId();
        assertThat(hellos).hasSize(4);
        assertThat(hellos.subList(0, 3)).containsExactly("A -> pager", "pager -> A welcome " + id,
                "A -> pager1 prefix " + id);
        assertThat(hellos.get(3)).startsWith("pager1 -> A welcome ");
        assertThat(Tids.kernelId(a.tid())).isEqualTo(id);
        this.<Acquired>ok(r -> a.core().vmLockFutex(a.task(), a.tid(), a.one(), -1, r));
        hellos.clear();
        cluster.crashPager(1, LEASE / 4);
        cluster.runUntil(cluster.now() + LEASE / 2); // pager 1 is back, A reclaims the futex it caches
        assertThat(hellos).contains("A -> pager1 prefix " + id + " reclaim");
        assertThat(trace).contains("A pager-reconnected");
    }

    /**
     * A secondary pager down at the kernel's start loses its session before the primary has
     * welcomed the kernel; the kernel joins it again later, and a hello that went out before the
     * primary's welcome would carry no TID prefix (0, which xp-spec 2.9 forbids: the pager ends the
     * stream with EINVAL). Every hello to the secondary carries the primary's kernel id.
     */
    @Test
    void aSecondaryLostDuringTheStartIsJoinedOnlyWithThePrimarysKernelIdAsItsPrefix() {
        long lease = 5_000 * MS; // the primary's welcome is held past the first rejoin (1 s), within the lease
        SimCluster slow = new SimCluster(new SimCluster.Options(1, 100_000, 0, 4096, lease),
                Map.of("zero", 8192L, "one", 8192L), PagerDirectory.of(2, Map.of("zero", 0, "one", 1)),
                (time, kernel, event, tid, detail) -> trace.add(kernel + " " + event));
        List<String> hellos = new ArrayList<>();
        slow.observe((sent, arrives, from, to, m) -> {
            if (m instanceof KernelToPager k && k.hasKernelHello() && to.equals("pager1")) {
                hellos.add(k.getKernelHello().hasTidPrefix() ? "prefix " + k.getKernelHello().getTidPrefix() : "none");
            }
        });
        slow.crashPager(1, 500 * MS);
        KernelCore a = slow.addKernel("A", CoreOptions.DEFAULT).core;
        slow.stall("A", 0, 1_500 * MS);
        slow.runUntil(slow.now() + 8_000 * MS); // pager 1's grace after its restart ends at 5.5 s
        assertThat(a.kernelId()).as("welcomed by the primary").isNotZero();
        assertThat(hellos).isNotEmpty().allMatch(h -> h.equals("prefix " + a.kernelId()));
        assertThat(slow.pager(1).kernels()).as("joined the secondary again").contains("A");
    }

    @Test
    void aCrashedPagerStallsOnlyItsOwnObjectsAndItsFutexesAreReclaimed() {
        Worker a = worker("A");
        Worker b = worker("B");
        Acquired held = this.<Acquired>ok(r -> a.core().vmLockFutex(a.task(), a.tid(), a.one(), -1, r));
        this.<Void>ok(r -> a.core().vmUnlockFutex(a.task(), a.tid(), a.one(), r));

        cluster.crashPager(1, LEASE / 4);
        cluster.runUntil(cluster.now() + 2 * 100_000); // both kernels hear of the crash
        assertThat(cluster.pagerUp(1)).isFalse();
        long before = cluster.now();
        this.<Acquired>ok(r -> b.core().vmLockFutex(b.task(), b.tid(), b.zero(), -1, r)); // pager 0's object: no wait
        assertThat(cluster.pagerUp(1)).as("answered while pager 1 was still down").isFalse();
        assertThat(cluster.now() - before).isLessThan(LEASE / 4);
        this.<Void>ok(r -> b.core().vmUnlockFutex(b.task(), b.tid(), b.zero(), r));

        // A still holds pager 1's futex (cached) and reclaims it; B gets it after A gives it back.
        Acquired again = this.<Acquired>ok(r -> b.core().vmLockFutex(b.task(), b.tid(), b.one(), -1, r));
        assertThat(cluster.pagerUp(1)).isTrue();
        assertThat(again.ownerDied()).isFalse();
        assertThat(again.fencingToken()).isGreaterThan(held.fencingToken());
        assertThat(trace).contains("A pager-reconnected").doesNotContain("A lease-lost", "B lease-lost");
    }

    @Test
    void losingASecondaryPagerFailsItsObjectsOnly() {
        Worker a = worker("A");
        cluster.kernel("A").core.xp().onPagerLost(1, "test: the pager ended the session");
        Object failed = this.<Acquired>await(r -> a.core().vmLockFutex(a.task(), a.tid(), a.one(), -1, r));
        assertThat(failed).isInstanceOfSatisfying(KernelError.class, e -> assertThat(e.errno()).isEqualTo(Errno.EIO));
        this.<Acquired>ok(r -> a.core().vmLockFutex(a.task(), a.tid(), a.zero(), -1, r));
    }

    /**
     * After a secondary pager ends A's session, A opens a new one with it by itself (pager 1 first
     * refuses the name until its own lease of A's old session runs out): a new vm_map of "one"
     * maps it again, while the old mapping stays failed - its page neither read nor written, the
     * futex A's thread held gone on to B with OWNER_DIED.
     */
    @Test
    void aLostSecondaryPagerIsJoinedAgainAndItsObjectsMapAnew() {
        Worker a = worker("A");
        Worker b = worker("B");
        this.<Acquired>ok(r -> a.core().vmLockFutex(a.task(), a.tid(), a.one(), -1, r));
        this.<Void>ok(r -> a.core().vmWrite(a.task(), a.one() + 64, new byte[] {7}, r));

        cluster.kernel("A").core.xp().onPagerLost(1, "test: the pager ended the session");
        assertThat(List.<Object>of(
                this.<byte[]>await(r -> a.core().vmRead(a.task(), a.one() + 64, 1, r)),
                this.<Void>await(r -> a.core().vmWrite(a.task(), a.one() + 64, new byte[] {8}, r)),
                this.<Void>await(r -> a.core().vmUnlockFutex(a.task(), a.tid(), a.one(), r))))
                .allSatisfy(v -> assertThat(v).isInstanceOfSatisfying(KernelError.class,
                        e -> assertThat(e.errno()).isEqualTo(Errno.EIO)));
        Acquired atB = this.<Acquired>ok(r -> b.core().vmLockFutex(b.task(), b.tid(), b.one(), -1, r));
        assertThat(atB.ownerDied()).as("pager 1 declared A dead, its holder's futex went on").isTrue();
        this.<Void>ok(r -> b.core().vmFutexConsistent(b.task(), b.tid(), b.one(), r));
        this.<Void>ok(r -> b.core().vmUnlockFutex(b.task(), b.tid(), b.one(), r));

        Object mapped = null;
        for (int i = 0; i < 40 && !(mapped instanceof VmMapping); i++) {
            mapped = this.<VmMapping>await(r -> a.core().vmMap(a.task(), "one", r));
            if (mapped instanceof KernelError e) {
                assertThat(e.errno()).as(e.message()).isEqualTo(Errno.EIO);
                cluster.runUntil(cluster.now() + LEASE / 4);
            }
        }
        assertThat(mapped).isInstanceOf(VmMapping.class);
        long again = ((VmMapping) mapped).start();
        assertThat(again).isNotEqualTo(a.one());
        Acquired atA = this.<Acquired>ok(r -> a.core().vmLockFutex(a.task(), a.tid(), again, -1, r));
        assertThat(atA.ownerDied()).isFalse();
        assertThat(this.<byte[]>ok(r -> a.core().vmRead(a.task(), again + 64, 1, r))).containsExactly(0);
        assertThat(trace).contains("A pager-rejoined").doesNotContain("A lease-lost");
        assertThat(this.<byte[]>await(r -> a.core().vmRead(a.task(), a.one() + 64, 1, r))).as("the old mapping stays failed")
                .isInstanceOf(KernelError.class);
    }

    /**
     * What the lost session's stream still brings before the first hello of the new session (here
     * pager 1's answer to a keepalive A sent just before it lost the session) is the old session's:
     * it was counted as received in the new one, whose keepalives and resumes then said the kernel
     * had a message more than pager 1 ever sent it in that session, and the pager refused the
     * resume of the new session's first stalled stream ("received N messages, but the pager sent
     * N-1"), so the kernel had to reclaim instead.
     */
    @Test
    void theLostSessionsLateMessagesDoNotCountInTheNewOne() {
        Worker a = worker("A");
        boolean[] armed = {true};
        cluster.observe((sent, arrives, from, to, m) -> {
            if (armed[0] && from.equals(SimCluster.PAGER + 1) && to.equals("A") && m instanceof PagerToKernel p
                    && p.hasPagerKeepalive()) {
                armed[0] = false; // A loses the session while the answer is on its way
                cluster.at(arrives - 1, () -> cluster.kernel("A").core.xp().onPagerLost(1, "test: the lease ran out"));
            }
        });
        cluster.runUntil(cluster.now() + LEASE);
        assertThat(armed[0]).as("pager 1 answered a keepalive").isFalse();
        Object mapped = null;
        for (int i = 0; i < 40 && !(mapped instanceof VmMapping); i++) {
            mapped = this.<VmMapping>await(r -> a.core().vmMap(a.task(), "one", r));
            if (mapped instanceof KernelError) {
                cluster.runUntil(cluster.now() + LEASE / 4);
            }
        }
        assertThat(mapped).isInstanceOf(VmMapping.class);
        assertThat(trace).contains("A pager-rejoined");

        cluster.stall("A", 1, LEASE * 6 / 5);
        cluster.runUntil(cluster.now() + 3 * LEASE);
        assertThat(trace).contains("A pager-stalled", "A pager-resumed");
        assertThat(cluster.pagerStats(1).sessionsResumed()).isEqualTo(1);
    }

    /**
     * The objects retired with a lost secondary pager's session are kept only while a task maps
     * them (their mappings fail as they should); once the last such task ended, the kernel forgets
     * them. Before, every loss kept every object of that pager (its table of pages, its futexes,
     * the lost session) for as long as the kernel ran, so a pager lost again and again grew it.
     */
    @Test
    void retiredObjectsAreForgottenOnceNoTaskMapsThem() {
        Worker a = worker("A");
        KernelCore core = a.core();
        for (int round = 0; round < 3; round++) {
            MachTask t = ok(r -> core.taskCreate("mapper", r));
            Object mapped = null;
            for (int i = 0; i < 40 && !(mapped instanceof VmMapping); i++) {
                mapped = this.<VmMapping>await(r -> core.vmMap(t.id, "one", r));
                if (mapped instanceof KernelError) {
                    cluster.runUntil(cluster.now() + LEASE / 4);
                }
            }
            assertThat(mapped).isInstanceOf(VmMapping.class);
            core.xp().onPagerLost(1, "test: the pager ended the session");
            this.<Void>ok(r -> core.taskTerminate(t.id, "test: done", r));
            if (round == 0) {
                this.<Void>ok(r -> core.taskTerminate(a.task(), "test: done", r)); // it mapped the first "one" too
            }
        }
        // "zero" stays cached (its task ended; its pager is not lost); no task maps a retired "one".
        assertThat(core.inspect().objectCount()).as("zero only: every retired 'one' went with its last task").isEqualTo(1);
    }

    /** A kernel that lost its primary while it was joining a secondary again stops trying: it has no name. */
    @Test
    void aKernelWithoutItsPrimaryJoinsNoSecondaryAgain() {
        worker("A");
        cluster.kernel("A").core.xp().onPagerLost(1, "test: the pager ended the session");
        cluster.kernel("A").core.xp().onPagerLost(0, "test: the primary ended the session");
        cluster.runUntil(cluster.now() + 10 * LEASE);
        assertThat(trace).doesNotContain("A pager-rejoined");
        assertThat(cluster.pager(1).kernels()).doesNotContain("A");
    }

    @Test
    void losingThePrimaryStopsEverySessionSinceItNamesTheKernel() {
        Worker a = worker("A");
        cluster.kernel("A").core.xp().onPagerLost(0, "test: the primary ended the session");
        Object zero = this.<Acquired>await(r -> a.core().vmLockFutex(a.task(), a.tid(), a.zero(), -1, r));
        Object one = this.<Acquired>await(r -> a.core().vmLockFutex(a.task(), a.tid(), a.one(), -1, r));
        assertThat(List.of(zero, one)).allSatisfy(v -> assertThat(v).isInstanceOfSatisfying(KernelError.class,
                e -> assertThat(e.errno()).isEqualTo(Errno.EIO)));
        assertThat(trace).contains("A pager-lost");
    }

    @Test
    void withOnePagerTheDirectoryIsTheSinglePagerOfOld() {
        assertThat(PagerDirectory.of(1, Map.of())).isSameAs(PagerDirectory.SINGLE);
        assertThat(PagerDirectory.parse(3, "a=2, b=0").pagerOf("a")).isEqualTo(2);
        assertThat(PagerDirectory.parse(3, "").pagerOf("x")).isEqualTo(PagerDirectory.ruleFor("x", 3));
    }
}
