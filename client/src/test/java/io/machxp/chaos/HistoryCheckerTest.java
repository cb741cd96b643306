package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.chaos.History.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checker itself, on histories written by hand: each rule catches what it is there for. */
class HistoryCheckerTest {
    private final History h = new History();

    private void acquire(long time, String thread, int futex, long token, boolean ownerDied) {
        h.add(time, Kind.ACQUIRE, thread, futex, token, ownerDied, "");
    }

    private List<String> violations() {
        return HistoryChecker.check(h).violations();
    }

    private List<String> stuck() {
        return HistoryChecker.check(h).stuck();
    }

    @Test
    void aCorrectHistoryPasses() {
        acquire(1, "a/1", 0, 5, false);
        h.add(2, Kind.READ, "a/1", 0, 0, false, "");
        h.add(3, Kind.WRITE, "a/1", 0, 1, false, "");
        h.add(4, Kind.RELEASE, "a/1", 0, 0, false, "");
        acquire(5, "b/1", 0, 6, false);
        h.add(6, Kind.READ, "b/1", 0, 1, false, "");
        assertThat(HistoryChecker.check(h).passed()).isTrue();
    }

    /**
     * A kernel that may have held the futex died: the next owner may be told (and then read older
     * data) or not (and then must read the last write); only that next acquisition.
     */
    @Test
    void aMaybeDeathAllowsOwnerDiedOnceAndOlderDataOnlyWhenTold() {
        acquire(1, "a/1", 0, 5, false);
        h.add(2, Kind.WRITE, "a/1", 0, 7, false, "");
        h.add(3, Kind.RELEASE, "a/1", 0, 0, false, "");
        h.add(4, Kind.MAY_HAVE_DIED, "a", 0, 0, false, "kill");
        acquire(5, "b/1", 0, 6, true);
        h.add(6, Kind.READ, "b/1", 0, 3, false, "");
        h.add(7, Kind.RELEASE, "b/1", 0, 0, false, "");
        acquire(8, "b/1", 0, 6, true);
        assertThat(violations()).singleElement().asString()
                .contains("#7").contains("with EOWNERDEAD, but no owner died");
    }

    /**
     * A waiter an unlock handed the futex to may die before it runs (its woken heir): it dies
     * holding it, as on Linux, and the next owner is told OWNER_DIED, reading the last write all
     * the same (the heir never ran under it). A waiter that died with no lock of the futex
     * pending allows nothing (chaos --mix contended, seeds 10, 13, 45, 72, 81 before).
     */
    /** a/1 writes 7 and unlocks while b/1 waits; b/1's task dies; c/1 acquires with OWNER_DIED. */
    private void aWaiterDiesAfterTheUnlockAndTheNextOwnerIsToldOwnerDied() {
        acquire(1, "a/1", 0, 5, false);
        h.add(2, Kind.WRITE, "a/1", 0, 7, false, "");
        h.add(3, Kind.CALL, "b/1", -1, -1, false, "lock f0");
        h.add(4, Kind.RELEASE, "a/1", 0, 0, false, "");
        h.add(5, Kind.KERNEL, "b/1", -1, 0, false, "worker gone: task died");
        acquire(6, "c/1", 0, 6, true);
    }

    @Test
    void aWaiterThatDiedMayHaveBeenTheHeirButLeftTheDataAsWritten() {
        aWaiterDiesAfterTheUnlockAndTheNextOwnerIsToldOwnerDied();
        h.add(7, Kind.READ, "c/1", 0, 7, false, "");
        h.add(8, Kind.RELEASE, "c/1", 0, 0, false, "");
        assertThat(violations()).isEmpty();

        h.add(9, Kind.CALL, "b/2", -1, -1, false, "sleep");
        h.add(10, Kind.KERNEL, "b/2", -1, 0, false, "worker gone: task died");
        acquire(11, "c/1", 0, 7, true);
        h.add(12, Kind.READ, "c/1", 0, 7, false, "");
        h.add(13, Kind.RELEASE, "c/1", 0, 0, false, "");
        assertThat(violations()).singleElement().asString().contains("#10").contains("with EOWNERDEAD, but no owner died");
    }

