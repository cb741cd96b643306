package io.machxp.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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
        /** The owner's ownership ended without an unlock: its task or its kernel died ({@code flag}: a death). */
        OWNER_GONE,
        /** The owner read the futex's counter: {@code value}. */
        READ,
        /** A write of the counter ({@code value}) was acknowledged to its owner. */
        WRITE,
        /** A call began ({@code detail} names it, {@code value}: a lock's timeout, -1 for none). */
        CALL,
        /** The kernel answered the call ({@code detail}: the errno, or OK), when it answered. */
        ANSWER,
        /** What the harness did to a kernel that needs no verdict: started, partitioned, paused, its clock. */
        KERNEL,
        /**
         * The harness injected a fault the kernel ({@code thread}) cannot survive (cut off or paused
         * for longer than the lease): it must have stopped by {@code value}; until then it may go on.
         */
        DOOMED,
        /**
         * The kernel ({@code thread}) is gone, by the harness's own record: killed ({@code flag}: no
         * answer is owed any more), shut down, or past the time a doomed kernel must have stopped by;
         * {@code value}: by when the pager must have declared it dead.
         */
        DEAD,
        /**
         * As {@link #DOOMED}, for the kernel's ({@code thread}) session with one pager only
         * ({@code detail}, the pager's name): cut off from it for longer than the lease, the kernel
         * must stop using that pager's objects by {@code value}; its other pagers' objects go on.
         */
        LINK_DOOMED,
        /**
         * As {@link #DEAD}, for the kernel's ({@code thread}) session with one pager ({@code detail}):
         * past the time it must have stopped using it; {@code value}: by when that pager must have
         * declared it dead. A worker of the kernel that maps one of the pager's objects again
         * afterwards (a new session with the pager) acts on it anew.
         */
        LINK_DEAD,
        /**
         * A kernel that may have held the futex (cached free, or granted for a call whose answer was
         * lost) died, stopped, or may have lost it in a pager restart, or an owner's task died while
         * its unlock was under way (in {@code thread}, the worker), as the one who injected the
         * fault knows (real processes, where the recorder cannot see what a kernel held): the next
         * acquisition may say EOWNERDEAD, and only then read older data. With {@code value} above
         * 0, the kernel stopped but the pager may still grant it the futex (a request it made
         * before) until then: the pager passes it on with OWNER_DIED once it declares the kernel
         * dead, so any acquisition that follows one made no later than {@code value} may say so.
         */
        MAY_HAVE_DIED,
        /** The pager crashed ({@code detail}: "crash", how long it stays down) or its last grace period ended ("grace-end"). */
        PAGER,
        /**
         * The pager declared kernel {@code thread} dead (real processes: read from the pager's log,
         * a replicated pager's as its leader applied it): what that session held passes on with
         * OWNER_DIED from here. The checker allows it only for a kernel that had stopped by then
         * (a {@code KERNEL} entry {@link #STOPPED} since its last {@link #SESSION_OPEN}, or a fault
         * the harness injected that stops it); see {@link HistoryChecker}.
         */
        DECLARED,
        /**
         * The harness's probe in process {@code thread} (a kernel's name, or "pager") saw it run
         * nothing from {@code time} for {@code value} ns: a stall the harness did not inject (a
         * loaded host, a GC pause), entered in time order. See {@link Starvation}.
         */
        STALL,
        /** The last fault is over: from here every call is answered within {@code value} ns (the quiet period). */
        QUIET,
        /**
         * A settled owner's ({@code thread}) effective priority, read from its kernel: {@code value};
         * {@code detail}: what the harness expects from the waiters it knows of.
         */
        PRIORITY,
    }

    /**
     * A {@code KERNEL} entry's detail, from the kernel's own log (real processes): the kernel opened
     * a session with its pager (its first, or a new one after it stopped).
     */
    public static final String SESSION_OPEN = "session open";
    /**
     * A {@code KERNEL} entry's detail, from the kernel's own log (real processes): its lease ran out
     * and it stopped handing out what it holds, or its session ended.
     */
    public static final String STOPPED = "stopped";

    /**
     * One entry. {@code thread} is "kernel/tid" or empty; {@code futex} the futex's index or -1.
     */
    public record Entry(long seq, long time, Kind kind, String thread, int futex, long value, boolean flag,
            String detail) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%6d %10.3f ms %-20s %-12s %s%s%s%s", seq, time / 1e6, kind, thread,
                    futex < 0 ? "" : "f" + futex + " ", kind == Kind.ACQUIRE || kind == Kind.READ
                            || kind == Kind.WRITE ? "value=" + value + " " : kind == Kind.STALL
                            ? String.format(Locale.ROOT, "%.3f ms ", value / 1e6) : "",
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
