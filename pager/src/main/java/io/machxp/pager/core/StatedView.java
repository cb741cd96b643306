package io.machxp.pager.core;

import io.machxp.proto.xp.PagerDirectoryView;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * One pager directory view as kernels state it in their hellos (xp-spec 2.8, 12.41), checked and
 * parsed once, in one pass over its assignments: where it sends an object is a binary search of
 * its assignments by object name, O(log n), never a scan (xpreview-review HIGH-1: an init scanned
 * every session's up to 65,536 assignments). Kernels configured alike state equal views, and the
 * pager keeps one {@code StatedView} for all of them ({@link StatedViews}, which also keeps
 * {@link #sessions}). Immutable but for those sessions; not in any snapshot: a session's image
 * keeps its view as stated ({@link #proto}), and the parse is made again on restore. Pager core
 * thread only.
 *
 * <p>An assignment is "object=pager": it names an object exactly (the text before its last '='),
 * at most one per object, and the pager is a decimal index below the count, of at most four
 * digits and without leading zeros ("0", never "00": the canonical form, so that one number has
 * one text and every reader, this pager's checks, its sentences and the kernels, reads the same
 * pager; xpreview-review LOW-3). Its number is read once, here, and both {@link #sendsHere} and
 * {@link #pagerFor} use it. An object no assignment names goes by the rule: CRC-32 of its UTF-8
 * name modulo the pager count, and with one pager, pager 0.
 *
 * <p>The pass (xpreview-review HIGH-1b: a hello's 65,536 assignments cost the core ~2 s at load,
 * cold): per assignment one look for its last '=', up to four digits, and one comparison with the
 * assignment before it; no copy of any name, no boxing, no hash set. Views in the canonical order
 * (by object name in UTF-8 byte order, which the comparison here gives) need nothing more: strictly
 * increasing names are distinct and already sorted. Only a view out of that order is sorted (its
 * indexes, O(n log n)), and its neighbours compared for an object assigned twice. The work per
 * assignment is a method of its own, so that the JIT compiles it after a few hundred assignments
 * of the first view, not after the pass ({@link #pagerOf}).
 */
final class StatedView {
    /** The view as stated (what snapshots keep and hellos are compared by). */
    final PagerDirectoryView proto;
    /** {@link StatedViews#hash} of {@link #proto}, its key among the views kept. */
    final int hash;
    /** Its serialized size, which counts under {@link StatedViews#MAX_BYTES}. */
    final long bytes;
    /**
     * Why the view is not valid (a sentence for the kernel's EINVAL), or null if it is. A view that
     * is not valid is never kept; one an older pager took (a snapshot's, say with "00") is read all
     * the same, each index as the number it writes.
     */
    final String invalid;
    /** Each assignment's pager index, in {@link #proto}'s order; -1 where it is not a number below the count. */
    private final int[] pagers;
    /** The indexes of {@link #proto}'s assignments in the order of their objects' names, or null: the order stated. */
    private final int[] byObject;
    /** The open sessions that stated it ({@link StatedViews} keeps this; insertion order, never relied on). */
    final Set<KernelSession> sessions = new LinkedHashSet<>();
    /** Of {@link #sessions}, how many each peer's are (sessions without a peer not counted; {@link ViewShares}). */
    final java.util.Map<String, Integer> peers = new java.util.HashMap<>();

    /** The most pagers a view may count, and the most assignments it may list. */
    static final int MAX_PAGER_COUNT = 1024;
    static final int MAX_ASSIGNMENTS = 65536;

    /** {@link #pagerOf}'s answer for an assignment that is not "object=pager" with an index below the count. */
    private static final int NOT_AN_ASSIGNMENT = -1;

    StatedView(PagerDirectoryView proto) {
        this(proto, StatedViews.hash(proto));
    }

    StatedView(PagerDirectoryView proto, int hash) {
        this.proto = proto;
        this.hash = hash;
        this.bytes = proto.getSerializedSize();
        int count = proto.getPagerCount();
        int n = proto.getAssignmentsCount();
        String why = null;
        if (count < 1 || count > MAX_PAGER_COUNT) {
            why = "a pager count of " + Integer.toUnsignedString(count) + " (1.." + MAX_PAGER_COUNT + ")";
        } else if (Integer.compareUnsigned(proto.getPagerIndex(), count) >= 0) {
            why = "this pager at index " + Integer.toUnsignedString(proto.getPagerIndex()) + " of a list of " + count;
        } else if (n > MAX_ASSIGNMENTS) {
            why = n + " assignments (at most " + MAX_ASSIGNMENTS + ")";
        }
        if (why != null) {
            this.invalid = why;
            this.pagers = new int[0];
            this.byObject = new int[0]; // nothing is looked up in it: every object by the rule
            return;
        }
        this.pagers = new int[n];
        boolean ordered = true;
        String before = null;
        for (int i = 0; i < n; i++) {
            String a = proto.getAssignments(i);
            int p = pagerOf(a, count);
            pagers[i] = p;
            if (why == null && p < 0) {
                why = "the assignment " + Shown.quoted(a) + ", not \"object=pager\" with a pager index below " + count;
            } else if (why == null && leadingZero(a)) {
                why = "the assignment " + Shown.quoted(a) + ", whose pager index has a leading zero: write it in "
                        + "decimal without leading zeros, " + Shown.quoted(canonical(a)) + ", as the canonical view "
                        + "does, so that every reader takes the same pager from it";
            }
            if (ordered && before != null && p != NOT_AN_ASSIGNMENT) {
                int c = compareObjects(before, a);
                if (c == 0 && why == null) {
                    why = "object " + Shown.quoted(a.substring(0, a.lastIndexOf('='))) + " assigned twice";
                }
                ordered = c < 0;
            }
            if (p != NOT_AN_ASSIGNMENT) {
                before = a;
            }
        }
        if (ordered) {
            this.byObject = null;
        } else {
            this.byObject = sortedByObject();
            for (int k = 1; k < byObject.length && why == null; k++) {
                String a = assignment(byObject[k]);
                if (pagers[byObject[k]] >= 0 && pagers[byObject[k - 1]] >= 0
                        && compareObjects(assignment(byObject[k - 1]), a) == 0) {
                    why = "object " + Shown.quoted(a.substring(0, a.lastIndexOf('='))) + " assigned twice";
                }
            }
        }
        this.invalid = why;
    }

    /**
     * The pager index of assignment {@code a} in a list of {@code count}: its text after the last
     * '=', one to four decimal digits, below the count (leading zeros read as the number they
     * write: {@link #leadingZero} refuses them), else {@link #NOT_AN_ASSIGNMENT}. The object's name
     * (before the '=') may not be empty.
     */
    private static int pagerOf(String a, int count) {
        int eq = a.lastIndexOf('=');
        int digits = a.length() - eq - 1;
        if (eq <= 0 || digits < 1 || digits > 4) {
            return NOT_AN_ASSIGNMENT;
        }
        int index = 0;
        for (int k = eq + 1; k < a.length(); k++) {
            char c = a.charAt(k);
            if (c < '0' || c > '9') {
                return NOT_AN_ASSIGNMENT;
            }
            index = index * 10 + (c - '0');
        }
        return index < count ? index : NOT_AN_ASSIGNMENT;
    }

    /** Whether the pager index of assignment {@code a} (a number, {@link #pagerOf}) is written with a leading zero. */
    private static boolean leadingZero(String a) {
        int eq = a.lastIndexOf('=');
        return a.length() - eq - 1 > 1 && a.charAt(eq + 1) == '0';
    }

    /** {@code a} with its pager index written without leading zeros (for the sentence). */
    private static String canonical(String a) {
        int eq = a.lastIndexOf('=');
        return a.substring(0, eq + 1) + Integer.parseInt(a.substring(eq + 1));
    }

    /** The assignments' indexes by object name (a view stated out of the canonical order). */
    private int[] sortedByObject() {
        Integer[] order = new Integer[proto.getAssignmentsCount()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> compareObjects(assignment(a), assignment(b)));
        int[] sorted = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            sorted[i] = order[i];
        }
        return sorted;
    }

    private String assignment(int i) {
        return proto.getAssignments(i);
    }

    /** The assignment naming {@code object} (its index in {@link #proto}), or -1. */
    private int find(String object) {
        int lo = 0;
        int hi = pagers.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int i = byObject == null ? mid : byObject[mid];
            String a = assignment(i);
            int c = compareToObject(object, a, a.lastIndexOf('='));
            if (c == 0) {
                return i;
            }
            if (c < 0) {
                hi = mid - 1;
            } else {
                lo = mid + 1;
            }
        }
        return -1;
    }

    /** Whether a kernel with this view sends {@code object} to the pager it stated the view to. */
    boolean sendsHere(String object) {
        return pagerFor(object) == Integer.toUnsignedLong(proto.getPagerIndex());
    }

    /**
     * The index, in the kernel's own pager list, of the pager this view sends {@code object} to (the
     * number its assignment writes, read once: {@link #sendsHere} compares the same; -1 for an
     * assignment that is no number below the count, in a view that is not valid).
     */
    long pagerFor(String object) {
        int i = find(object);
        if (i >= 0) {
            return pagers[i];
        }
        if (proto.getPagerCount() <= 1) {
            return 0;
        }
        return crc(object) % proto.getPagerCount();
    }

    /** The rule, xp-spec 2.8: CRC-32 of the UTF-8 name. */
    private static long crc(String object) {
        CRC32 crc = new CRC32();
        crc.update(object.getBytes(StandardCharsets.UTF_8));
        return crc.getValue();
    }

    /** Two assignments by their objects' names (the text before each one's last '='), in code point order. */
    private static int compareObjects(String a, String b) {
        return compareNames(a, a.lastIndexOf('='), b, b.lastIndexOf('='));
    }

    /** {@code object} against the name of assignment {@code a} (its first {@code end} characters). */
    private static int compareToObject(String object, String a, int end) {
        return compareNames(object, object.length(), a, end);
    }

    /**
     * The first {@code na} characters of {@code a} against the first {@code nb} of {@code b}, in
     * code point order, which is UTF-8 byte order (xp-spec 2.8's order of a view): UTF-16 order
     * but for surrogates, which come after every other character (as in ICU's code point order
     * comparison of UTF-16 strings), without decoding either.
     */
    private static int compareNames(String a, int na, String b, int nb) {
        int n = Math.min(na, nb);
        for (int k = 0; k < n; k++) {
            char ca = a.charAt(k);
            char cb = b.charAt(k);
            if (ca != cb) {
                return Integer.compare(inCodePointOrder(ca), inCodePointOrder(cb));
            }
        }
        return Integer.compare(na, nb);
    }

    /** A UTF-16 unit moved so that surrogates (code points past U+FFFF) sort after U+E000..U+FFFF. */
    private static int inCodePointOrder(char c) {
        if (c < 0xD800) {
            return c;
        }
        return c >= 0xE000 ? c - 0x800 : c + 0x2000;
    }
}