    @Test
    void aWaiterThatDiedDoesNotAllowOlderData() {
        aWaiterDiesAfterTheUnlockAndTheNextOwnerIsToldOwnerDied();
        h.add(7, Kind.READ, "c/1", 0, 3, false, "");
        assertThat(violations()).singleElement().asString().contains("a write was lost");
    }

    /**
     * An unlock heir exists only between an unlock and the heir's run: a waiter that died while a
     * living owner still held the futex, before any unlock, cannot have died holding it, so the
     * next owner's OWNER_DIED is unexplained (heir-late10 review, MED-2).
     */
    @Test
    void aWaiterThatDiedWhileTheOwnerHeldOnExcusesNothing() {
        acquire(1, "a/1", 0, 5, false);
        h.add(2, Kind.WRITE, "a/1", 0, 7, false, "");
        h.add(3, Kind.CALL, "b/1", -1, -1, false, "lock f0");
        h.add(4, Kind.KERNEL, "b/1", -1, 0, false, "worker gone: task died");
        h.add(5, Kind.RELEASE, "a/1", 0, 0, false, "");
        acquire(6, "c/1", 0, 6, true);
        h.add(7, Kind.READ, "c/1", 0, 7, false, "");
        h.add(8, Kind.RELEASE, "c/1", 0, 0, false, "");
        assertThat(violations()).singleElement().asString().contains("#5")
                .contains("with EOWNERDEAD, but no owner died");
    }

    /** The owner's unlock call under way counts as its release begun, whenever the release is recorded. */
    @Test
    void aWaiterThatDiedDuringTheOwnersUnlockMayHaveBeenTheHeir() {
        acquire(1, "a/1", 0, 5, false);
        h.add(2, Kind.WRITE, "a/1", 0, 7, false, "");
        h.add(3, Kind.CALL, "b/1", -1, -1, false, "lock f0");
        h.add(4, Kind.CALL, "a/1", -1, -1, false, "unlock f0");
        h.add(5, Kind.KERNEL, "b/1", -1, 0, false, "worker gone: task died");
        h.add(6, Kind.RELEASE, "a/1", 0, 0, false, "");
        h.add(7, Kind.ANSWER, "a/1", -1, 0, false, "OK");
        acquire(8, "c/1", 0, 6, true);
        h.add(9, Kind.READ, "c/1", 0, 7, false, "");
        assertThat(violations()).isEmpty();
    }

    /**
     * The heir an unlock hands the futex to is its kernel's top waiter: a waiter that dies while a
     * living waiter of its kernel above it has waited since before the release began was no heir,
     * and excuses nothing (heir11 review, LOW-2). One above it that came only after the release,
     * or waits on another kernel, or at the same priority, leaves the excuse.
     */
    private void waitersThenTheLowerDies(String higher, int priority, boolean higherAfterRelease) {
        h.add(0, Kind.KERNEL, higher, -1, priority, false, "worker, priority " + priority);
        h.add(0, Kind.KERNEL, "b/1", -1, 20, false, "worker, priority 20");
        acquire(1, "a/1", 0, 5, false);
        h.add(2, Kind.WRITE, "a/1", 0, 7, false, "");
        if (!higherAfterRelease) {
            h.add(3, Kind.CALL, higher, -1, -1, false, "lock f0");
        }
        h.add(3, Kind.CALL, "b/1", -1, -1, false, "lock f0");
        h.add(4, Kind.RELEASE, "a/1", 0, 0, false, "");
        if (higherAfterRelease) {
            h.add(4, Kind.CALL, higher, -1, -1, false, "lock f0");
        }
        h.add(5, Kind.KERNEL, "b/1", -1, 0, false, "worker gone: task died");
        acquire(6, "c/1", 0, 6, true);
        h.add(7, Kind.READ, "c/1", 0, 7, false, "");
    }

