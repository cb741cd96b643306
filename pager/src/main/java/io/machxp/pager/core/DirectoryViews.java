package io.machxp.pager.core;

import io.machxp.proto.xp.PagerDirectoryView;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.TreeSet;
import java.util.zip.CRC32;

/**
 * The check that every kernel of this pager was given the same pager directory (xp-spec 2.8,
 * docs/multi-pager.md). Kernels choose an object's pager by configuration: two kernels whose
 * directories differ (another pager list, order or assignments) would ask two pagers for one
 * object, and a pager that serves every object it is asked for would keep a second copy of it,
 * silently. Each kernel_hello states the directory as this pager sees it; the pager compares it
 * with the ones its open sessions of other kernel names stated, object by object over the objects
 * it serves: does each directory send the object here? Pager core thread only; no state
 * of its own (each session keeps its view, {@link KernelSession#directory}).
 *
 * <pre>
 *  hello without a directory (older kernel)      -> not checked, and no reference
 *  a view that is not valid ({@link #invalid})    -> the stream ends (EINVAL); never a reference
 *  no open session of another name stated one    -> taken: the reference from now on
 *  sends each object served here as the others  -> taken
 *  sends one here that another sends elsewhere,  -> the stream ends (EINVAL), naming both
 *    or the reverse
 * </pre>
 */
final class DirectoryViews {
    private DirectoryViews() {}

    /**
     * Why kernel {@code kernelName}'s {@code view} may not be taken beside the {@code open}
     * sessions' (a sentence naming both directories and an object they send to different pagers),
     * or null if it may. Only the objects this pager serves ({@code served}) are compared: for each,
     * whether the directory sends it here. Directories that differ elsewhere (a kernel given only
     * this pager, whose objects it sends here as the others do) share no object's copy.
     */
    static String refusal(Collection<KernelSession> open, String kernelName, PagerDirectoryView view,
            Collection<String> served, String pager) {
        // in session id order, so every replica names the same other kernel (not the map's order)
        for (KernelSession other : open.stream().sorted(java.util.Comparator.comparingLong(o -> o.id)).toList()) {
            if (other.directory == null || other.gone || other.kernelName == null
                    || other.kernelName.equals(kernelName) || other.directory.equals(view)) {
                continue;
            }
            for (String object : new TreeSet<>(served)) {
                boolean here = sendsHere(view, object);
                if (here == sendsHere(other.directory, object)) {
                    continue;
                }
                return "kernel '" + kernelName + "' was given another pager directory than kernel '" + other.kernelName
                        + "', which is connected to pager " + pager + ": '" + kernelName + "' has " + describe(view)
                        + ", '" + other.kernelName + "' has " + describe(other.directory) + ", so object '" + object
                        + "' would be served here for '" + (here ? kernelName : other.kernelName) + "' and by another "
                        + "pager for '" + (here ? other.kernelName : kernelName) + "'. Every kernel of a cluster must be "
                        + "given the same --pager list, in the same order, and the same --object-pagers: two kernels "
                        + "that disagree would each use their own copy of an object (docs/multi-pager.md)";
            }
        }
        return null;
    }

    /** The most pagers a view may count, and the most assignments it may list. */
    static final int MAX_PAGER_COUNT = 1024;
    static final int MAX_ASSIGNMENTS = 65536;

    /**
     * Why {@code v} is not a valid view (a sentence), or null if it is: 1 to {@link #MAX_PAGER_COUNT}
     * pagers, this pager's index below the count, at most {@link #MAX_ASSIGNMENTS} assignments, each
     * "object=pager" with a non-empty object name, a decimal pager index below the
     * count, and no object assigned twice. An invalid view would make every object "elsewhere" (or
     * here) and, taken as the reference, refuse every correctly configured kernel.
     */
    static String invalid(PagerDirectoryView v) {
        int count = v.getPagerCount();
        if (count < 1 || count > MAX_PAGER_COUNT) {
            return "a pager count of " + Integer.toUnsignedString(count) + " (1.." + MAX_PAGER_COUNT + ")";
        }
        if (Integer.compareUnsigned(v.getPagerIndex(), count) >= 0) {
            return "this pager at index " + Integer.toUnsignedString(v.getPagerIndex()) + " of a list of " + count;
        }
        if (v.getAssignmentsCount() > MAX_ASSIGNMENTS) {
            return v.getAssignmentsCount() + " assignments (at most " + MAX_ASSIGNMENTS + ")";
        }
        java.util.Set<String> objects = new java.util.HashSet<>();
        for (String a : v.getAssignmentsList()) {
            int eq = a.lastIndexOf('=');
            String index = eq < 0 ? "" : a.substring(eq + 1);
            boolean ok = eq > 0 && !index.isEmpty() && index.length() <= 4 && index.chars().allMatch(c -> c >= '0' && c <= '9')
                    && Integer.parseInt(index) < count;
            if (!ok) {
                return "the assignment " + Shown.quoted(a) + ", not \"object=pager\" with a pager index below " + count;
            }
            if (!objects.add(a.substring(0, eq))) {
                return "object " + Shown.quoted(a.substring(0, eq)) + " assigned twice";
            }
        }
        return null;
    }

    /** Whether a kernel with this directory sends {@code object} to the pager it stated the view to. */
    static boolean sendsHere(PagerDirectoryView v, String object) {
        String prefix = object + "=";
        for (String a : v.getAssignmentsList()) {
            if (a.startsWith(prefix) && a.indexOf('=', prefix.length()) < 0) {
                return a.substring(prefix.length()).equals(Integer.toString(v.getPagerIndex()));
            }
        }
        if (v.getPagerCount() <= 1) {
            return v.getPagerIndex() == 0;
        }
        CRC32 crc = new CRC32(); // the rule, xp-spec 2.8: CRC-32 of the UTF-8 name modulo the count
        crc.update(object.getBytes(StandardCharsets.UTF_8));
        return crc.getValue() % v.getPagerCount() == v.getPagerIndex();
    }

    /** A directory view in words: "2 pagers, this one pager 1 of its list, assignments shared=0". */
    static String describe(PagerDirectoryView v) {
        return v.getPagerCount() + (v.getPagerCount() == 1 ? " pager" : " pagers") + ", this one pager "
                + v.getPagerIndex() + " of its list, " + (v.getAssignmentsCount() == 0
                        ? "no assignments beyond the CRC-32 rule"
                        : "assignments " + String.join(",", v.getAssignmentsList()));
    }
}
