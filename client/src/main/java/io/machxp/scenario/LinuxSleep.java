package io.machxp.scenario;

import static io.machxp.scenario.LinuxNative.CLOCK_MONOTONIC;
import static io.machxp.scenario.LinuxNative.SYS_FUTEX;
import static io.machxp.scenario.LinuxNative.TIMER_ABSTIME;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.util.function.BooleanSupplier;

/**
 * A linux-mode thread's {@code sleep} (and its wait for its start): one sleep to its due time, as
 * a Linux program's {@code clock_nanosleep}, that its task's death or the run's stop still ends
 * at once.
 *
 * <h2>Why one sleep</h2>
 * Under SCHED_FIFO where a thread sleeps decides where it queues: a thread that wakes while a
 * higher one runs joins the tail of its priority then, and keeps that place until it runs. A sleep
 * cut into slices (it was 5 ms slices, so that a stop was seen) woke the thread at each slice's
 * end; one whose last slice ended while a higher thread ran was queued then, ahead of an equal
 * that woke later but before the sleep's real end, and ran first
 * ({@code scenarios/sleepers-wake-in-order-behind-higher.yaml}, minimized from linux-fuzz seed
 * 995), and a thread so queued was requeued by a boost and deboost it got meanwhile (Linux puts a
 * task whose priority is lowered at the head of its new priority), where a sleeping thread is on
 * no queue ({@code expired-lock-sleeping-owner-wakes-behind-preempted-equal.yaml}). Neither is
 * what the scenario says: the thread sleeps until its time.
 *
 * <h2>How</h2>
 * The sleep is {@code FUTEX_WAIT_BITSET} on a word of its own with an absolute
 * {@code CLOCK_MONOTONIC} deadline (the clock of {@code System.nanoTime}): it returns at the
 * deadline, or when {@link #interrupt} sets the word and wakes it (its task died, or the run
 * stopped; the caller sets that state first, and a sleep that begins after the word is set returns
 * at once, so no wake is lost). A futex call that fails otherwise falls back to
 * {@code clock_nanosleep} to the deadline: never a busy loop at a real-time priority.
 */
class LinuxSleep {
    static final int FUTEX_WAIT_BITSET = 9;
    static final int FUTEX_WAKE = 1;
    static final int FUTEX_BITSET_MATCH_ANY = -1;
    /** The word at 0, a timespec at 8. */
    private final Memory memory = new Memory(24);

    LinuxSleep() {
        memory.clear();
    }

    /**
     * Sleeps until {@code monotonic} (System.nanoTime's clock): true if it slept its time, false
     * if {@code gone} became true first.
     */
    boolean until(long monotonic, BooleanSupplier gone) {
        while (!gone.getAsBoolean()) {
            if (now() >= monotonic) {
                return true;
            }
            waitUntil(monotonic);
        }
        return false;
    }

    /** The clock the deadline is on (CLOCK_MONOTONIC); a seam for tests. */
    long now() {
        return System.nanoTime();
    }

    /**
     * One wait: until {@code monotonic}, or until {@link #interrupt} (at once if it came before),
     * or a signal; a seam for tests.
     */
    void waitUntil(long monotonic) {
        long base = Pointer.nativeValue(memory);
        memory.setLong(8, monotonic / 1_000_000_000L);
        memory.setLong(16, monotonic % 1_000_000_000L);
        long rc = LinuxNative.syscall(SYS_FUTEX, base, FUTEX_WAIT_BITSET | LinuxNative.FUTEX_PRIVATE_FLAG, 0,
                base + 8, 0, FUTEX_BITSET_MATCH_ANY);
        if (rc != 0) {
            int errno = LinuxNative.errno();
            if (errno != LinuxSupport.ETIMEDOUT && errno != LinuxSupport.EAGAIN && errno != LinuxSupport.EINTR) {
                LinuxNative.clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, base + 8, 0);
            }
        }
    }

    /** Ends the sleep now and every later one at once: call after making {@code gone} true. */
    void interrupt() {
        memory.setInt(0, 1);
        LinuxNative.syscall(SYS_FUTEX, Pointer.nativeValue(memory), FUTEX_WAKE | LinuxNative.FUTEX_PRIVATE_FLAG,
                Integer.MAX_VALUE, 0, 0, 0);
    }
}
