package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.chaos.History.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The checker on written histories of real runs with the pager's declarations of death
 * ({@code DECLARED}) and the kernels' own stops and session opens ({@code KERNEL}), as {@code
 * LeaseLog} enters them from the logs: OWNER_DIED after the declaration of a kernel that had
 * stopped is allowed, once; a declaration of a kernel still running, a death of an owner passed on
 * without OWNER_DIED, and a fenced owner that acts are caught.
 */
class DeclaredDeadTest {
    private static final long MS = 1_000_000;
    private final History h = new History();

    private void acquire(long ms, String thread, int futex, long token, boolean ownerDied) {
        h.add(ms * MS, Kind.ACQUIRE, thread, futex, token, ownerDied, "");
    }

    private void release(long ms, String thread, int futex) {
        h.add(ms * MS, Kind.RELEASE, thread, futex, 0, false, "");
    }

    private void kernel(long ms, String kernel, String detail) {
        h.add(ms * MS, Kind.KERNEL, kernel, -1, 0, false, detail);
    }

    private void declared(long ms, String kernel) {
        h.add(ms * MS, Kind.DECLARED, kernel, -1, 0, false, "the pager declared it dead (by pager b)");
    }

    private List<String> violations() {
        return HistoryChecker.check(h).violations();
    }

    /** Kernel a opened its session, a/1 held f0 and let it go: a may hold it cached. */
    private void heldAndReleased() {
        kernel(0, "a", History.SESSION_OPEN + " (its log)");
        acquire(500, "a/1", 0, 5, false);
        release(600, "a/1", 0);
    }

    @Test
    void ownerDiedAfterTheDeclarationOfAKernelThatHadStoppedIsAllowed() {
        heldAndReleased();
        kernel(2_000, "a", History.STOPPED + " (its log)");
        declared(5_000, "a");
        acquire(5_100, "b/1", 0, 6, true);
        assertThat(violations()).isEmpty();
    }

    @Test
    void ownerDiedBeforeTheDeclarationIsStillAViolation() {
        heldAndReleased();
        kernel(2_000, "a", History.STOPPED + " (its log)");
        acquire(4_000, "b/1", 0, 6, true); // planted: the pager told a death before it declared one
        declared(5_000, "a");
        assertThat(violations()).singleElement().asString().contains("with EOWNERDEAD, but no owner died");
    }

    @Test
    void aDeclarationAllowsOneOwnerDiedPerFutex() {
        heldAndReleased();
        kernel(2_000, "a", History.STOPPED + " (its log)");
        declared(5_000, "a");
        acquire(5_100, "b/1", 0, 6, true);
        release(5_200, "b/1", 0);
        acquire(5_300, "b/1", 0, 6, true); // planted: told again, with no death since
        assertThat(violations()).singleElement().asString().contains("#7 ").contains("with EOWNERDEAD, but no owner died");
    }

    @Test
    void theDeclarationOfAKernelStillRunningIsCaught() {
        heldAndReleased();
        declared(5_000, "a"); // planted: a's log says nothing of a lease lost
        acquire(5_100, "b/1", 0, 6, true);
        assertThat(violations()).singleElement().asString()
                .contains("the pager declared kernel a dead, but the kernel had not stopped");
    }

    @Test
    void aKernelRunningAgainInANewSessionMustStopAgainBeforeItIsDeclaredDead() {
        heldAndReleased();
        kernel(2_000, "a", History.STOPPED + " (its log)");
        declared(5_000, "a");
        kernel(5_500, "a", History.SESSION_OPEN + " (its log)");
        declared(9_000, "a"); // planted: the new session declared dead while it runs
        assertThat(violations()).singleElement().asString()
                .contains("the pager declared kernel a dead, but the kernel had not stopped");
    }

    @Test
    void aKernelTheHarnessStoppedMayBeDeclaredDead() {
        heldAndReleased();
        kernel(2_000, "a", "lease-lost partition");
        declared(5_000, "a");
        acquire(5_100, "b/1", 0, 6, true);
        assertThat(violations()).isEmpty();
    }