    @Test
    void aWaiterBelowAnEarlierHigherWaiterOfItsKernelWasNoHeir() {
        waitersThenTheLowerDies("b/2", 60, false);
        assertThat(violations()).singleElement().asString().contains("#8 ")
                .contains("c/1 acquired f0 with EOWNERDEAD, but no owner died");
    }

    @Test
    void aHigherWaiterThatCameAfterTheReleaseLeavesTheExcuse() {
        waitersThenTheLowerDies("b/2", 60, true);
        assertThat(violations()).isEmpty();
    }

    @Test
    void aHigherWaiterOnAnotherKernelLeavesTheExcuse() {
        waitersThenTheLowerDies("d/1", 60, false);
        assertThat(violations()).as("another kernel").isEmpty();
    }

    @Test
    void anEqualWaiterLeavesTheExcuse() {
        waitersThenTheLowerDies("b/2", 20, false);
        assertThat(violations()).isEmpty();
    }

    /**
     * A kernel that stopped (cut off, paused) may still be granted the futex, for a request it
     * made before, until the pager declares it dead: the futex then goes on with OWNER_DIED even
     * after another kernel acquired it meanwhile (chaos --real under load: the pager declared a
     * paused kernel dead 3 s after the pause, after another acquisition). Not after the window.
     */
    @Test
    void aStoppedKernelMayBeGrantedTheFutexUntilTheWindowItsFaultGives() {
        h.add(1, Kind.MAY_HAVE_DIED, "c", 0, 100, false, "pause");
        acquire(2, "b/1", 0, 5, false);
        h.add(3, Kind.RELEASE, "b/1", 0, 0, false, "");  // the pager grants it to c, paused
        acquire(50, "b/1", 0, 7, true);                   // c declared dead: OWNER_DIED
        h.add(51, Kind.RELEASE, "b/1", 0, 0, false, "");
        acquire(150, "b/1", 0, 8, true);                  // the last acquisition was in the window
        h.add(151, Kind.RELEASE, "b/1", 0, 0, false, "");
        acquire(160, "b/1", 0, 9, true);                  // after the window: no owner died
        assertThat(violations()).singleElement().asString().contains("#7")
                .contains("with EOWNERDEAD, but no owner died");
    }

    @Test
    void aMaybeDeathNotToldStillForbidsOlderData() {
        acquire(1, "a/1", 0, 5, false);
        h.add(2, Kind.WRITE, "a/1", 0, 7, false, "");
        h.add(3, Kind.RELEASE, "a/1", 0, 0, false, "");
        h.add(4, Kind.MAY_HAVE_DIED, "a", 0, 0, false, "pager restart");
        acquire(5, "b/1", 0, 6, false);
        h.add(6, Kind.READ, "b/1", 0, 3, false, "");
        assertThat(violations()).singleElement().asString().contains("a write was lost");
    }

    @Test
    void twoOwnersAtOnce() {
        acquire(1, "a/1", 0, 5, false);
        acquire(2, "b/1", 0, 6, false);
        assertThat(violations()).singleElement().asString().contains("two owners of f0");
    }

    @Test
    void aLostWriteWithoutOwnerDied() {
        acquire(1, "a/1", 0, 5, false);
        h.add(2, Kind.WRITE, "a/1", 0, 7, false, "");
        h.add(3, Kind.RELEASE, "a/1", 0, 0, false, "");
        acquire(4, "b/1", 0, 6, false);
        h.add(5, Kind.READ, "b/1", 0, 6, false, "");
        assertThat(violations()).singleElement().asString().contains("a write was lost");
    }

    @Test
    void anOlderValueIsAllowedOnlyAfterAnOwnerDied() {
        acquire(1, "a/1", 0, 5, false);
        h.add(2, Kind.WRITE, "a/1", 0, 7, false, "");
        h.add(3, Kind.DEAD, "a", -1, 100, true, "crash");
        acquire(5, "b/1", 0, 6, true);
        h.add(6, Kind.READ, "b/1", 0, 6, false, "");
        assertThat(HistoryChecker.check(h).passed()).isTrue();
    }

