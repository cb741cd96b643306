package io.machxp.kernel.task;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntPredicate;

/**
 * The thread numbers of one kernel (the low bits of its TIDs, {@link Tids}), reused safely. A TID
 * can outlive its thread in a futex word (a fast-path lock that raced the thread's death, or a
 * task process stuck inside its last CAS), and a client may still call a thread it ended, so a
 * number is given again only when nothing can still name its old thread:
 * <pre>
 *  never given   -> given first, in order (1, 2, ...)
 *  given         -> its thread lives
 *  thread ended  -> resting until {@code ended + quarantine}, held by the ended thread's holder
 *                   (its task's client peer, or null); then free, and the holder is told
 *                   ({@code restOver}) so that what it may hold counts live and resting numbers
 *  free          -> given again once every number has been given, cyclically from where the
 *                   last search stopped (as Linux hands out PIDs), unless the caller says it is
 *                   still named (a futex word the kernel tracks still holds the old TID)
 * </pre>
 * Records: one per resting number, so at most the rate at which threads end times the
 * quarantine; nothing per free number. Core thread only.
 */
public final class ThreadNumbers {
    private final int max;
    /** Numbers 1..highest have been given at least once. */
    private int highest;
    /** Where the next search for a free number starts, once every number has been given. */
    private int cursor = 1;
    /** Numbers whose thread ended, with when they may be given again and who holds them, in the order they ended. */
    private final LinkedHashMap<Integer, Rest> resting = new LinkedHashMap<>();
    /** Told the holder of each number whose rest is over (or that rests again, anew). */
    private final Consumer<Object> restOver;

    /** A resting number: free again at {@code until}; counted to {@code holder} until then. */
    private record Rest(long until, Object holder) {}

    /** @param max the largest number (numbers are 1..max) */
    public ThreadNumbers(int max) {
        this(max, holder -> { });
    }

    /**
     * @param max the largest number (numbers are 1..max)
     * @param restOver told the holder (possibly null) of each number once its rest is over
     */
    public ThreadNumbers(int max, Consumer<Object> restOver) {
        this.max = max;
        this.restOver = restOver;
    }

    /**
     * A number for a new thread at {@code now}, or 0 if none is free. {@code named} says whether
     * a free number's old TID is still named somewhere (it is then passed over this time).
     */
    public int take(long now, IntPredicate living, IntPredicate named) {
        settle(now);
        if (highest < max) {
            return ++highest;
        }
        for (int looked = 0; looked < max; looked++) {
            int n = cursor;
            cursor = n == max ? 1 : n + 1;
            if (!resting.containsKey(n) && !living.test(n) && !named.test(n)) {
                return n;
            }
        }
        return 0;
    }

    /** The thread numbered {@code number} ended at {@code now}: it rests for {@code quarantine}, held by nobody. */
    public void ended(int number, long now, long quarantine) {
        ended(number, now, quarantine, null);
    }

    /**
     * The thread numbered {@code number} ended at {@code now}: it rests for {@code quarantine},
     * counted to {@code holder} (null: nobody) until {@code restOver} tells it the rest is over.
     */
    public void ended(int number, long now, long quarantine, Object holder) {
        Rest before = resting.remove(number); // to the end of the order (an end is told once, but be exact)
        if (before != null) {
            restOver.accept(before.holder);
        }
        resting.put(number, new Rest(now + quarantine, holder));
    }

    /** Whether {@code number} has been given to a thread at least once. */
    public boolean given(int number) {
        return number >= 1 && number <= highest;
    }

    /** How many numbers rest now (the records this keeps). */
    public int resting() {
        return resting.size();
    }

    /** Numbers whose rest is over at {@code now} become free: forgotten, and their holders told. */
    public void settle(long now) {
        for (Iterator<Map.Entry<Integer, Rest>> it = resting.entrySet().iterator(); it.hasNext(); ) {
            Rest r = it.next().getValue();
            if (r.until - now > 0) {
                return; // in the order they ended, with one quarantine: the rest rest longer
            }
            it.remove();
            restOver.accept(r.holder);
        }
    }
}
