package io.machxp.chaos;

import java.util.ArrayList;
import java.util.List;

/**
 * What happened in one chaos run, in the order it happened (the simulator runs one event at a
 * time, so that order is the run's real order), each entry stamped with its virtual time. The
 * {@link HistoryChecker} reads it; {@code machxp chaos --seed S --history} prints it.
 */
public final class History {
    /** Kinds of entries. */
    public enum Kind {
        /** A lock call got the futex; {@code value} is its fencing token, {@code flag} EOWNERDEAD. */
        ACQUIRE,
        /** The owner calls unlock: its ownership ends here, whatever the call answers. */
        RELEASE,
        /** The owner's ownership ended without an unlock: its task died ({@code flag}), or its kernel did. */
        OWNER_GONE,
        /** The owner read the futex's counter: {@code value}. */
        READ,
        /** A write of the counter ({@code value}) was acknowledged to its owner. */
        WRITE,
        /** A call began ({@code detail} names it); every one must be answered unless its kernel died. */
        CALL,
        /** The call's answer ({@code detail}: the errno, or OK). */
        ANSWER,
        /** The pager declared a kernel dead while it held the futex. */
        HOLDER_DECLARED_DEAD,
        /** A kernel crashed, lost its lease, was partitioned or started; {@code detail} says which. */
        KERNEL,
        /**
         * The pager crashed while a kernel held the futex (or its page, or a death to report) and that
         * kernel did not reclaim it in the grace period: with no lock state on disk, what it held is
         * lost - its unreturned writes, and the owner death the next owner would have been told of.
         */
        LOST_IN_RESTART,
        /** The pager crashed ({@code detail}: how long it stays down) or restarted. */
        PAGER,
        /**
         * A kernel ({@code thread}) held the futex at a pager's crash and did not reclaim it in the
         * grace period although it had not stopped by itself ({@code detail} says how it was).
         */
        UNRECLAIMED,
        /**
         * A kernel that may have held the futex (cached free, or granted for a call whose answer was
         * lost) died, stopped, or may have lost it in a pager restart, as the one who injected the
         * fault knows: the next acquisition may say EOWNERDEAD, and only then read older data.
         */
        MAY_HAVE_DIED,
    }

    /**
     * One entry. {@code thread} is "kernel/tid" or empty; {@code futex} the futex's index or -1.
     */
    public record Entry(long seq, long time, Kind kind, String thread, int futex, long value, boolean flag,
            String detail) {
        @Override
        public String toString() {
            return String.format("%6d %10.3f ms %-20s %-12s %s%s%s%s", seq, time / 1e6, kind, thread,
                    futex < 0 ? "" : "f" + futex + " ", kind == Kind.ACQUIRE || kind == Kind.READ
                            || kind == Kind.WRITE ? "value=" + value + " " : "",
                    flag ? "flag " : "", detail);
        }
    }

    private final List<Entry> entries = new ArrayList<>();

    public void add(long time, Kind kind, String thread, int futex, long value, boolean flag, String detail) {
        entries.add(new Entry(entries.size(), time, kind, thread, futex, value, flag, detail));
    }

    public List<Entry> entries() {
        return entries;
    }
}