    @Test
    void ownerDiedMustBeReportedExactly() {
        acquire(1, "a/1", 0, 5, true);
        h.add(2, Kind.OWNER_GONE, "a/1", 0, 0, true, "task died");
        acquire(3, "a/2", 0, 5, false);
        assertThat(violations()).hasSize(2)
                .anySatisfy(v -> assertThat(v).contains("with EOWNERDEAD, but no owner died"))
                .anySatisfy(v -> assertThat(v).contains("without EOWNERDEAD, but an owner died"));
    }

    @Test
    void aDeadKernelThatMayHaveHeldTheFutexAllowsOwnerDiedButDoesNotRequireIt() {
        h.add(1, Kind.CALL, "a/1", -1, -1, false, "lock f0");
        acquire(2, "a/1", 0, 5, false);
        h.add(3, Kind.ANSWER, "a/1", -1, 0, false, "OK");
        h.add(4, Kind.RELEASE, "a/1", 0, 0, false, "");
        h.add(5, Kind.DEAD, "a", -1, 50, true, "crash"); // it may have kept f0 cached, with writes
        acquire(6, "b/1", 0, 6, true);
        h.add(7, Kind.RELEASE, "b/1", 0, 0, false, "");
        acquire(8, "c/1", 0, 7, false); // the pager had already passed on the death: fine
        assertThat(HistoryChecker.check(h).passed()).isTrue();
    }

    @Test
    void aDoomedKernelsOwnerIsFencedOffByTheNextAcquisitionAndMayNotActAfterIt() {
        h.add(1, Kind.CALL, "a/1", -1, -1, false, "lock f0");
        acquire(2, "a/1", 0, 5, false);
        h.add(2, Kind.ANSWER, "a/1", -1, 0, false, "OK");
        h.add(3, Kind.DOOMED, "a", -1, 40, false, "partition");
        acquire(20, "b/1", 0, 6, true); // the pager declared a dead: fine, with OWNER_DIED
        h.add(21, Kind.CALL, "a/1", -1, -1, false, "write f0");
        h.add(22, Kind.ANSWER, "a/1", -1, 0, false, "OK");
        h.add(22, Kind.WRITE, "a/1", 0, 1, false, "");
        assertThat(violations()).anySatisfy(v -> assertThat(v).contains("a stale owner acted"))
                .anySatisfy(v -> assertThat(v).contains("a/1 wrote the counter of f0, which b/1 owned"));
    }

    @Test
    void nothingSucceedsAfterTheTimeAKernelMustHaveStoppedBy() {
        h.add(1, Kind.DOOMED, "a", -1, 40, false, "pause");
        h.add(2, Kind.CALL, "a/1", -1, -1, false, "lock f0");
        h.add(3, Kind.ANSWER, "a/1", -1, 0, false, "EIO"); // allowed: it may stop early
        h.add(10, Kind.DEAD, "a", -1, 40, false, "pause longer than the lease");
        h.add(11, Kind.CALL, "a/2", -1, -1, false, "read f1");
        h.add(30, Kind.ANSWER, "a/2", -1, 0, false, "OK");
        assertThat(violations()).singleElement().asString()
                .contains("a/2's read f1 succeeded after the time its kernel must have stopped by");
    }

    @Test
    void tokensMustGrowWhenTheFutexMovesToAnotherKernel() {
        acquire(1, "a/1", 0, 5, false);
        h.add(2, Kind.RELEASE, "a/1", 0, 0, false, "");
        acquire(3, "a/2", 0, 5, false);   // same kernel, same grant: fine
        h.add(4, Kind.RELEASE, "a/2", 0, 0, false, "");
        acquire(5, "b/1", 0, 5, false);   // another kernel, the same token: not fine
        assertThat(violations()).singleElement().asString().contains("fencing token 5");
    }

