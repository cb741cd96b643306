package io.machxp.pager.core;

import io.machxp.proto.xp.PagerDirectoryView;
import java.util.Collection;

/**
 * The check that every kernel of this pager was given the same pager directory (xp-spec 2.8,
 * docs/multi-pager.md). Kernels choose an object's pager by configuration: two kernels whose
 * directories differ (another pager list, order or assignments) would ask two pagers for one
 * object, and a pager that serves every object it is asked for would keep a second copy of it,
 * silently. Each kernel_hello states the directory as this pager sees it; the pager compares it
 * with the ones its open sessions of other kernel names stated. Pager core thread only; no state
 * of its own (each session keeps its view, {@link KernelSession#directory}).
 *
 * <pre>
 *  hello without a directory (older kernel)      -> not checked, and no reference
 *  no open session of another name stated one    -> taken: the reference from now on
 *  equal to the other sessions'                  -> taken
 *  different                                     -> the stream ends (EINVAL), naming both
 * </pre>
 */
final class DirectoryViews {
    private DirectoryViews() {}

    /**
     * Why kernel {@code kernelName}'s {@code view} may not be taken beside the {@code open}
     * sessions' (a sentence naming both directories), or null if it may.
     */
    static String refusal(Collection<KernelSession> open, String kernelName, PagerDirectoryView view, String pager) {
        for (KernelSession other : open) {
            if (other.directory == null || other.gone || other.kernelName == null
                    || other.kernelName.equals(kernelName) || other.directory.equals(view)) {
                continue;
            }
            return "kernel '" + kernelName + "' was given another pager directory than kernel '" + other.kernelName
                    + "', which is connected to pager " + pager + ": '" + kernelName + "' has " + describe(view)
                    + ", '" + other.kernelName + "' has " + describe(other.directory) + ". Every kernel of a cluster "
                    + "must be given the same --pager list, in the same order, and the same --object-pagers: two "
                    + "kernels that disagree would each use their own copy of an object (docs/multi-pager.md)";
        }
        return null;
    }

    /** A directory view in words: "2 pagers, this one pager 1 of its list, assignments shared=0". */
    static String describe(PagerDirectoryView v) {
        return v.getPagerCount() + (v.getPagerCount() == 1 ? " pager" : " pagers") + ", this one pager "
                + v.getPagerIndex() + " of its list, " + (v.getAssignmentsCount() == 0
                        ? "no assignments beyond the CRC-32 rule"
                        : "assignments " + String.join(",", v.getAssignmentsList()));
    }
}
