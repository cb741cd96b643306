package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexWord;
import io.machxp.kernel.policy.FutexPolicy;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.proto.task.Errno;
import io.machxp.proto.xp.KernelToPager;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Review rv58 MED-3, second half: the futexes a kernel asks for and holds for the tasks of one
 * client peer are bounded by that peer's share ({@link FutexShares}, the rule of PeerShares: with
 * a cache bound of 64, peers together 56, one peer 7). Before, one peer's threads could make the
 * kernel hold any number (up to the pager's per-session quota, which ends the kernel's session).
 */
class FutexPeerShareTest {
    private static final FutexPolicy SIXTY_FOUR = new FutexPolicy() {
        @Override
        public String name() {
            return "cache-of-64";
        }

        @Override
        public int maxCachedFutexes() {
            return 64;
        }
    };

    /** 64 - 64/8 = 56 for peers, an eighth of it each. */
    private static final int SHARE = 7;

    private final CoreFixture k = new CoreFixture(CoreOptions.DEFAULT.withFutexPolicy(SIXTY_FOUR));

    FutexPeerShareTest() {
        MachThread t = k.thread(); // the in-process task brings the page in
        k.acquireFromPager(t, k.base);
        assertThat(k.unlock(t, k.base).answered()).isTrue();
        k.env.drain();
    }

    /** A task created for client peer {@code peer}, with the fixture's object mapped. */
    private final class PeerTask {
        final MachTask task;
        final long base;

        PeerTask(String peer) {
            Answer<MachTask> t = new Answer<>();
            k.core.taskCreate("task of " + peer, peer, t);
            task = t.value();
            Answer<VmMapping> m = new Answer<>();
            k.core.vmMap(task.id, "obj", m);
            base = m.value().start();
            k.env.drain();
        }

        MachThread thread() {
            Answer<MachThread> a = new Answer<>();
            k.core.threadCreate(task.id, a);
            return a.value();
        }

        Answer<Acquired> lock(MachThread t, long offset) {
            Answer<Acquired> a = new Answer<>();
            k.core.vmLockFutex(task.id, t.tid, base + offset, -1, a);
            return a;
        }

        /** Locks the futex at {@code offset}: granted by the pager if the kernel asks; the lock's answer. */
        Answer<Acquired> lockGranted(MachThread t, long offset) {
            Answer<Acquired> a = lock(t, offset);
            if (askedFor(k.env.drain()).contains(offset)) {
                k.grant(offset);
                k.env.drain();
            }
            return a;
        }

        Answer<Void> unlock(MachThread t, long offset) {
            Answer<Void> a = new Answer<>();
            k.core.vmUnlockFutex(task.id, t.tid, base + offset, a);
            return a;
        }

        void terminate() {
            Answer<Void> a = new Answer<>();
            k.core.taskTerminate(task.id, "test", a);
            a.value();
        }
    }

    private static List<Long> askedFor(List<KernelToPager> sent) {
        return sent.stream().filter(KernelToPager::hasMemoryObjectLockFutex)
                .map(m -> m.getMemoryObjectLockFutex().getOffset()).toList();
    }

    private static List<Long> released(List<KernelToPager> sent) {
        return sent.stream().filter(KernelToPager::hasMemoryObjectFutexReleased)
                .map(m -> m.getMemoryObjectFutexReleased().getOffset()).toList();
    }

    private FutexShares shares() {
        return k.core.futexes.shares();
    }

    private void assertNoShareViolation() {
        assertThat(k.core.inspect().futexShareViolation()).isNull();
    }

    @Test
    void aHogPeerHoldsItsShareAndOtherPeersAndInProcessTasksStillLock() {
        PeerTask hog = new PeerTask("hog");
        MachThread h = hog.thread();
        int granted = 0;
        KernelError refusal = null;
        for (int i = 1; i <= 40; i++) { // distinct futexes, never unlocked
            Answer<Acquired> a = hog.lockGranted(h, 4L * i);
            if (a.failed()) {
                refusal = a.error();
            } else {
                assertThat(a.value().path()).isNotNull();
                granted++;
            }
        }
        assertThat(granted).as("futexes the hog's thread holds (40 before the share)").isEqualTo(SHARE);
        assertThat(shares().heldBy("hog")).isEqualTo(SHARE);
        assertThat(refusal.errno()).isEqualTo(Errno.EAGAIN);
        assertThat(refusal.message()).contains("client peer hog", "holds 7 futexes on kernel A", "(7)",
                "unlock futexes");

        PeerTask other = new PeerTask("other");
        MachThread o = other.thread();
        for (int i = 100; i < 100 + SHARE; i++) {
            assertThat(other.lockGranted(o, 4L * i).failed()).as("another peer's lock %d", i).isFalse();
        }
        MachThread local = k.thread();
        for (int i = 200; i < 230; i++) { // in-process tasks count to nobody
            var a = k.lock(local, k.base + 4L * i);
            k.grant(4L * i);
            k.env.drain();
            assertThat(a.answered() && !a.failed()).as("in-process lock %d", i).isTrue();
        }
        assertNoShareViolation();
    }

    @Test
    void concurrentLocksOfAPeerCountBeforeTheirGrants() {
        PeerTask hog = new PeerTask("hog");
        List<Answer<Acquired>> locks = new ArrayList<>();
        for (int i = 1; i <= 20; i++) { // 20 threads, each asking for another futex at once
            locks.add(hog.lock(hog.thread(), 4L * i));
        }
        assertThat(askedFor(k.env.drain())).as("lock_futex sent for the hog").hasSize(SHARE);
        assertThat(locks.stream().filter(Answer::failed).count()).isEqualTo(20 - SHARE);
        assertThat(shares().heldBy("hog")).isEqualTo(SHARE);
    }