    @Test
    void eioOnlyFromAKernelTheHarnessDoomed() {
        h.add(3, Kind.CALL, "c/1", -1, -1, false, "read f0");
        h.add(4, Kind.ANSWER, "c/1", -1, 0, false, "EIO");
        assertThat(violations()).singleElement().asString()
                .contains("c/1 got EIO although the harness injected no fault its kernel cannot survive");
    }

    @Test
    void everyCallIsAnsweredInTheQuietPeriodUnlessItsKernelWasKilled() {
        h.add(1, Kind.CALL, "a/1", -1, -1, false, "lock f0");
        h.add(1, Kind.CALL, "b/1", -1, -1, false, "lock f0");
        h.add(2, Kind.DEAD, "b", -1, 10, true, "crash");
        h.add(5, Kind.QUIET, "", -1, 100, false, "");
        h.add(6, Kind.CALL, "c/1", -1, 20, false, "lock f1");
        h.add(30, Kind.ANSWER, "c/1", -1, 0, false, "ETIMEDOUT"); // its timeout is shorter than the quiet period
        h.add(40, Kind.CALL, "c/1", -1, -1, false, "lock f1");
        h.add(200, Kind.ANSWER, "c/1", -1, 0, false, "OK");
        h.add(210, Kind.CALL, "d/1", -1, -1, false, "lock f2");
        h.add(220, Kind.ANSWER, "d/1", -1, 0, false, "ETIMEDOUT");
        assertThat(violations()).isEmpty();
        assertThat(stuck()).hasSize(3)
                .anySatisfy(v -> assertThat(v).contains("a/1's lock f0 (started at 0.000 ms) was never answered"))
                .anySatisfy(v -> assertThat(v).contains("c/1's lock f1 (started at 0.000 ms) was answered only at"))
                .anySatisfy(v -> assertThat(v).contains("d/1's lock f2").contains("timed out in the quiet period"));
    }

    @Test
    void aFutexLostInAPagerRestartMayComeWithoutOwnerDied() {
        h.add(1, Kind.CALL, "a/1", -1, -1, false, "lock f0");
        acquire(2, "a/1", 0, 5, false);
        h.add(2, Kind.ANSWER, "a/1", -1, 0, false, "OK");
        h.add(3, Kind.WRITE, "a/1", 0, 1, false, "");
        h.add(4, Kind.RELEASE, "a/1", 0, 0, false, "");
        h.add(5, Kind.PAGER, "pager", -1, 0, false, "crash, down 1 ms");
        h.add(6, Kind.DEAD, "a", -1, 50, true, "crash"); // before it could reclaim
        h.add(30, Kind.PAGER, "pager", -1, 0, false, "grace-end");
        acquire(31, "b/1", 0, 1L << 32 | 1, false);
        h.add(32, Kind.READ, "b/1", 0, 0, false, "");
        assertThat(HistoryChecker.check(h).passed()).isTrue();
    }

    @Test
    void aPriorityThatDoesNotMatchIsAViolation() {
        h.add(1, Kind.PRIORITY, "a/1", 0, 1, false, "the harness expects 60 (its base 1, 1 waiting)");
        assertThat(violations()).singleElement().asString().contains("priority inheritance: a/1 owns f0");
    }

