package io.machxp.pager.core;

import io.machxp.pager.futex.FutexKey;
import io.machxp.pager.futex.FutexRecord;
import java.util.Comparator;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The futexes their holders kept when the pager asked them back (futex_held to a
 * relinquish_futex(try) of {@link FutexParking}), in the order they may be asked again: by the
 * time they were kept, then by key. An ask-back round looks at those whose wait
 * ({@link FutexParking#askAgainNanos}) is over before it rotates through the holders' sets, so a
 * kept futex is asked again a wait later, not only when the rotation through all its holder's
 * futexes comes back to it (walks review F1). Pager core thread only.
 *
 * <h2>Overview</h2>
 * <pre>
 *  kept (futex_held)          -> in, at (keptWhenAskedNanos, key)
 *  asked again, or due and    -> out, and the record's keptWhenAsked cleared: its wait is over,
 *    no longer idle              so the flag no longer changes what a round does
 *  holding ends (a release    -> the record's flag is cleared elsewhere (PagerGrants); the entry
 *    clears keptWhenAsked)       is stale: skipped and dropped when met, costing no look, and
 *                                swept (two entries per kept futex added), so stale entries stay
 *                                fewer than the kept ones
 *  restore                    -> rebuilt from the records' keptWhenAsked(Nanos), which snapshots
 *                                hold: nothing of it in the snapshot
 * </pre>
 * Deterministic and alike on a restored core: an entry counts only while its record still says
 * kept at that instant (the records are the state; every record saying so has its entry), the
 * order is a total order of what the records hold, and stale entries, which only a live core
 * has, change nothing but memory. At most one valid entry per futex record.
 */
final class KeptFutexes {
    private record Kept(long nanos, FutexKey key) {
    }

    private static final Comparator<Kept> ORDER = Comparator.comparingLong(Kept::nanos)
            .thenComparing(Kept::key, FutexRecords.KEY_ORDER);

    private final TreeSet<Kept> kept = new TreeSet<>(ORDER);
    /** Where the sweep of stale entries goes on (null: from the first). */
    private Kept sweep;

    /**
     * The holder kept {@code f} when asked, at {@code now}: its flag set, in the queue; and two
     * entries swept ({@link #sweep}; {@code records} looks a key up).
     */
    void kept(FutexRecord f, long now, Function<FutexKey, FutexRecord> records) {
        if (f.keptWhenAsked) {
            kept.remove(new Kept(f.keptWhenAskedNanos, f.key));
        }
        f.keptWhenAsked = true;
        f.keptWhenAskedNanos = now;
        kept.add(new Kept(now, f.key));
        sweep(records);
    }

    /** {@code f} is asked again (or looked at, due, and not idle): out, its flag cleared. */
    void forget(FutexRecord f) {
        if (f.keptWhenAsked) {
            kept.remove(new Kept(f.keptWhenAskedNanos, f.key));
            f.keptWhenAsked = false;
        }
    }

    /** After a restore: every record kept when asked, at the instant it was. */
    void restore(Iterable<FutexRecord> all) {
        for (FutexRecord f : all) {
            if (f.keptWhenAsked) {
                kept.add(new Kept(f.keptWhenAskedNanos, f.key));
            }
        }
    }

    /**
     * The first kept futex whose wait is over at {@code now} ({@code wait} after it was kept) and
     * that is still kept, or null: stale entries met before it are dropped. The caller asks it
     * again or {@link #forget}s it, so the next call returns the next. {@code records} looks a
     * key up.
     */
    FutexRecord firstDue(long now, long wait, Function<FutexKey, FutexRecord> records) {
        while (!kept.isEmpty()) {
            Kept k = kept.first();
            if (now - k.nanos() < wait) {
                return null; // the rest are later
            }
            FutexRecord f = records.apply(k.key());
            if (f != null && f.keptWhenAsked && f.keptWhenAskedNanos == k.nanos()) {
                return f;
            }
            kept.pollFirst(); // stale: its holding ended
        }
        return null;
    }

    /**
     * Drops stale entries among the next two past the sweep's place (wrapping), called per entry
     * added: each stale entry is met within a pass, so they stay about as few as the valid ones.
     */
    private void sweep(Function<FutexKey, FutexRecord> records) {
        for (int i = 0; i < 2 && !kept.isEmpty(); i++) {
            Kept k = sweep == null ? null : kept.higher(sweep);
            if (k == null) {
                k = kept.first();
            }
            sweep = k;
            FutexRecord f = records.apply(k.key());
            if (f == null || !f.keptWhenAsked || f.keptWhenAskedNanos != k.nanos()) {
                kept.remove(k);
            }
        }
    }

    int size() {
        return kept.size();
    }
}
