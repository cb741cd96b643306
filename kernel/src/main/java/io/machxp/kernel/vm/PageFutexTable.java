package io.machxp.kernel.vm;

import io.machxp.kernel.futex.FutexEntry;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The futexes a page tracks, by word, sized to how many there are: one slot per futex, not one
 * per word of the page. Immutable: the core adds a futex by publishing a copy with one more slot
 * ({@link #with}), so the fast path reads a table on any thread without a lock. Entries are never
 * removed (a word that was a futex stays one), so a page's table grows to at most the futex
 * words tasks use in it.
 */
final class PageFutexTable {
    static final PageFutexTable EMPTY = new PageFutexTable(new int[0], new FutexEntry[0]);

    /** Word indexes (offset in page / 4), ascending. */
    private final int[] words;
    private final FutexEntry[] entries;

    private PageFutexTable(int[] words, FutexEntry[] entries) {
        this.words = words;
        this.entries = entries;
    }

    /** The futex at word index {@code word}, or null. */
    FutexEntry get(int word) {
        int at = Arrays.binarySearch(words, word);
        return at >= 0 ? entries[at] : null;
    }

    /** A table with {@code e} at word index {@code word} too (which has none yet). */
    PageFutexTable with(int word, FutexEntry e) {
        int at = -Arrays.binarySearch(words, word) - 1;
        int[] w = new int[words.length + 1];
        FutexEntry[] es = new FutexEntry[entries.length + 1];
        System.arraycopy(words, 0, w, 0, at);
        System.arraycopy(entries, 0, es, 0, at);
        w[at] = word;
        es[at] = e;
        System.arraycopy(words, at, w, at + 1, words.length - at);
        System.arraycopy(entries, at, es, at + 1, entries.length - at);
        return new PageFutexTable(w, es);
    }

    /** Whether a futex word lies in word indexes {@code first..last}. */
    boolean anyIn(int first, int last) {
        int at = Arrays.binarySearch(words, first);
        int next = at >= 0 ? at : -at - 1;
        return next < words.length && words[next] <= last;
    }

    /** The offsets in the page of its futex words, ascending. */
    int[] offsets() {
        int[] out = new int[words.length];
        for (int i = 0; i < words.length; i++) {
            out[i] = words[i] << 2;
        }
        return out;
    }

    void forEach(Consumer<FutexEntry> action) {
        for (FutexEntry e : entries) {
            action.accept(e);
        }
    }

    /** How many futexes (and slots) the table has. */
    int size() {
        return entries.length;
    }
}