    @Test
    void anOwnerOfTheDeclaredKernelDiedHoldingItsFutex() {
        kernel(0, "a", History.SESSION_OPEN + " (its log)");
        acquire(500, "a/1", 0, 5, false);
        kernel(2_000, "a", History.STOPPED + " (its log)");
        declared(5_000, "a");
        acquire(5_100, "b/1", 0, 6, false); // planted: the death not passed on
        assertThat(violations()).singleElement().asString()
                .contains("without EOWNERDEAD, but an owner died holding it");
    }

    @Test
    void anOwnerFencedOffByTheDeclarationThatActsIsCaught() {
        kernel(0, "a", History.SESSION_OPEN + " (its log)");
        acquire(500, "a/1", 0, 5, false);
        kernel(2_000, "a", History.STOPPED + " (its log)");
        declared(5_000, "a");
        h.add(5_050 * MS, Kind.READ, "a/1", 0, 0, false, ""); // planted: a stopped kernel served a read
        assertThat(violations()).singleElement().asString().contains("a/1 read the counter of f0, which nobody owned");
    }

    private void call(long ms, String thread, String call) {
        h.add(ms * MS, Kind.CALL, thread, -1, 0, false, call);
    }

    private void answer(long ms, String thread, String answer) {
        h.add(ms * MS, Kind.ANSWER, thread, -1, 0, false, answer);
    }

    /** rv60 MED-1: a's trylock asked the pager, which may grant f0 to a after b's release; a caches it idle. */
    @Test
    void ownerDiedOnAFutexTheDeclaredKernelOnlyTriedToLockIsAllowed() {
        kernel(0, "a", History.SESSION_OPEN + " (its log)");
        kernel(0, "b", History.SESSION_OPEN + " (its log)");
        acquire(100, "b/1", 0, 5, false);
        call(200, "a/1", "trylock f0");
        answer(300, "a/1", "EBUSY");
        release(400, "b/1", 0);
        kernel(2_000, "a", History.STOPPED + " (its log)");
        declared(5_000, "a");
        acquire(5_100, "b/1", 0, 6, true);
        assertThat(violations()).isEmpty();
    }

    /**
     * rv60 MED-1: a/1 waits for f0 when a's lease runs out (it is never answered); b/1's unlock
     * grants f0 to kernel a, whose request is still queued at the pager; the declaration passes it on.
     */
    @Test
    void ownerDiedOnAFutexGrantedToAWaiterOfTheStoppedKernelIsAllowed() {
        kernel(0, "a", History.SESSION_OPEN + " (its log)");
        kernel(0, "b", History.SESSION_OPEN + " (its log)");
        acquire(100, "b/1", 0, 5, false);
        call(200, "a/1", "lock f0");
        kernel(1_000, "a", History.STOPPED + " (its log)");
        release(1_100, "b/1", 0);
        call(1_100, "b/1", "unlock f0");
        answer(1_200, "b/1", "OK");
        declared(5_000, "a");
        call(5_100, "b/1", "lock f0");
        acquire(5_100, "b/1", 0, 7, true);
        answer(5_100, "b/1", "OK");
        assertThat(violations()).isEmpty();
    }

    /** a asked for f0 before b's last acquisition and was answered: the grant went to b, not a. */
    @Test
    void aKernelThatAskedBeforeTheLastAcquisitionAllowsNoOwnerDied() {
        kernel(0, "a", History.SESSION_OPEN + " (its log)");
        kernel(0, "b", History.SESSION_OPEN + " (its log)");
        call(100, "a/1", "trylock f0");
        acquire(150, "a/1", 0, 5, false);
        answer(150, "a/1", "OK");
        release(200, "a/1", 0);
        acquire(300, "b/1", 0, 6, false);
        release(400, "b/1", 0);
        kernel(2_000, "a", History.STOPPED + " (its log)");
        declared(5_000, "a");
        acquire(5_100, "b/1", 0, 7, true); // planted: a neither acquired f0 last nor asked for it since
        assertThat(violations()).singleElement().asString().contains("with EOWNERDEAD, but no owner died");
    }
}