    @Test
    void idleFutexesOfAPeerAtItsShareGoBackInsteadOfARefusal() {
        PeerTask p = new PeerTask("p");
        MachThread t = p.thread();
        for (int i = 1; i <= SHARE; i++) {
            assertThat(p.lockGranted(t, 4L * i).failed()).isFalse();
            assertThat(p.unlock(t, 4L * i).answered()).isTrue(); // fast path: cached, idle
        }
        k.env.drain();
        Answer<Acquired> next = p.lock(t, 4L * 50);
        List<KernelToPager> sent = k.env.drain();
        assertThat(released(sent)).as("the oldest idle one went back").containsExactly(4L);
        assertThat(askedFor(sent)).containsExactly(4L * 50);
        k.grant(4L * 50);
        assertThat(next.failed()).isFalse();
        assertThat(shares().heldBy("p")).isEqualTo(SHARE);
        assertNoShareViolation();
    }

    @Test
    void chargesFollowTheTaskThatOwnsTheFutexNow() {
        PeerTask a = new PeerTask("a");
        PeerTask b = new PeerTask("b");
        MachThread ta = a.thread();
        MachThread tb = b.thread();
        for (int i = 1; i <= SHARE; i++) {
            assertThat(a.lockGranted(ta, 4L * i).failed()).isFalse();
            assertThat(a.unlock(ta, 4L * i).answered()).isTrue();
            assertThat(b.lockGranted(tb, 4L * i).value().path()).as("cached: b takes it without the pager")
                    .isEqualTo(io.machxp.proto.task.AcquirePath.FAST_PATH);
        }
        assertThat(shares().heldBy("a")).isEqualTo(SHARE);
        for (int i = 1; i <= SHARE; i++) { // each lock at a's share moves one of a's charges to b, the owner
            assertThat(a.lockGranted(ta, 4L * (60 + i)).failed()).as("a's futexes are b's now").isFalse();
            assertThat(shares().heldBy("b")).isEqualTo(i);
        }
        assertThat(shares().heldBy("a")).isEqualTo(SHARE);
        Answer<Acquired> refused = b.lockGranted(tb, 4L * 90);
        assertThat(refused.error().errno()).isEqualTo(Errno.EAGAIN);
        assertThat(refused.error().message()).contains("client peer b", "holds 7 futexes");
        assertNoShareViolation();
    }

    @Test
    void countsGoBackToZeroWhenThreadsAndTasksEnd() {
        PeerTask a = new PeerTask("a");
        PeerTask b = new PeerTask("b");
        MachThread a1 = a.thread();
        MachThread a2 = a.thread();
        MachThread b1 = b.thread();
        for (int i = 1; i <= 3; i++) {
            assertThat(a.lockGranted(a1, 4L * i).failed()).isFalse();
        }
        assertThat(a.lockGranted(a2, 4L * 4).failed()).isFalse();
        Answer<Acquired> waiting = b.lock(b1, 4L * 1); // b waits for a1's futex
        Answer<Acquired> aWaits = a.lock(a2, 4L * 2);
        assertThat(waiting.answered()).isFalse();
        assertThat(shares().heldBy("a")).isEqualTo(4);

        Answer<Void> end = new Answer<>(); // a1 dies: its futexes pass on (OWNER_DIED), b1 gets one
        k.core.threadTerminate(a.task.id, a1.tid, end);
        end.value();
        k.env.advance(0); // the woken waiters take them at their run, at the end of the instant
        assertThat(waiting.value().ownerDied()).isTrue();
        assertThat(aWaits.value().ownerDied()).isTrue();
        assertThat(shares().heldBy("a")).as("a thread's end moves nothing: a's task still holds them").isEqualTo(4);
        assertNoShareViolation();

        a.terminate();
        assertThat(shares().heldBy("a")).isZero();
        assertThat(shares().heldBy("b")).as("the futex b1 owns now counts to b").isEqualTo(1);
        assertNoShareViolation();
        b.terminate();
        assertThat(shares().heldBy("b")).isZero();
        assertThat(k.core.inspect().futexesOfPeers()).isZero();
        assertNoShareViolation();
    }

    @Test
    void aTrylockAnsweredBusyAndARelinquishGiveTheirFutexBack() {
        PeerTask p = new PeerTask("p");
        MachThread t = p.thread();
        Answer<Acquired> tryAnswer = new Answer<>();
        k.core.vmTrylockFutex(p.task.id, t.tid, p.base + 8, tryAnswer);
        assertThat(k.env.drain().get(0).getMemoryObjectLockFutex().getTry()).isTrue();
        assertThat(shares().heldBy("p")).as("asked for: counted").isEqualTo(1);
        k.busy(8);
        assertThat(tryAnswer.answered()).isTrue();
        assertThat(shares().heldBy("p")).isZero();

        assertThat(p.lockGranted(t, 12).failed()).isFalse();
        assertThat(p.unlock(t, 12).answered()).isTrue();
        k.relinquish(12);
        assertThat(released(k.env.drain())).containsExactly(12L);
        assertThat(FutexWord.isAbsent(k.futex(k.base + 12).state())).isTrue();
        assertThat(shares().heldBy("p")).isZero();
        assertNoShareViolation();
    }
}
