package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.futex.Acquired;
import io.machxp.kernel.futex.FutexEntry;
import io.machxp.kernel.task.MachThread;
import io.machxp.kernel.task.Tids;
import io.machxp.proto.task.AcquirePath;
import org.junit.jupiter.api.Test;

/**
 * A kernel's records stay bounded however many threads come and go, in virtual time: more threads
 * than there are thread numbers, so numbers are given again; a number rests for its quarantine
 * first, and is not given while a futex word the kernel tracks still names its old thread.
 */
class ThreadChurnTest {
    private static final long MS = 1_000_000L;
    /** The session's lease: the quarantine is the larger of two leases and 10 s, so 10 s. */
    private static final long LEASE_MS = 1_000;
    /** A thread ends every millisecond: about 10,000 numbers rest at any time. */
    private static final long STEP = MS;
    /** More than the 1,048,574 thread numbers: the last threads get numbers again. */
    private static final int THREADS = 1_100_000;

    @Test
    void aMillionThreadsComeAndGoWithBoundedRecordsAndNoRefusal() {
        CoreFixture k = new CoreFixture(CoreOptions.DEFAULT, LEASE_MS);
        long quarantine = k.core.tasks.tidQuarantine();
        assertThat(quarantine).isEqualTo(KernelTasks.MIN_TID_QUARANTINE_NANOS);
        MachThread holder = k.thread();
        for (long word = 0; word <= 8; word += 4) { // cached here: later locks take the fast path
            k.acquireFromPager(holder, k.base + word);
            k.unlock(holder, k.base + word).value();
        }
        // Fast-path locks that raced their threads' deaths left the dead TIDs in the words at +4
        // and +8 (what the deaths' scans of owned futexes missed); +4 stays so throughout.
        MachThread stuck = k.thread();
        MachThread settled = k.thread();
        k.terminate(stuck).value();
        k.terminate(settled).value();
        k.futex(k.base + 4).setState(stuck.tid);
        k.futex(k.base + 8).setState(settled.tid);

        long[] endedAt = new long[Tids.MAX_THREAD_NUMBER + 1];
        java.util.Arrays.fill(endedAt, -1); // never ended
        endedAt[number(settled.tid)] = k.env.nanoTime();
        int reused = 0;
        int mostResting = 0;
        int mostLiving = 0;
        boolean settledGiven = false;
        for (int i = 0; i < THREADS; i++) {
            MachThread t = k.thread(); // Answer.value() fails the test if thread_create is refused
            int n = number(t.tid);
            if (n == number(stuck.tid)) {
                throw new AssertionError("thread number " + n + " was given while a futex word names its old TID");
            }
            if (endedAt[n] >= 0) {
                if (k.env.nanoTime() - endedAt[n] < quarantine) {
                    throw new AssertionError("thread number " + n + " was given before its quarantine ended");
                }
                reused++;
                settledGiven |= n == number(settled.tid);
            }
            if (i == Tids.MAX_THREAD_NUMBER - 100) { // before the numbers run out: +8 is settled
                Acquired got = k.lockFull(t, k.base + 8).value();
                assertThat(got.ownerDied()).as("the word named an ended thread").isTrue();
                k.consistent(t, k.base + 8).value();
                k.unlock(t, k.base + 8).value();
            } else if (i % 100 == 0) { // it dies holding the futex: the next locker gets EOWNERDEAD
                assertThat(k.lockFull(t, k.base).value().path()).isEqualTo(AcquirePath.FAST_PATH);
            } else if (i % 100 == 1) {
                assertThat(k.lockFull(t, k.base).value().ownerDied()).isTrue();
                k.consistent(t, k.base).value();
                k.unlock(t, k.base).value();
            }
            k.terminate(t).value();
            endedAt[n] = k.env.nanoTime();
            k.env.advance(STEP);
            if (i % 50 == 0) { // keepalives go every lease / 4 = 250 steps
                k.answerKeepalives();
            }
            mostResting = Math.max(mostResting, k.core.tasks.restingThreadNumbers());
            mostLiving = Math.max(mostLiving, k.core.tasks.livingThreads());
        }
        k.answerKeepalives();
        assertThat(reused).as("threads beyond the numbers got numbers again")
                .isEqualTo(THREADS + 3 - Tids.MAX_THREAD_NUMBER);
        assertThat(settledGiven).as("a number is given again once no word names its old TID").isTrue();
        // threads ended per quarantine (10 s / 1 ms), and the one whose rest ends as the next begins
        assertThat(mostResting).as("resting numbers").isLessThanOrEqualTo((int) (quarantine / STEP) + 2);
        assertThat(mostLiving).as("the holder, between the churned threads").isEqualTo(1);
        FutexEntry e = k.futex(k.base);
        assertThat(e.page.futexCount()).as("the page's futex table: one slot per futex").isEqualTo(3);
        assertThat(k.sentRoutines()).as("the futexes stayed cached: nothing went to the pager").isEmpty();
    }

    private static int number(int tid) {
        return tid & ((1 << Tids.THREAD_BITS) - 1);
    }
}
