package io.machxp.pager.core;

import io.machxp.proto.xp.PagerDirectoryView;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * One pager directory view as kernels state it in their hellos (xp-spec 2.8), parsed once: where
 * it sends an object is a binary search of its assignments by object name, O(log n), never a scan
 * (xpreview-review HIGH-1: an init scanned every session's up to 65,536 assignments). Kernels
 * configured alike state equal views, and the pager keeps one {@code StatedView} for all of them
 * ({@link StatedViews}, which also keeps {@link #sessions}). Immutable but for those sessions; not
 * in any snapshot: a session's image keeps its view as stated ({@link #proto}), and the parse is
 * made again on restore. Pager core thread only.
 *
 * <p>An assignment is "object=pager" (valid by {@link DirectoryViews#invalid}: at most one per
 * object, the pager a decimal index of at most four digits, after the last '='); it names an
 * object exactly (the text before its last '='). An object no assignment names goes by the rule:
 * CRC-32 of its UTF-8 name modulo the pager count, and with one pager, pager 0.
 */
final class StatedView {
    /** The view as stated (what snapshots keep and hellos are compared by). */
    final PagerDirectoryView proto;
    /** Its serialized size, which counts under {@link StatedViews#MAX_BYTES}. */
    final long bytes;
    /** The indexes of {@link #proto}'s assignments in the order of their objects' names (String order). */
    private final int[] byObject;
    /** This pager's index as the view's text gives it, to compare an assignment's pager with. */
    private final String here;
    /** The open sessions that stated it ({@link StatedViews} keeps this; insertion order, never relied on). */
    final Set<KernelSession> sessions = new LinkedHashSet<>();

    StatedView(PagerDirectoryView proto) {
        this.proto = proto;
        this.bytes = proto.getSerializedSize();
        this.here = Integer.toString(proto.getPagerIndex());
        Integer[] order = new Integer[proto.getAssignmentsCount()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> compareObjects(assignment(a), assignment(b)));
        this.byObject = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            byObject[i] = order[i];
        }
    }

    private String assignment(int i) {
        return proto.getAssignments(i);
    }

    /** The assignment naming {@code object} (its index in {@link #proto}), or -1. */
    private int find(String object) {
        int lo = 0;
        int hi = byObject.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            String a = assignment(byObject[mid]);
            int c = compareToObject(object, a, a.lastIndexOf('='));
            if (c == 0) {
                return byObject[mid];
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
        int i = find(object);
        if (i >= 0) {
            String a = assignment(i);
            return a.substring(a.lastIndexOf('=') + 1).equals(here); // as text: "01" is not pager 1's "1"
        }
        if (proto.getPagerCount() <= 1) {
            return proto.getPagerIndex() == 0;
        }
        return crc(object) % proto.getPagerCount() == proto.getPagerIndex();
    }

    /** The index, in the kernel's own pager list, of the pager this view sends {@code object} to. */
    long pagerFor(String object) {
        int i = find(object);
        if (i >= 0) {
            String a = assignment(i);
            return Long.parseLong(a.substring(a.lastIndexOf('=') + 1));
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

    /** Two assignments by their objects' names (the text before each one's last '='). */
    private static int compareObjects(String a, String b) {
        int ea = a.lastIndexOf('=');
        int eb = b.lastIndexOf('=');
        int n = Math.min(ea, eb);
        for (int k = 0; k < n; k++) {
            int c = Character.compare(a.charAt(k), b.charAt(k));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(ea, eb);
    }

    /** {@code object} against the name of assignment {@code a} (its first {@code end} characters). */
    private static int compareToObject(String object, String a, int end) {
        int n = Math.min(object.length(), end);
        for (int k = 0; k < n; k++) {
            int c = Character.compare(object.charAt(k), a.charAt(k));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(object.length(), end);
    }
}
