package io.machxp.pager.core;

import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.Reclaim;
import io.machxp.proto.xp.ReclaimedObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A reclaim that travels in parts (xp-spec 9.4, "Parts"), assembled until its last part: the
 * kernel_hello whose reclaim says {@code continues}, then memory_object_reclaim_continue messages.
 * Part of the pager core ({@link PagerGrace}): core thread only; one per session, while it is
 * assembled.
 *
 * <h2>Overview</h2>
 * <pre>
 *  hello (continues)          -> ASSEMBLING: its objects kept, its size counted
 *  continue (continues)       -> its objects added (an object id named again with the same name
 *                                and page size is the same object: futexes and pages add up; with
 *                                another name or size it stays apart, and the whole reclaim is
 *                                refused as naming an id twice), its size counted
 *  continue (last)            -> the whole hello, judged as a reclaim in one message would be
 *  over MAX_BYTES or MAX_PARTS-> refused (EAGAIN) by the caller: the pager keeps no more of it
 *  over the session's futex or
 *  object limit               -> refused (EINVAL) by the caller, as the whole would be, at once
 * </pre>
 * All reclaims being assembled together keep at most {@link #MAX_BYTES_ASSEMBLING} (the caller
 * counts; EAGAIN past it).
 * The bound is what the pager buffers for one kernel before it judges anything: every part's
 * serialized size, summed, within {@link #MAX_BYTES}, and at most {@link #MAX_PARTS} parts.
 */
final class ReclaimParts {
    /** The most bytes of all parts of one reclaim (the kernel messages' serialized sizes, summed): 64 MiB. */
    static final long MAX_BYTES = 64L << 20;
    /** The most parts of one reclaim, the hello included. */
    static final int MAX_PARTS = 256;
    /**
     * The most bytes of all reclaims being assembled at once, summed over sessions: 256 MiB (four
     * whole reclaims at the bound). Past it a further part is refused (EAGAIN).
     */
    static final long MAX_BYTES_ASSEMBLING = 256L << 20;

    private final KernelHello hello;
    /** The objects so far, by object id; an id named again differently stays apart (the second list). */
    private final Map<Integer, ReclaimedObject.Builder> objects = new LinkedHashMap<>();
    private final List<ReclaimedObject> apart = new ArrayList<>();
    private long bytes;
    private int parts;
    private long futexes;

    /** The first part: {@code hello}, whose reclaim says {@code continues} (its objects are added as a part's). */
    ReclaimParts(KernelHello hello) {
        this.hello = hello;
    }

    /** A part's objects (the hello's, then each continue's); {@code size} its message's bytes. */
    void add(List<ReclaimedObject> list, int size) {
        bytes += size;
        parts++;
        for (ReclaimedObject o : list) {
            futexes += o.getFutexesCount();
            ReclaimedObject.Builder known = objects.get(o.getObjectId());
            if (known == null) {
                objects.put(o.getObjectId(), o.toBuilder());
            } else if (known.getName().equals(o.getName()) && known.getPageSize() == o.getPageSize()) {
                known.addAllFutexes(o.getFutexesList()).addAllPages(o.getPagesList());
            } else {
                apart.add(o);
            }
        }
    }

    /**
     * What the whole reclaim would be refused for anyway (EINVAL), checked at each part so that
     * nothing more of it is kept: more futexes than a session may hold, more objects than a session
     * may have. Null while neither.
     */
    String overSessionLimits(int maxFutexes, int maxObjects) {
        if (futexes > maxFutexes) {
            return "it names more than " + maxFutexes + " futexes, the most a session may hold";
        }
        if (objects.size() + apart.size() > maxObjects) {
            return "it names more than " + maxObjects + " objects";
        }
        return null;
    }

    /** Why the reclaim is over the bound, or null while within it. */
    String overBound() {
        if (parts > MAX_PARTS) {
            return "its reclaim came in more than " + MAX_PARTS + " parts, the most a pager takes";
        }
        if (bytes > MAX_BYTES) {
            return "its reclaim's parts add up to more than " + MAX_BYTES + " bytes (" + bytes + " so far), the most "
                    + "a pager takes";
        }
        return null;
    }

    /** The kernel id its hello reclaims. */
    int kernelId() {
        return hello.getReclaim().getKernelId();
    }

    /** Its hello's reclaim header (its boot_nonce and attempt). */
    Reclaim header() {
        return hello.getReclaim();
    }

    /** The kernel name its hello gave. */
    String kernelName() {
        return hello.getKernelName();
    }

    int parts() {
        return parts;
    }

    long bytes() {
        return bytes;
    }

    /** The whole reclaim, in one hello (no longer saying {@code continues}). */
    KernelHello whole() {
        Reclaim.Builder r = hello.getReclaim().toBuilder().clearObjects().setContinues(false);
        objects.values().forEach(r::addObjects);
        r.addAllObjects(apart);
        return hello.toBuilder().setReclaim(r).build();
    }
}
