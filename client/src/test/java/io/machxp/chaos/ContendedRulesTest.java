package io.machxp.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.chaos.History.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checker's rules for what the contended mix adds (trylocks, racy accesses), on histories written by hand. */
class ContendedRulesTest {
    private final History h = new History();

    private List<String> violations() {
        return HistoryChecker.check(h).violations();
    }

    private void call(long time, String thread, String what) {
        h.add(time, Kind.CALL, thread, -1, -1, false, what);
    }

    private void answer(long time, String thread, String errno) {
        h.add(time, Kind.ANSWER, thread, -1, 0, false, errno);
    }

    /** A busy trylock acquires nothing; a trylock that succeeds is an acquisition under the same rules as a lock's. */
    @Test
    void aTrylockIsAnAcquisitionOnlyWhenItSucceeds() {
        h.add(1, Kind.ACQUIRE, "a/1", 0, 5, false, "");
        call(2, "b/1", "trylock f0");
        answer(3, "b/1", "EBUSY");
        h.add(4, Kind.RELEASE, "a/1", 0, 0, false, "");
        call(5, "b/1", "trylock f0");
        answer(6, "b/1", "OK");
        h.add(6, Kind.ACQUIRE, "b/1", 0, 6, false, "");
        assertThat(violations()).isEmpty();
        call(7, "c/1", "trylock f0");
        answer(8, "c/1", "OK");
        h.add(8, Kind.ACQUIRE, "c/1", 0, 7, false, "");
        assertThat(violations()).singleElement().asString().contains("two owners of f0");
    }

    /** A kernel that made a trylock asked the pager for the futex: its death allows OWNER_DIED as a locker's does. */
    @Test
    void aTrylockingKernelsDeathAllowsOwnerDied() {
        call(1, "a/1", "trylock f0");
        answer(2, "a/1", "EBUSY");
        h.add(3, Kind.DEAD, "a", -1, 10, true, "crash");
        h.add(4, Kind.ACQUIRE, "b/1", 0, 6, true, "");
        assertThat(violations()).isEmpty();
    }

    @Test
    void onlyATrylockMayBeBusy() {
        call(1, "a/1", "lock f0");
        answer(2, "a/1", "EBUSY");
        assertThat(violations()).singleElement().asString().contains("only a trylock may be busy");
    }

    /** A racy read or write fails only with EIO (checked as any EIO) or, once its worker is gone, ESRCH. */
    @Test
    void aRacyAccessFailsOnlyWithEioOrOnceGoneEsrch() {
        call(1, "a/1", "peek f1");
        answer(2, "a/1", "ESRCH");
        call(3, "b/1", "poke f2");
        h.add(4, Kind.KERNEL, "b/1", -1, 0, false, "worker gone: task died");
        answer(5, "b/1", "ESRCH");
        call(6, "c/1", "poke f2");
        answer(7, "c/1", "EFAULT");
        assertThat(violations()).hasSize(2).satisfiesExactly(
                v -> assertThat(v).contains("#1 ").contains("racy peek f1").contains("ESRCH"),
                v -> assertThat(v).contains("#6 ").contains("racy poke f2").contains("EFAULT"));
    }

    /** A racy read is no read under the futex: its value is never checked, and nobody need own the futex. */
    @Test
    void aRacyReadIsNotALockedRead() {
        h.add(1, Kind.ACQUIRE, "a/1", 0, 5, false, "");
        h.add(2, Kind.WRITE, "a/1", 0, 7, false, "");
        call(3, "b/1", "peek f0");
        answer(4, "b/1", "OK");
        assertThat(violations()).isEmpty();
    }

    /** A compute, like a sleep, only passes time: a kernel past its lease may still answer it. */
    @Test
    void aComputeIsNoActOfAStoppedKernel() {
        call(1, "a/1", "compute");
        h.add(2, Kind.DEAD, "a", -1, 10, false, "partition longer than the lease");
        answer(3, "a/1", "OK");
        call(4, "a/1", "peek f0");
        answer(5, "a/1", "OK");
        assertThat(violations()).singleElement().asString().contains("#4 ").contains("peek f0 succeeded after");
    }
}