    /**
     * A worker holds at most one futex and writes no futex word: EDEADLK on its lock or trylock,
     * and ESRCH while it lives, say the word names a stale TID (contended seed 962: a kernel given
     * a dead kernel's id again, its thread named by that kernel's TID left in a stored word).
     * ESRCH once the harness recorded the worker gone (its task died), or to a worker that makes
     * no further call (the standard mix records no "worker gone"), is the kernel's answer to a dead
     * thread's call, and allowed.
     */
    @Test
    void edeadlkOrEsrchOfALiveWorkersLockIsAStaleTid() {
        h.add(1, Kind.CALL, "k3/1", -1, -1, false, "trylock f2");
        h.add(2, Kind.ANSWER, "k3/1", -1, 0, false, "ESRCH");
        h.add(2, Kind.CALL, "k3/1", -1, -1, false, "sleep"); // it lives on
        h.add(3, Kind.ANSWER, "k3/1", -1, 0, false, "OK");
        h.add(3, Kind.CALL, "k2/1", -1, -1, false, "lock f1"); // its task dies: no further call
        h.add(4, Kind.ANSWER, "k2/1", -1, 0, false, "ESRCH");
        h.add(3, Kind.CALL, "k3/2", -1, -1, false, "lock f2");
        h.add(4, Kind.ANSWER, "k3/2", -1, 0, false, "EDEADLK");
        h.add(5, Kind.CALL, "k3/3", -1, -1, false, "trylock f2");
        h.add(6, Kind.ANSWER, "k3/3", -1, 0, false, "EDEADLK");
        h.add(7, Kind.CALL, "k1/1", -1, -1, false, "lock f3");
        h.add(8, Kind.KERNEL, "k1/1", -1, 0, false, "worker gone: task died");
        h.add(8, Kind.ANSWER, "k1/1", -1, 0, false, "ESRCH");
        assertThat(violations()).hasSize(3).satisfiesExactly(
                v -> assertThat(v).contains("#1 ").contains("k3/1's trylock f2 answered ESRCH and the worker lived on"),
                v -> assertThat(v).contains("#7 ").contains("k3/2's lock f2 answered EDEADLK"),
                v -> assertThat(v).contains("#9 ").contains("k3/3's trylock f2 answered EDEADLK"));
    }

    /**
     * The quiet lock is every live worker's last call: an ESRCH to it is judged at the run's end
     * (late12 LOW-2), unless the harness counted the worker gone or its kernel failed. One made
     * before the quiet period that no call follows stays excused (a task death the standard mix
     * does not record).
     */
    @Test
    void anEsrchOfTheLastQuietLockIsJudgedAtTheEnd() {
        h.add(1, Kind.CALL, "k4/1", -1, -1, false, "lock f1");
        h.add(2, Kind.ANSWER, "k4/1", -1, 0, false, "ESRCH"); // before the quiet period: its task may have died
        h.add(10, Kind.QUIET, "", -1, 1000, false, "");
        h.add(11, Kind.CALL, "k3/1", -1, -1, false, "lock f2");
        h.add(12, Kind.ANSWER, "k3/1", -1, 0, false, "ESRCH");
        h.add(11, Kind.CALL, "k2/1", -1, -1, false, "lock f2");
        h.add(12, Kind.DEAD, "k2", -1, 12, true, "crash");
        h.add(13, Kind.ANSWER, "k2/1", -1, 0, false, "ESRCH");
        h.add(11, Kind.CALL, "k1/1", -1, -1, false, "lock f3");
        h.add(12, Kind.KERNEL, "k1/1", -1, 0, false, "worker gone: task died");
        h.add(13, Kind.ANSWER, "k1/1", -1, 0, false, "ESRCH");
        assertThat(violations()).singleElement().asString().contains("#4 ")
                .contains("k3/1's lock f2 answered ESRCH and the worker, whose task did not die, made it in the quiet period");
    }

