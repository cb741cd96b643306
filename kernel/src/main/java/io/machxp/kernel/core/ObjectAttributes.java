package io.machxp.kernel.core;

import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.xp.CopyStrategy;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectChangeAttributes;
import io.machxp.proto.xp.MemoryObjectChangeCompleted;
import io.machxp.proto.xp.MemoryObjectReady;

/**
 * An object's attributes as the pager sets them (Mach's may_cache and copy strategy, XP spec
 * 6.11): in memory_object_ready, and changed with memory_object_change_attributes. Part of the
 * kernel core: core thread only.
 * <pre>
 *  ready / change_attributes  -> may_cache taken; a copy strategy NONE or DELAY taken (XP maps
 *                                objects shared and makes no copies, so both hold as they are),
 *                                CALL or TEMPORARY refused (the earlier one stays)
 *  ... with reply             -> memory_object_change_completed(the attributes now, the refusal)
 *  may_cache false and no     -> every page no fault or live futex needs goes back (data_return
 *   task maps the object         if dirty or precious) and is dropped: at the change, and when
 *                                the last task mapping it ends
 * </pre>
 */
final class ObjectAttributes {
    private ObjectAttributes() {}

    static void onReady(KernelCore core, VmObject o, MemoryObjectReady r) {
        o.mayCache = r.getMayCache();
        String refused = refusal(r.getCopyStrategy());
        if (refused != null) {
            core.violation("memory_object_ready with a copy strategy this kernel refuses (" + refused + ")",
                    o.objectId, 0);
        } else {
            o.copyStrategy = r.getCopyStrategy();
        }
    }

    static void change(KernelCore core, VmObject o, MemoryObjectChangeAttributes c) {
        o.mayCache = c.getMayCache();
        String refused = refusal(c.getCopyStrategy());
        if (refused == null) {
            o.copyStrategy = c.getCopyStrategy();
        }
        if (c.getReply()) {
            core.sessions.send(KernelToPager.newBuilder().setMemoryObjectChangeCompleted(MemoryObjectChangeCompleted.newBuilder()
                    .setObjectId(o.objectId).setMayCache(o.mayCache).setCopyStrategy(o.copyStrategy)
                    .setError(refused == null ? "" : refused)).build());
        }
        dropIfUnmapped(core, o);
    }

    /** A task's mapping of {@code o} went (its task ended). */
    static void unmapped(KernelCore core, VmObject o) {
        o.mappings--;
        dropIfUnmapped(core, o);
        core.sessions.lost.unmapped(o);
    }

    /** With may_cache false and no task mapping {@code o}: drop what may not be cached. */
    private static void dropIfUnmapped(KernelCore core, VmObject o) {
        if (!o.mayCache && o.mappings <= 0) {
            core.pages.returnAll(o, true);
        }
    }

    /** Null if the kernel honours {@code s}, else why not. */
    private static String refusal(CopyStrategy s) {
        return switch (s) {
            case MEMORY_OBJECT_COPY_NONE, MEMORY_OBJECT_COPY_DELAY -> null;
            case MEMORY_OBJECT_COPY_CALL -> "copy strategy MEMORY_OBJECT_COPY_CALL needs memory_object_copy, which XP "
                    + "leaves out: this kernel maps objects shared and never copies them";
            case MEMORY_OBJECT_COPY_TEMPORARY -> "copy strategy MEMORY_OBJECT_COPY_TEMPORARY is for temporary objects "
                    + "of the default pager, which XP has not";
            default -> "copy strategy " + s + " is not one of Mach's";
        };
    }
}
