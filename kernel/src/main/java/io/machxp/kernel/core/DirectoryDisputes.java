package io.machxp.kernel.core;

import io.machxp.proto.text.ClippedText;
import io.machxp.proto.xp.ObjectDispute;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The objects this kernel may use at no pager because a pager's welcome said they are in dispute
 * (xp-spec 2.8, docs/multi-pager.md; {@code PagerWelcome.disputes}): another kernel, given another
 * pager directory, uses the object at that pager, while this kernel's directory sends it to another
 * pager. Were this kernel to map it where its own directory says, the object would be served by two
 * pagers at once, each kernel using its own copy. So its {@code vm_map} of such an object fails
 * ({@link #refusal}), naming both kernels and both directories, while every other object is used
 * as usual. The kernel names the hello feature {@link #FEATURE} to be told this way; a pager
 * refuses the hello of a kernel that does not (it would not know to leave the object alone).
 *
 * <p>Per pager, the list of that pager's latest welcome of a new session: a new session's welcome
 * replaces it (the dispute may be over, its user gone); a reclaim's adds what it lists (the
 * disputes the restarted pager found for this kernel's view, xp-spec 2.8) and keeps the rest; a
 * resume's lists nothing and keeps it. Core thread only.
 */
final class DirectoryDisputes {
    private static final Logger log = LoggerFactory.getLogger(DirectoryDisputes.class);

    /** The hello feature by which the kernel takes the disputes in its welcomes instead of a refused hello. */
    static final String FEATURE = "directory_disputes";

    private final String kernelName;
    /** pager -> object -> the pager's sentence. */
    private final Map<Integer, Map<String, String>> byPager = new HashMap<>();
    /** pager -> the name its welcome gave ({@code PagerWelcome.pager_name}), for the sentences. */
    private final Map<Integer, String> pagerNames = new HashMap<>();

    DirectoryDisputes(String kernelName) {
        this.kernelName = kernelName;
    }

    /**
     * Pager {@code pager} welcomed this kernel listing {@code disputes}; {@code fresh}: the welcome
     * of a new session (which replaces that pager's list), else a resume's (which lists nothing) or
     * a reclaim's (which adds to it). {@code inUse}: whether this kernel already uses an object (mapped before the
     * dispute was seen: after a lost session, the pager could not see this kernel's directory
     * meanwhile), logged as an error since two copies may then exist.
     */
    void welcomed(int pager, String pagerName, List<ObjectDispute> disputes, boolean fresh,
            java.util.function.Predicate<String> inUse) {
        if (!pagerName.isEmpty()) {
            pagerNames.put(pager, ClippedText.chars(pagerName, ClippedText.MAX_NAME_CHARS)); // dir3-review LOW-1
        }
        Map<String, String> list = fresh ? new TreeMap<>() : byPager.computeIfAbsent(pager, p -> new TreeMap<>());
        for (ObjectDispute in : disputes) {
            // kept and logged clipped (dir3-review LOW-1): the reason goes into a vm_map's status
            ObjectDispute d = in.toBuilder().setReason(ClippedText.utf8(in.getReason(), ClippedText.MAX_REASON_BYTES))
                    .build();
            list.put(d.getObject(), d.getReason());
            if (inUse.test(d.getObject())) {
                log.error("kernel {}: {} says object '{}', which this kernel uses at another pager, is in "
                        + "dispute, so two copies of it may exist; its mappings keep working, new ones are refused; "
                        + "stop one of the two kernels' use of it now: {}", kernelName, pager(pager),
                        ClippedText.chars(d.getObject(), 255), d.getReason());
            } else {
                log.warn("kernel {}: object '{}' is in dispute at {} and will not be mapped: {}", kernelName,
                        ClippedText.chars(d.getObject(), 255), pager(pager), d.getReason());
            }
        }
        if (list.isEmpty()) {
            byPager.remove(pager);
        } else {
            byPager.put(pager, list);
        }
    }

    /**
     * Why {@code object} may not be mapped (an EINVAL for its vm_map), or null if it may; checked at
     * every vm_map. {@code held}: this kernel already uses the object (it mapped it before the
     * pager that lists it welcomed it, e.g. while rejoining that pager after a partition): then two
     * copies may exist, its existing mappings keep working, and a new mapping is refused all the
     * same, so the split grows no further (dir2-review H1).
     */
    KernelError refusal(String object, boolean held) {
        for (var e : new TreeMap<>(byPager).entrySet()) {
            String reason = e.getValue().get(object);
            if (reason != null) {
                String what = held
                        ? "this kernel already uses it, mapped before that pager welcomed it, so two copies of it may "
                                + "exist now: the mappings it has keep working, but no new one is made. Stop one of "
                                + "the two kernels' use of it now, and compare the copies"
                        : "the kernel maps it at no pager, lest two pagers serve it at once";
                String pager = pager(e.getKey());
                return KernelError.of(io.machxp.proto.task.Errno.EINVAL, "memory object '%s' cannot be mapped: "
                        + "%s said, when it welcomed this kernel, that the object is in dispute (xp-spec 2.8): %s. "
                        + "So %s. Once the other kernel named there is stopped, or restarted with the right "
                        + "directory, restart kernel '%s' (this one) to map the object again (a kernel takes a "
                        + "pager's list of disputes only when it opens a session with it); the data the other "
                        + "kernel wrote to the object is in the store of %s, not of the pager this kernel's "
                        + "directory names: move it there if it is to be kept", object, pager, reason, what,
                        kernelName, pager);
            }
        }
        return null;
    }

    /** "pager 'p0' (pager 1 of this kernel's --pager list)", or without the name if its welcome gave none. */
    private String pager(int pager) {
        String name = pagerNames.get(pager);
        return name == null ? "pager " + pager + " of this kernel's --pager list"
                : "pager '" + name + "' (pager " + pager + " of this kernel's --pager list)";
    }
}
