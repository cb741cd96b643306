package io.machxp.chaos;

import io.machxp.chaos.History.Entry;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * The {@link HistoryChecker}'s stale-TID rule (its rule 5's last part): no lock or trylock answers
 * EDEADLK, nor ESRCH to a worker that lives on.
 * <p>
 * A worker holds at most one futex, never locks one it holds (it unlocks before its next lock,
 * and stops if its critical section fails) and never writes a futex word (its racy pokes stay
 * outside the words), so neither the futex held by itself nor an owners' chain back to it can be;
 * and a kernel replaces the TID of an owner that ended with OWNER_DIED. So EDEADLK, and ESRCH
 * while the worker lives (ESRCH answers the calls of a worker whose task died), say the word
 * names a thread that does not own it: a stale TID, such as a dead kernel's that a kernel given
 * its id again reads as its own thread's.
 * <p>
 * One exception: the worker goes on after an unlock answered with an error (WorkerLoop.release),
 * and nothing here shows that every such error took its TID out of the word (EIO from a kernel
 * that lost the futex's pager, ESRCH from a kernel shutting down, or a kernel that refuses the
 * unlock: the kernel's own rules, not this one's); so EDEADLK on its next lock of that same futex,
 * before anyone acquired it, may be the word still naming it after the failed unlock, and is
 * allowed (late12 review, LOW-2).
 * <p>
 * An ESRCH is parked until the worker's next call, which shows it lived. At the run's end one
 * still parked is judged when its lock was made in the quiet period (the quiet lock every live
 * worker makes last, which no call follows): no fault comes then, so no task dies, and unless the
 * harness counted the worker gone or its kernel failed, it lived. One made before the quiet period
 * that no call follows stays excused: the standard mix records no "worker gone", so a task that
 * died then cannot be told from one that lived.
 */
final class StaleTids {
    /** A lock or trylock ({@code call}, made at {@code start}) answered ESRCH ({@code answer}), not judged yet. */
    private record Parked(Entry answer, String call, long start) { }

    private final BiConsumer<Entry, String> violation;
    /** Workers whose lock or trylock answered ESRCH, until they call again (or the run ends). */
    private final Map<String, Parked> esrch = new LinkedHashMap<>();
    /** A worker's unlock of a futex answered with an error. */
    private record FailedUnlock(String thread, int futex) { }

    /**
     * Each worker's futexes whose last unlock by it was answered with an error, until someone
     * acquires that futex or the worker's unlock of that same futex answers OK (perfretry review,
     * MED-1: keyed by worker and futex, so an OK unlock of another futex, or a second failed unlock,
     * keeps the excuse).
     */
    private final Set<FailedUnlock> failedUnlocks = new HashSet<>();

    /** {@code violation}: how a broken rule is reported, at the entry that broke it. */
    StaleTids(BiConsumer<Entry, String> violation) {
        this.violation = violation;
    }

    /** The worker makes a call: it lived after an ESRCH parked for it, which said a TID of no thread. */
    void called(String thread) {
        Parked got = esrch.remove(thread);
        if (got != null) {
            report(got, "the worker lived on");
        }
    }

    /** The harness counted the worker gone (its task died, or its kernel): its ESRCH was its death's. */
    void gone(String thread) {
        esrch.remove(thread);
    }

    /** A lock or trylock of futex {@code futex}, made at {@code start}, was answered {@code e}; {@code gone}: its worker is. */
    void lockAnswered(Entry e, String call, int futex, long start, boolean gone) {
        if (e.detail().equals("EDEADLK")) {
            if (!failedUnlocks.contains(new FailedUnlock(e.thread(), futex))) {
                violation.accept(e, e.thread() + "'s " + call + " answered EDEADLK, but it holds no futex and no chain "
                        + "of owners can lead back to it: the futex's word names it although it never locked it "
                        + "(a stale TID)");
            }
        } else if (e.detail().equals("ESRCH") && !gone) {
            esrch.put(e.thread(), new Parked(e, call, start)); // judged at its next call: it lived on
        }
    }

    /** The worker's unlock of {@code futex} was answered: {@code ok}, or with an error. */
    void unlockAnswered(String thread, int futex, boolean ok) {
        if (ok) {
            failedUnlocks.remove(new FailedUnlock(thread, futex));
        } else {
            failedUnlocks.add(new FailedUnlock(thread, futex));
        }
    }

    /** Someone acquired {@code futex}: its word names the new owner. */
    void acquired(int futex) {
        failedUnlocks.removeIf(f -> f.futex() == futex);
    }

    /**
     * The run is over: each ESRCH still parked whose lock was made at or after {@code quietStart}
     * (-1: no quiet period) is judged, unless {@code excused} (its worker gone, or its kernel
     * killed or failing).
     */
    void finish(long quietStart, Predicate<String> excused) {
        esrch.forEach((thread, got) -> {
            if (quietStart >= 0 && got.start >= quietStart && !excused.test(thread)) {
                report(got, "the worker, whose task did not die, made it in the quiet period, its last call");
            }
        });
        esrch.clear();
    }

    private void report(Parked got, String why) {
        violation.accept(got.answer, got.answer.thread() + "'s " + got.call + " answered ESRCH and " + why + ": the "
                + "futex's word names a TID of no thread, but no worker writes a futex word and a kernel replaces "
                + "an ended owner's TID with OWNER_DIED (a stale TID, such as a dead kernel's after its kernel id "
                + "was given again)");
    }
}