    /**
     * A worker goes on after its unlock failed (WorkerLoop.release), and the word may still name
     * it: EDEADLK on its next lock of that futex is allowed until someone acquires it; not on
     * another futex, nor after (late12 LOW-2).
     */
    @Test
    void edeadlkAfterAFailedUnlockOfTheSameFutexIsAllowed() {
        acquire(1, "k3/1", 2, 5, false);
        h.add(2, Kind.RELEASE, "k3/1", 2, 0, false, "");
        h.add(3, Kind.CALL, "k3/1", -1, -1, false, "unlock f2");
        h.add(4, Kind.ANSWER, "k3/1", -1, 0, false, "EPERM");
        h.add(5, Kind.CALL, "k3/1", -1, -1, false, "lock f2");
        h.add(6, Kind.ANSWER, "k3/1", -1, 0, false, "EDEADLK");
        h.add(7, Kind.CALL, "k3/1", -1, -1, false, "trylock f1");
        h.add(8, Kind.ANSWER, "k3/1", -1, 0, false, "EDEADLK");
        acquire(9, "k2/1", 2, 6, false);
        h.add(10, Kind.RELEASE, "k2/1", 2, 0, false, "");
        h.add(11, Kind.CALL, "k3/1", -1, -1, false, "lock f2");
        h.add(12, Kind.ANSWER, "k3/1", -1, 0, false, "EDEADLK");
        assertThat(violations()).hasSize(2).satisfiesExactly(
                v -> assertThat(v).contains("#7 ").contains("k3/1's trylock f1 answered EDEADLK"),
                v -> assertThat(v).contains("#11 ").contains("k3/1's lock f2 answered EDEADLK"));
    }

    /**
     * A failed unlock's excuse is the worker's for that futex only: an OK unlock of another futex
     * keeps it, and so does a second failed unlock of another futex (perfretry review, MED-1).
     */
    @Test
    void aFailedUnlocksExcuseOutlivesAnOkUnlockOfAnotherFutex() {
        failUnlockThenUnlockF1("OK");
        assertThat(violations()).as("f2's word may still name k3/1: nobody acquired f2").isEmpty();
    }

    @Test
    void twoFailedUnlocksOfTwoFutexesAreBothExcused() {
        failUnlockThenUnlockF1("EPERM");
        h.add(12, Kind.CALL, "k3/1", -1, -1, false, "lock f1");
        h.add(13, Kind.ANSWER, "k3/1", -1, 0, false, "EDEADLK");
        assertThat(violations()).isEmpty();
    }

    @Test
    void anOkUnlockOfTheSameFutexEndsItsExcuse() {
        failUnlockThenUnlockF1("OK");
        acquire(12, "k3/1", 1, 8, false);
        h.add(13, Kind.RELEASE, "k3/1", 1, 0, false, "");
        h.add(14, Kind.CALL, "k3/1", -1, -1, false, "unlock f1");
        h.add(15, Kind.ANSWER, "k3/1", -1, 0, false, "OK");
        h.add(16, Kind.CALL, "k3/1", -1, -1, false, "lock f1");
        h.add(17, Kind.ANSWER, "k3/1", -1, 0, false, "EDEADLK");
        assertThat(violations()).singleElement().asString().contains("k3/1's lock f1 answered EDEADLK");
    }

    /** k3/1's unlock f2 answers EPERM; it locks f1 and its unlock f1 answers {@code f1Unlock}; then lock f2: EDEADLK. */
    private void failUnlockThenUnlockF1(String f1Unlock) {
        acquire(1, "k3/1", 2, 5, false);
        h.add(2, Kind.RELEASE, "k3/1", 2, 0, false, "");
        h.add(3, Kind.CALL, "k3/1", -1, -1, false, "unlock f2");
        h.add(4, Kind.ANSWER, "k3/1", -1, 0, false, "EPERM");
        h.add(5, Kind.CALL, "k3/1", -1, -1, false, "lock f1");
        h.add(6, Kind.ANSWER, "k3/1", -1, 0, false, "OK");
        acquire(6, "k3/1", 1, 7, false);
        h.add(7, Kind.RELEASE, "k3/1", 1, 0, false, "");
        h.add(8, Kind.CALL, "k3/1", -1, -1, false, "unlock f1");
        h.add(9, Kind.ANSWER, "k3/1", -1, 0, false, f1Unlock);
        h.add(10, Kind.CALL, "k3/1", -1, -1, false, "lock f2");
        h.add(11, Kind.ANSWER, "k3/1", -1, 0, false, "EDEADLK");
    }
}
