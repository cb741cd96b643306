package io.machxp.scenario;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * How a value read from a word is shown, the same on every platform so that runs compare: a
 * futex word (one that a lock, trylock, unlock or consistent step names) is shown by meaning -
 * "free" for 0, else the owner as the scenario thread's name and the flags, joined by "|", as in
 * "H|WAITERS" or "L|OWNER_DIED|WAITERS" or "OWNER_DIED" (no owner). An owner TID that is no
 * scenario thread's is shown as its number if the scenario wrote that value into the word, and as
 * "unknown-tid" otherwise (TIDs differ between runs and platforms). The simulator's
 * not-recoverable word 0x7fffffff is shown as "NOT_RECOVERABLE". Any other word (data) is shown
 * as its value in decimal.
 */
final class WordValues {
    static final int WAITERS = 0x80000000;
    static final int OWNER_DIED = 0x40000000;
    static final int TID_MASK = 0x3fffffff;
    static final int NOT_RECOVERABLE = 0x7fffffff;

    private final Set<String> futexWords;
    private final Map<Integer, String> names;
    private final Map<String, Set<Integer>> written = new HashMap<>();

    WordValues(Scenario scenario, Map<Integer, String> tidNames) {
        this.futexWords = futexWords(scenario);
        this.names = Map.copyOf(tidNames);
        for (Scenario.ThreadSpec t : scenario.threads()) {
            for (Step s : t.program()) {
                if (s.kind() == Step.Kind.WRITE) {
                    written.computeIfAbsent(s.word(), w -> new HashSet<>()).add((int) s.value() & TID_MASK);
                }
            }
        }
    }

    /** The words some lock, trylock, unlock or consistent step names. */
    static Set<String> futexWords(Scenario scenario) {
        Set<String> words = new LinkedHashSet<>();
        for (Scenario.ThreadSpec t : scenario.threads()) {
            for (Step s : t.program()) {
                switch (s.kind()) {
                    case LOCK, TRYLOCK, UNLOCK, CONSISTENT -> words.add(s.word());
                    default -> { }
                }
            }
        }
        return words;
    }

    String render(String word, int value) {
        if (!futexWords.contains(word)) {
            return Integer.toString(value);
        }
        if (value == 0) {
            return "free";
        }
        if (value == NOT_RECOVERABLE) {
            return "NOT_RECOVERABLE";
        }
        StringBuilder out = new StringBuilder();
        int tid = value & TID_MASK;
        if (tid != 0) {
            String name = names.get(tid);
            if (name != null) {
                out.append(name);
            } else if (written.getOrDefault(word, Set.of()).contains(tid)) {
                out.append(tid);
            } else {
                out.append("unknown-tid");
            }
        }
        if ((value & OWNER_DIED) != 0) {
            out.append(out.length() > 0 ? "|" : "").append("OWNER_DIED");
        }
        if ((value & WAITERS) != 0) {
            out.append(out.length() > 0 ? "|" : "").append("WAITERS");
        }
        return out.toString();
    }
}
