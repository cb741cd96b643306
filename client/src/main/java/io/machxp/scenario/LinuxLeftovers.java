package io.machxp.scenario;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * The threads of earlier linux-mode runs in this JVM that had not ended when their run closed: a
 * scenario thread blocked in a lock without a timeout (it cannot be ended from outside: it stays, a
 * daemon thread, until the lock returns), or a priority sampler ({@link LinuxSampler}, SCHED_FIFO
 * 1) that had not ended within the close's wait. Their run made them ordinary (and the scenario
 * threads unpinned: {@link LinuxPlatform#stopThreads}); before the next run starts on the same
 * CPUs, {@link #check} makes sure that none of them is real-time again or still, and refuses the
 * run if one is.
 */
final class LinuxLeftovers {
    /** The leftovers of every run of this JVM. */
    static final LinuxLeftovers OF_THIS_JVM = new LinuxLeftovers();

    /** A thread by its name, its TID (0: none yet) and whether it has ended. */
    private record Leftover(String scenario, String thread, IntSupplier tid, BooleanSupplier ended) {}

    private final List<Leftover> left = new CopyOnWriteArrayList<>();

    /** A thread of {@code scenario}'s run that had not ended at its close. */
    void add(String scenario, LinuxWorker w) {
        left.add(new Leftover(scenario, w.spec.name(), () -> w.tid, () -> w.finished));
    }

    /** The sampler of {@code scenario}'s run, which had not ended at its close. */
    void add(String scenario, LinuxSampler s) {
        left.add(new Leftover(scenario, s.getName(), () -> s.tid, () -> s.ended));
    }

    /** How many are still kept (ended ones are dropped by {@link #check}). */
    int size() {
        return left.size();
    }

    /**
     * Makes every leftover that has not ended ordinary again and lets it run on {@code allowed}
     * (one with no TID is dropped, as an ended one):
     * null if none is real-time afterwards, else a sentence naming the first that is, for a run
     * that must not start next to it.
     */
    String check(LinuxScheduler scheduler, int[] allowed) {
        for (Leftover l : left) {
            int tid = l.tid().getAsInt();
            if (l.ended().getAsBoolean() || tid == 0) {
                // Ended, or no TID yet: 0 would be the caller, and a thread that sets itself up
                // after its run stopped makes itself ordinary (LinuxWorker.run, LinuxSampler.run).
                left.remove(l);
                continue;
            }
            scheduler.makeOrdinary(tid);
            scheduler.pin(tid, allowed);
            int policy = scheduler.policy(tid);
            if (policy < 0) {
                left.remove(l); // ended meanwhile
            } else if (realTime(policy)) {
                return "Thread " + l.thread() + " of the earlier linux-mode run of scenario '" + l.scenario()
                        + "' (TID " + tid + ") is still real-time in this JVM and could not be made ordinary, "
                        + "so no other linux-mode run can start here.";
            }
        }
        return null;
    }

    /** SCHED_FIFO, SCHED_RR or SCHED_DEADLINE (SCHED_RESET_ON_FORK masked off). */
    static boolean realTime(int policy) {
        int p = policy & ~0x40000000;
        return p == LinuxNative.SCHED_FIFO || p == 2 || p == 6;
    }
}
