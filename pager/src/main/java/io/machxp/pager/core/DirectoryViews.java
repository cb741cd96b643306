package io.machxp.pager.core;

import io.machxp.proto.text.ClippedText;
import io.machxp.proto.text.Utf8Order;
import io.machxp.proto.xp.ObjectDispute;
import io.machxp.proto.xp.PagerDirectoryView;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The check that every kernel of this pager was given the same pager directory (xp-spec 2.8,
 * docs/multi-pager.md). Kernels choose an object's pager by configuration: two kernels whose
 * directories differ (another pager list, order or assignments) would ask two pagers for one
 * object, and a pager that serves every object it is asked for would keep a second copy of it,
 * silently. Each kernel_hello states the directory as this pager sees it; the pager compares it
 * with the ones its open sessions of other kernel names stated, object by object over the objects
 * it serves: does each directory send the object here? Pager core thread only; no state
 * of its own: each session keeps its view ({@link KernelSession#directory}), each distinct view
 * parsed once and kept once ({@link StatedViews}), so that an init of an object no view sends
 * elsewhere costs a look-up, and a hello looks at the sessions of other views only, never at
 * assignment lists (xpreview-review HIGH-1: both scanned every session's assignments).
 *
 * <p>No session is ever ended because of another kernel's view or init: whoever would start a
 * second copy is the one refused, but the first kernel to use an object here decides (below).
 * <pre>
 *  hello without a directory (older kernel)      -> not checked, and no reference
 *  a view that is not valid ({@link StatedView#invalid}) -> the stream ends (EINVAL); never a reference
 *  sends an object served here elsewhere, while  -> the kernel named "directory_disputes": taken,
 *    an open session of another name, whose view    and the welcome lists each such object
 *    sends it here, uses it here ({@link #disputes})  ({@code PagerWelcome.disputes}), its reason
 *                                                   naming both; the kernel uses none of them
 *                                                   anywhere (its vm_map fails) and every other
 *                                                   object as usual. Else (an older kernel): the
 *                                                   stream ends (EINVAL) with the first reason
 *                                                   ({@link #refusal})
 *  else                                          -> taken, whatever kernels that use nothing in
 *                                                   dispute here stated
 *  memory_object_init of X by K, K's view sends  -> the init is refused: memory_object_destroy,
 *    X here, while an open session of another       its reason naming both directories (EINVAL
 *    name (holding anything here or not) states a   at K's vm_map); K's session and every other
 *    view that sends X elsewhere ({@link #initRefusal}) go on, and K may use every other object
 * </pre>
 * The first kernel to use an object here keeps it (xpdir-review H1): a kernel with a wrong
 * directory that initializes an object first makes this pager list that object as disputed to
 * every kernel whose view sends it elsewhere. Those kernels start and use every other object of
 * this pager; only the disputed object is unusable to them, with a sentence naming the kernel that
 * uses it here, until the operator restarts whichever kernel is wrong. (Before 2026-12-07 their
 * hello was refused, and machxp's kernel failed its start: a wrong first user locked every
 * correct kernel out of the whole pager.) Taking the object from its user instead would end that
 * kernel's use of pages it holds, and would need this pager to know which view is right.
 * A first fix (branch xpfix) had an init end every
 * kernel whose view disputed it: one misconfigured kernel's init then ended every correct kernel
 * (its review, finding 2). A hello with a resume or a reclaim (4.7, 9) is not checked
 * ({@link PagerHello#mayHello}): the kernel used those objects here. A reclaim's welcome lists
 * the objects in dispute for its view all the same ({@link #listable}; GraceReclaims), and the
 * pager logs each as an error: after a restart, something there means two copies may exist. A welcome's list is bounded
 * (1,024 entries, 2 MiB of names and reasons; a reason at most 911 bytes, 719 with an ASCII pager
 * name, without the object's name), so it fits gRPC's 4 MiB whatever the directories and names (late13-review LOW-4). A
 * declared-dead session's view is forgotten with the session: while a correct kernel is away from
 * this pager for more than a lease, nothing here refuses a misconfigured kernel the objects that
 * kernel's view sends elsewhere (docs/multi-pager.md, "When two copies can still appear").
 * The pager has no directory of its own and cannot tell which of two views is wrong; every
 * sentence names both, and only the kernel that would start using the disputed object is refused.
 */
final class DirectoryViews {
    private DirectoryViews() {}

    /**
     * Why kernel {@code kernelName}'s {@code view} may not be taken beside the open sessions'
     * ({@code views}; the first object in dispute, {@link #disputes}, named in the sentence), or null if
     * it may: for a kernel whose hello does not name {@link #DISPUTES_FEATURE}, which would not know
     * to leave the object alone.
     */
    static String refusal(StatedViews views, String kernelName, StatedView view, String pager) {
        java.util.Map.Entry<String, KernelSession> first = users(views, kernelName, view).firstEntry();
        return first == null ? null
                : reason(kernelName, view, first.getValue(), first.getKey(), pager, "object " + Shown.quoted(first.getKey()));
    }

    /**
     * The objects in dispute for kernel {@code kernelName}'s {@code view} beside the open
     * sessions' ({@code views}), by object name (UTF-8 byte order, {@link #utf8Sorted}): each object this
     * pager serves that the view sends elsewhere while an open session of another
     * name, whose own view sends it here, uses it here; its reason a short sentence naming both
     * kernels and the pager each one's view sends it to (the first such session in session id
     * order, so every replica names the same kernel; never the whole views, dir2-review H2, nor the
     * object's name, which the {@code object} field carries: a reason is at most
     * {@link #MAX_REASON_BYTES}, late13-review LOW-4). The list stops as soon as it is past either
     * bound, {@link #MAX_LISTED} entries or {@link #MAX_LISTED_BYTES} of names and reasons: a list
     * past one means there are too many ({@link #tooMany}). Empty if none. A view that differs from
     * one of a kernel that uses nothing in dispute here has none: an init then decides
     * ({@link #initRefusal}).
     */
    static List<ObjectDispute> disputes(StatedViews views, String kernelName, StatedView view, String pager) {
        List<ObjectDispute> disputes = new ArrayList<>();
        long bytes = 0;
        for (java.util.Map.Entry<String, KernelSession> e : users(views, kernelName, view).entrySet()) {
            if (disputes.size() > MAX_LISTED || bytes > MAX_LISTED_BYTES) {
                break; // past a bound: the caller refuses the hello (tooMany)
            }
            ObjectDispute d = ObjectDispute.newBuilder().setObject(e.getKey())
                    .setReason(reason(kernelName, view, e.getValue(), e.getKey(), pager, "it")).build();
            disputes.add(d);
            bytes += listedBytes(d);
        }
        return disputes;
    }

    /**
     * {@code names} in UTF-8 byte order, which is Unicode code point order (xp-spec 2.8: a welcome's
     * list is sorted so; Java's {@code String} order, by UTF-16 code units, differs for names
     * outside the Basic Multilingual Plane, dir2-review L4).
     */
    static List<String> utf8Sorted(Collection<String> names) {
        List<String> sorted = new ArrayList<>(names);
        sorted.sort(Utf8Order.NAMES);
        return sorted;
    }

    /**
     * The objects in dispute for {@code view} of kernel {@code kernelName}, in UTF-8 byte order of
     * their names: each object it sends elsewhere that an open session of another name, whose view
     * differs and sends it here, uses here; with the first such session in session id order. Only
     * the sessions of other views and the objects each uses are looked at ({@link StatedViews#others}),
     * never an assignment list or the objects served: none at all when every kernel stated the same
     * view (xpreview-review HIGH-1). Each object looked at counts as examined.
     */
    private static java.util.TreeMap<String, KernelSession> users(StatedViews views, String kernelName,
            StatedView view) {
        java.util.TreeMap<String, KernelSession> users = new java.util.TreeMap<>(Utf8Order.NAMES);
        for (KernelSession other : views.others(kernelName, view)) { // in session id order: the first user is kept
            for (io.machxp.pager.object.MemoryObject o : other.objects.values()) {
                String object = o.name();
                if (users.containsKey(object)) {
                    continue;
                }
                views.examined.increment();
                if (!view.sendsHere(object) && other.directory.sendsHere(object)) {
                    users.put(object, other);
                }
            }
        }
        return users;
    }

    /**
     * A dispute's sentence, short (dir2-review H2): the two placements, never the whole views;
     * {@code what} names the object ("it" in a welcome's list, whose {@code object} field names it).
     * Kernel names are at most 64 characters ({@link PagerHello#mayHello}), the pager's is shown to 64.
     */
    private static String reason(String kernelName, StatedView view, KernelSession other, String object,
            String pager, String what) {
        return "kernel '" + kernelName + "' was given another pager directory than kernel '" + other.kernelName
                + "', which is connected to pager " + shownPager(pager) + " and uses " + what + " there: '"
                + other.kernelName + "' sends it to " + placement(other.directory, object) + ", '" + kernelName
                + "' to " + placement(view, object) + ", so two copies of it would be used. " + SHORT_SAME;
    }

    /**
     * This pager's name in a sentence: whole up to {@link Shown#MAX_CHARS} code points, else its
     * start, cut between code points (a split surrogate pair would be written as '?', dir3-review LOW-2).
     */
    static String shownPager(String pager) {
        return ClippedText.chars(pager, Shown.MAX_CHARS);
    }

    /** What one listed dispute counts against {@link #MAX_LISTED_BYTES}: its object's and reason's UTF-8 bytes. */
    static long listedBytes(ObjectDispute d) {
        return d.getObjectBytes().size() + d.getReasonBytes().size();
    }

    /**
     * The hello feature of a kernel that takes a welcome listing the objects in dispute
     * ({@code PagerWelcome.disputes}) and uses none of them anywhere: its hello is taken, not refused.
     */
    static final String DISPUTES_FEATURE = "directory_disputes";

    /**
     * Why kernel {@code user} may not initialize {@code object} here (a sentence naming both
     * directories, for the reason of the memory_object_destroy that refuses the init), or null if
     * it may: its view sends the object here while the view of an open session of another kernel
     * name, which holds at least one object here, sends it to another pager, where that kernel
     * would use its own copy. A session that holds nothing here counts too: it may use the object
     * at the pager its view names, and two pagers that each saw only kernels holding nothing there
     * would serve two copies unseen (late5-review C1). The price (xpdir-review M1): while a kernel
     * with a wrong view is connected, the objects it sends elsewhere are refused here to everyone
     * who does not already use them, each refusal naming it. Null if
     * {@code user} stated no view (an older kernel) or its view sends the object elsewhere (it
     * asked this pager against its own directory, which is no dispute with the others). Nobody
     * else's session changes: the kernel that would start a second copy is the one refused.
     */
    static String initRefusal(StatedViews views, KernelSession user, String object, String pager) {
        if (user.directory == null || !user.directory.sendsHere(object)) {
            return null;
        }
        views.examined.increment();
        if (!views.sentElsewhere(object)) {
            return null; // no open session's view sends it elsewhere: one look-up (xpreview-review HIGH-1)
        }
        KernelSession other = null; // the first in session id order, so that every replica names the same
        for (StatedView v : views.views()) {
            if (v == user.directory) {
                continue;
            }
            views.examined.increment();
            if (v.sendsHere(object)) {
                continue;
            }
            // a kernel that holds nothing here counts too: it may use the object at its other pager
            // (late5-review C1: counting only holders let two copies run unseen)
            for (KernelSession o : v.sessions) {
                views.examined.increment();
                if (o != user && !o.gone && o.kernelName != null && !o.kernelName.equals(user.kernelName)
                        && (other == null || o.id < other.id)) {
                    other = o;
                }
            }
        }
        if (other == null) {
            return null;
        }
        return "pager " + shownPager(pager) + " refuses object " + Shown.quoted(object) + " to kernel '"
                + user.kernelName + "': kernel '" + other.kernelName + "', connected to this pager, was given "
                + "another pager directory, which sends it to another pager, so the two would use two copies "
                + "of it. '" + user.kernelName + "' sends it to " + placement(user.directory, object) + " ("
                + summary(user.directory.proto) + "), '" + other.kernelName + "' to "
                + placement(other.directory, object) + " (" + summary(other.directory.proto) + "). " + SAME_DIRECTORY
                + "; restart the kernel whose directory is wrong with the right one (the others keep their "
                + "sessions)";
    }

    /**
     * The most objects a welcome lists as disputed (dir2-review H2). A hello with more is refused
     * ({@link #tooMany}).
     */
    static final int MAX_LISTED = 1024;

    /**
     * The most bytes of object names and reasons (UTF-8) a welcome's list carries (late13-review
     * LOW-4): the count alone let 1,024 long catalog names (a pager serves any name; only machxp's
     * kernel caps them at 255 characters) make a welcome past gRPC's 4 MiB message limit, which
     * the kernel's stream then fails on with a bare RESOURCE_EXHAUSTED. 2 MiB leaves the rest of the
     * welcome and protobuf's few bytes per entry far below 4 MiB. A hello whose list would be
     * longer is refused ({@link #tooMany}).
     */
    static final long MAX_LISTED_BYTES = 2L << 20;

    /**
     * The most bytes (UTF-8) of a listed dispute's reason (xp-spec 12.43): machxp's are at most 911
     * (its fixed words, two ASCII kernel names of at most 64 characters each named twice, the
     * pager's name to 64 code points, 256 bytes, and the placements' numbers up to 1,023); 719 with
     * an ASCII pager name (dir3-review LOW-2, DirectoryReasonBytesTest).
     */
    static final int MAX_REASON_BYTES = 1024;

    /**
     * Why a hello whose {@link #disputes} are {@code disputes} is refused though its kernel takes a
     * list, or null if the list fits ({@link #MAX_LISTED} entries, {@link #MAX_LISTED_BYTES}): the
     * kernel cannot be told of every object it must leave alone, so it is not welcomed at all (its
     * stream ends EINVAL).
     */
    static String tooMany(List<ObjectDispute> disputes, String kernelName, String pager) {
        long bytes = 0;
        for (ObjectDispute d : disputes) {
            bytes += listedBytes(d);
        }
        if (disputes.size() <= MAX_LISTED && bytes <= MAX_LISTED_BYTES) {
            return null;
        }
        String what = disputes.size() > MAX_LISTED ? "more than " + MAX_LISTED + " of the objects it serves are"
                : "objects whose names and reasons come to more than " + (MAX_LISTED_BYTES >> 20) + " MiB are";
        return "pager " + shownPager(pager) + " refuses kernel '" + kernelName + "': " + what + " in dispute with "
                + "another kernel's pager directory (too many to list in a welcome, xp-spec 2.8); the first, object "
                + Shown.quoted(disputes.get(0).getObject()) + ": " + disputes.get(0).getReason();
    }

    /**
     * The longest start of {@code disputes} (as {@link #disputes} found them) that a welcome lists:
     * at most {@link #MAX_LISTED} entries and {@link #MAX_LISTED_BYTES} of names and reasons. For a
     * reclaim's welcome (xp-spec 2.8), which is not refused for more: a refusal would take from the
     * kernel what it reclaimed, and list nothing either.
     */
    static List<ObjectDispute> listable(List<ObjectDispute> disputes) {
        long bytes = 0;
        int n = 0;
        for (ObjectDispute d : disputes) {
            if (n == MAX_LISTED || bytes + listedBytes(d) > MAX_LISTED_BYTES) {
                break;
            }
            bytes += listedBytes(d);
            n++;
        }
        return List.copyOf(disputes.subList(0, n));
    }

    /** Where {@code v} sends {@code object}: "pager 1 of its list of 2, where this pager is 0". */
    static String placement(StatedView v, String object) {
        return "pager " + v.pagerFor(object) + " of its list of " + v.proto.getPagerCount() + ", where this pager is "
                + v.proto.getPagerIndex();
    }

    /** The operator's part, short, for each listed dispute. */
    private static final String SHORT_SAME = "Give every kernel the same --pager list and --object-pagers, and "
            + "restart the one that is wrong (docs/multi-pager.md)";

    /** What every sentence asks of the operator. */
    private static final String SAME_DIRECTORY = "Every kernel of a cluster must be given the same --pager list, in "
            + "the same order, and the same --object-pagers: two kernels that disagree would each use their own copy "
            + "of an object (docs/multi-pager.md)";

    /**
     * A view's size in words, never its assignments (a view may list 65,536; the sentence of an
     * init's refusal must fit a message and a status, dir2-review L2): "2 pagers, 3 assignments
     * beyond the CRC-32 rule".
     */
    static String summary(PagerDirectoryView v) {
        int n = v.getAssignmentsCount();
        return v.getPagerCount() + (v.getPagerCount() == 1 ? " pager, " : " pagers, ")
                + (n == 0 ? "no" : Integer.toString(n)) + (n == 1 ? " assignment" : " assignments")
                + " beyond the CRC-32 rule";
    }
}
