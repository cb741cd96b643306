package io.machxp.kernel.core;

import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.MemoryObjectSupplyCompleted;
import io.machxp.proto.xp.VmProt;

/**
 * memory_object_data_supply on the kernel side, and Mach's memory_object_supply_completed (XP spec
 * 6.10). Part of the kernel core: core thread only.
 * <pre>
 *  data_supply(range)             -> each page installed ({@link PageCache#onSupply}), precious
 *                                    if the supply says so; a page the kernel holds already is
 *                                    left as it is (Mach: KERN_MEMORY_PRESENT), the others go in
 *  ... with reply                 -> memory_object_supply_completed(range), with the error and the
 *                                    offset of the first page not installed, if any
 * </pre>
 * A supply the kernel cannot use at all (no such object, not whole pages, a bad lock value) is a
 * violation; with reply it is still answered, with an error.
 */
final class SupplyCompleted {
    private SupplyCompleted() {}

    static void onSupply(KernelCore core, PageCache pages, MemoryObjectDataSupply d, int pageSize) {
        VmObject o = core.objects.readyObject(d.getObjectId(), d.getOffset());
        long end = d.getOffset() + d.getData().size();
        String error = "";
        long errorOffset = 0;
        if (o == null || d.getData().size() == 0 || d.getData().size() % pageSize != 0
                || d.getLockValue() == VmProt.UNRECOGNIZED) {
            core.violation("memory_object_data_supply it cannot use", d.getObjectId(), d.getOffset());
            error = "the kernel cannot use this supply: no ready object " + d.getObjectId()
                    + ", data not whole pages, or a lock value outside VmProt";
            errorOffset = d.getOffset();
        } else {
            for (long off = d.getOffset(); off < end; off += pageSize) {
                if (off >= o.size) {
                    error = "the range leaves '" + o.name + "' (size 0x" + Long.toHexString(o.size) + ")";
                    errorOffset = off;
                    break;
                }
                int at = (int) (off - d.getOffset());
                if (!pages.onSupply(o, off, d.getData().substring(at, at + pageSize).toByteArray(), d.getLockValue(),
                        d.getVersion(), d.getPrecious()) && error.isEmpty()) {
                    error = "the kernel already holds the page at 0x" + Long.toHexString(off) + " (KERN_MEMORY_PRESENT)";
                    errorOffset = off;
                }
            }
        }
        if (d.getReply()) {
            core.sessions.send(KernelToPager.newBuilder().setMemoryObjectSupplyCompleted(MemoryObjectSupplyCompleted.newBuilder()
                    .setObjectId(d.getObjectId()).setOffset(d.getOffset()).setLength(d.getData().size())
                    .setError(error).setErrorOffset(errorOffset)).build());
        }
    }
}
