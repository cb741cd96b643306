package io.machxp.scenario;

import io.machxp.proto.task.Errno;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * What a scenario file may say: the keys of each part, the keys of each kind of step and the
 * outcomes it can have. {@link ScenarioParser} checks files against it, the tests check
 * scenarios/schema.json against it, and docs/scenario-format.md describes it.
 */
public final class ScenarioFormat {
    public static final List<String> TOP = List.of("name", "description", "seed", "network", "limit", "kernels",
            "pagers", "objects", "words", "threads", "expect");
    public static final List<String> NETWORK = List.of("latency", "jitter");
    public static final List<String> KERNEL = List.of("name", "cpus");
    public static final List<String> WORD = List.of("object", "offset");
    public static final List<String> THREAD = List.of("name", "kernel", "task", "priority", "start", "program");
    /** What an expectation checks: each names one of these. */
    public static final List<String> EXPECTATION_KINDS = List.of("maxWait", "minWait", "finishBy", "finishesBefore",
            "boostedTo", "neverBoosted");
    public static final List<String> EXPECTATION = concat(List.of("thread"), EXPECTATION_KINDS, List.of("when"));
    public static final List<String> WHEN = List.of("pi", "no-pi");

    /**
     * Every outcome a step can be expected to have: ok, busy (a trylock that did not get the
     * futex), the names of the task interface's errnos (EOWNERDEAD among them), and the Mach
     * return codes of IPC steps.
     */
    public static final List<String> OUTCOMES;

    /** The Mach return codes IPC steps can be expected to give (by their Mach names). */
    static final List<String> IPC_OUTCOMES = List.of("MACH_SEND_INVALID_DEST", "MACH_RCV_TIMED_OUT",
            "MACH_RCV_PORT_DIED", "MACH_RCV_INVALID_NAME");

    static {
        List<String> outcomes = new ArrayList<>(List.of("ok", "busy"));
        for (Errno e : Errno.values()) {
            if (e != Errno.ERRNO_UNSPECIFIED && e != Errno.UNRECOGNIZED) {
                outcomes.add(e.name());
            }
        }
        outcomes.addAll(IPC_OUTCOMES);
        OUTCOMES = List.copyOf(outcomes);
    }

    /** The flags a futex word's value read shows after its owner, in this order. */
    public static final List<String> READ_FLAGS = List.of("OWNER_DIED", "WAITERS");

    /** The failures of any call on a word: a bad word, a thread or task gone, the pager gone. */
    private static final List<String> ANY_CALL = names(Errno.EINVAL, Errno.ESRCH, Errno.EIO);

    private ScenarioFormat() {}

    /** The keys a step of {@code kind} takes besides its own ({@code kind.key}). */
    public static List<String> stepOptions(Step.Kind kind) {
        return switch (kind) {
            case LOCK -> List.of("timeout", "expect");
            case WRITE, READ -> List.of("value", "expect");
            case TRYLOCK, UNLOCK, CONSISTENT -> List.of("expect");
            case PRIORITY -> List.of("of");
            case COMPUTE, SLEEP, EXIT, DIE, PORT_ALLOCATE -> List.of();
            case SEND, RPC -> List.of("id", "expect");
            case RECEIVE -> List.of("id", "timeout", "expect");
        };
    }

    /** Every key a step of {@code kind} takes, its own first. */
    public static List<String> stepKeys(Step.Kind kind) {
        return concat(List.of(kind.key), stepOptions(kind));
    }

    /**
     * The outcomes a step of {@code kind} can have (empty: it has none to expect). ETIMEDOUT only
     * for a lock with a timeout; EBUSY, EINTR, EAGAIN, ESTALE and EEXIST never come from a step,
     * since a scenario thread makes one call at a time, cancels none and is created before it starts.
     */
    public static List<String> outcomes(Step.Kind kind) {
        return switch (kind) {
            case LOCK -> concat(List.of("ok"), names(Errno.EOWNERDEAD, Errno.EDEADLK, Errno.ETIMEDOUT,
                    Errno.ENOTRECOVERABLE), ANY_CALL);
            case TRYLOCK -> concat(List.of("ok", "busy"), names(Errno.EOWNERDEAD, Errno.EDEADLK,
                    Errno.ENOTRECOVERABLE), ANY_CALL);
            case UNLOCK -> concat(List.of("ok"), names(Errno.EPERM), ANY_CALL);
            case CONSISTENT, READ, WRITE -> concat(List.of("ok"), ANY_CALL);
            case COMPUTE, SLEEP, PRIORITY, EXIT, DIE, PORT_ALLOCATE -> List.of();
            case SEND -> List.of("ok", "MACH_SEND_INVALID_DEST");
            case RECEIVE -> List.of("ok", "MACH_RCV_TIMED_OUT", "MACH_RCV_PORT_DIED", "MACH_RCV_INVALID_NAME");
            case RPC -> List.of("ok", "MACH_SEND_INVALID_DEST", "MACH_RCV_PORT_DIED");
        };
    }

    /** Every step kind's key, in the order of {@link Step.Kind}. */
    public static List<String> stepKinds() {
        return Arrays.stream(Step.Kind.values()).map(k -> k.key).toList();
    }

    /**
     * What goes between a mistake and its hint: "; did you mean 'timeout'? " when {@code word} is
     * a near miss (at most 2 edits, case aside) of one of {@code candidates}, else "; ".
     */
    static String didYouMean(String word, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        String w = word.toLowerCase(Locale.ROOT);
        for (String c : candidates) {
            int d = distance(w, c.toLowerCase(Locale.ROOT));
            if (d < bestDistance && !c.equals(word)) {
                best = c;
                bestDistance = d;
            }
        }
        return best != null && bestDistance <= 2 && bestDistance < word.length() ? "; did you mean '" + best + "'? "
                : "; ";
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length()];
    }

    /** "a, b and c". */
    static String and(List<String> items) {
        return join(items, "and");
    }

    /** "a, b or c". */
    static String or(List<String> items) {
        return join(items, "or");
    }

    private static String join(List<String> items, String last) {
        if (items.size() <= 1) {
            return String.join("", items);
        }
        return String.join(", ", items.subList(0, items.size() - 1)) + " " + last + " " + items.get(items.size() - 1);
    }

    private static List<String> names(Errno... errnos) {
        return Arrays.stream(errnos).map(Errno::name).toList();
    }

    @SafeVarargs
    private static List<String> concat(List<String>... lists) {
        List<String> all = new ArrayList<>();
        for (List<String> l : lists) {
            all.addAll(l);
        }
        return List.copyOf(all);
    }
}
