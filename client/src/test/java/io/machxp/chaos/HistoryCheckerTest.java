package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.chaos.History.Kind;
import org.junit.jupiter.api.Test;

/** The checker itself, on histories written by hand: each rule catches what it is there for. */
class HistoryCheckerTest {
    private final History h = new History();

    private void acquire(long time, String thread, int futex, long token, boolean ownerDied) {
        h.add(time, Kind.ACQUIRE, thread, futex, token, ownerDied, "");
    }

    @Test
    void aCorrectHistoryPasses() {
        acquire(1, "a/1", 0, 5, false);
        h.add(2, Kind.READ, "a/1", 0, 0, false, "");
        h.add(3, Kind.WRITE, "a/1", 0, 1, false, "");
        h.add(4, Kind.RELEASE, "a/1", 0, 0, false, "");
        acquire(5, "b/1", 0, 6, false);
        h.add(6, Kind.READ, "b/1", 0, 1, false, "");
        assertThat(HistoryChecker.check(h)).isEmpty();
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
        assertThat(HistoryChecker.check(h)).singleElement().asString()
                .contains("#7").contains("with EOWNERDEAD, but no owner died");
    }

    @Test
    void aMaybeDeathNotToldStillForbidsOlderData() {
        acquire(1, "a/1", 0, 5, false);
        h.add(2, Kind.WRITE, "a/1", 0, 7, false, "");
        h.add(3, Kind.RELEASE, "a/1", 0, 0, false, "");
        h.add(4, Kind.MAY_HAVE_DIED, "a", 0, 0, false, "pager restart");
        acquire(5, "b/1", 0, 6, false);
        h.add(6, Kind.READ, "b/1", 0, 3, false, "");
        assertThat(HistoryChecker.check(h)).singleElement().asString().contains("a write was lost");
    }

    @Test
    void twoOwnersAtOnce() {
        acquire(1, "a/1", 0, 5, false);
        acquire(2, "b/1", 0, 6, false);
        assertThat(HistoryChecker.check(h)).singleElement().asString().contains("two owners of f0");
    }

    @Test
    void aLostWriteWithoutOwnerDied() {
        acquire(1, "a/1", 0, 5, false);
        h.add(2, Kind.WRITE, "a/1", 0, 7, false, "");
        h.add(3, Kind.RELEASE, "a/1", 0, 0, false, "");
        acquire(4, "b/1", 0, 6, false);
        h.add(5, Kind.READ, "b/1", 0, 6, false, "");
        assertThat(HistoryChecker.check(h)).singleElement().asString().contains("a write was lost");
    }

    @Test
    void anOlderValueIsAllowedOnlyAfterAnOwnerDied() {
        acquire(1, "a/1", 0, 5, false);
        h.add(2, Kind.WRITE, "a/1", 0, 7, false, "");
        h.add(3, Kind.KERNEL, "a", -1, 0, false, "crash");
        h.add(3, Kind.OWNER_GONE, "a/1", 0, 0, false, "crash");
        h.add(4, Kind.HOLDER_DECLARED_DEAD, "a", 0, 0, false, "");
        acquire(5, "b/1", 0, 6, true);
        h.add(6, Kind.READ, "b/1", 0, 6, false, "");
        assertThat(HistoryChecker.check(h)).isEmpty();
    }

    @Test
    void ownerDiedMustBeReportedExactly() {
        acquire(1, "a/1", 0, 5, true);
        h.add(2, Kind.OWNER_GONE, "a/1", 0, 0, true, "task died");
        acquire(3, "a/2", 0, 5, false);
        assertThat(HistoryChecker.check(h)).hasSize(2)
                .anySatisfy(v -> assertThat(v).contains("with EOWNERDEAD, but no owner died"))
                .anySatisfy(v -> assertThat(v).contains("without EOWNERDEAD, but an owner died"));
    }

    @Test
    void tokensMustGrowWhenTheFutexMovesToAnotherKernel() {
        acquire(1, "a/1", 0, 5, false);
        h.add(2, Kind.RELEASE, "a/1", 0, 0, false, "");
        acquire(3, "a/2", 0, 5, false);   // same kernel, same grant: fine
        h.add(4, Kind.RELEASE, "a/2", 0, 0, false, "");
        acquire(5, "b/1", 0, 5, false);   // another kernel, the same token: not fine
        assertThat(HistoryChecker.check(h)).singleElement().asString().contains("fencing token 5");
    }

    @Test
    void everyCallIsAnsweredUnlessItsKernelCrashedAndEioOnlyAfterALostLease() {
        h.add(1, Kind.CALL, "a/1", -1, 0, false, "lock f0");
        h.add(1, Kind.CALL, "b/1", -1, 0, false, "lock f0");
        h.add(2, Kind.KERNEL, "b", -1, 0, false, "crash");
        h.add(3, Kind.CALL, "c/1", -1, 0, false, "read f0");
        h.add(4, Kind.ANSWER, "c/1", -1, 0, false, "EIO");
        assertThat(HistoryChecker.check(h)).hasSize(2)
                .anySatisfy(v -> assertThat(v).contains("c/1 got EIO although its kernel still had its lease"))
                .anySatisfy(v -> assertThat(v).contains("a/1's lock f0 was never answered"));
    }
}
