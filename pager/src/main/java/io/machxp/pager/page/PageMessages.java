package io.machxp.pager.page;

import io.machxp.proto.xp.MemoryObjectDataError;
import io.machxp.proto.xp.MemoryObjectDataSupply;
import io.machxp.proto.xp.MemoryObjectDataUnavailable;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.ReturnPolicy;
import io.machxp.proto.xp.VmProt;

/** The pager-to-kernel page messages, one page each. */
final class PageMessages {
    private PageMessages() {}

    /** Take write access away; the kernel keeps a read-only copy and returns dirty data. */
    static PagerToKernel downgrade(int objectId, long offset, int pageSize) {
        return lockRequest(objectId, offset, pageSize, ReturnPolicy.RETURN_DIRTY, false, VmProt.VM_PROT_WRITE, true);
    }

    /** Take the page away; the kernel returns dirty data first. */
    static PagerToKernel flush(int objectId, long offset, int pageSize) {
        return lockRequest(objectId, offset, pageSize, ReturnPolicy.RETURN_DIRTY, true, VmProt.VM_PROT_NONE, true);
    }

    /** Take the page away without its data (a copy the pager cannot accept: refused in a reclaim). */
    static PagerToKernel discard(int objectId, long offset, int pageSize) {
        return lockRequest(objectId, offset, pageSize, ReturnPolicy.RETURN_NONE, true, VmProt.VM_PROT_NONE, false);
    }

    /** The answer to a data_unlock by a kernel that holds a read-only copy: it may write now. */
    static PagerToKernel allowWrite(int objectId, long offset, int pageSize) {
        return lockRequest(objectId, offset, pageSize, ReturnPolicy.RETURN_NONE, false, VmProt.VM_PROT_NONE, false);
    }

    /**
     * data_supply, or data_unavailable (zero fill) when {@code data} is null and the page is not
     * {@code precious} (a precious page goes as a data_supply of zeros, with reply: spec 6.10).
     */
    static PagerToKernel supply(int objectId, long offset, int pageSize, byte[] data, long version,
            VmProt lockValue, boolean precious) {
        if (data == null && precious) {
            data = new byte[pageSize];
        }
        if (data == null) {
            return PagerToKernel.newBuilder().setMemoryObjectDataUnavailable(MemoryObjectDataUnavailable.newBuilder()
                    .setObjectId(objectId).setOffset(offset).setLength(pageSize).setLockValue(lockValue)
                    .setVersion(version)).build();
        }
        return PagerToKernel.newBuilder().setMemoryObjectDataSupply(MemoryObjectDataSupply.newBuilder()
                .setObjectId(objectId).setOffset(offset).setData(PageBytes.wrap(data))
                .setLockValue(lockValue).setVersion(version).setPrecious(precious).setReply(precious)).build();
    }

    static PagerToKernel error(int objectId, long offset, long length, String reason) {
        return PagerToKernel.newBuilder().setMemoryObjectDataError(MemoryObjectDataError.newBuilder()
                .setObjectId(objectId).setOffset(offset).setLength(length).setReason(reason)).build();
    }

    private static PagerToKernel lockRequest(int objectId, long offset, int pageSize, ReturnPolicy shouldReturn,
            boolean shouldFlush, VmProt lockValue, boolean reply) {
        return PagerToKernel.newBuilder().setMemoryObjectLockRequest(MemoryObjectLockRequest.newBuilder()
                .setObjectId(objectId).setOffset(offset).setLength(pageSize).setShouldReturn(shouldReturn)
                .setShouldFlush(shouldFlush).setLockValue(lockValue).setReply(reply)).build();
    }
}
