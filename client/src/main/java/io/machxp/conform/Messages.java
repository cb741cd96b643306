package io.machxp.conform;

import com.google.protobuf.ByteString;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataRequest;
import io.machxp.proto.xp.MemoryObjectDataReturn;
import io.machxp.proto.xp.MemoryObjectDataUnlock;
import io.machxp.proto.xp.MemoryObjectFutexHeld;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.PageData;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.VmProt;

/** The kernel-to-pager messages the cases send, and a short description of what the pager sent. */
final class Messages {
    private Messages() {}

    static KernelToPager init(int objectId, String name, int pageSize) {
        return KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(objectId)
                .setName(name).setPageSize(pageSize)).build();
    }

    static KernelToPager dataRequest(int objectId, long offset, long length, VmProt access) {
        return KernelToPager.newBuilder().setMemoryObjectDataRequest(MemoryObjectDataRequest.newBuilder()
                .setObjectId(objectId).setOffset(offset).setLength(length).setDesiredAccess(access)).build();
    }

    static KernelToPager dataUnlock(int objectId, long offset, long length) {
        return KernelToPager.newBuilder().setMemoryObjectDataUnlock(MemoryObjectDataUnlock.newBuilder()
                .setObjectId(objectId).setOffset(offset).setLength(length)
                .setDesiredAccess(VmProt.VM_PROT_WRITE)).build();
    }

    static KernelToPager lockCompleted(int objectId, long offset, long length) {
        return KernelToPager.newBuilder().setMemoryObjectLockCompleted(MemoryObjectLockCompleted.newBuilder()
                .setObjectId(objectId).setOffset(offset).setLength(length)).build();
    }

    static KernelToPager dirtyReturn(int objectId, long offset, byte[] data, long version, boolean kernelCopy) {
        return KernelToPager.newBuilder().setMemoryObjectDataReturn(MemoryObjectDataReturn.newBuilder()
                .setObjectId(objectId).setOffset(offset).setData(ByteString.copyFrom(data)).setDirty(true)
                .setKernelCopy(kernelCopy).setVersion(version)).build();
    }

    static KernelToPager synchronize(int objectId, long offset, long length) {
        return KernelToPager.newBuilder().setMemoryObjectSynchronize(io.machxp.proto.xp.MemoryObjectSynchronize
                .newBuilder().setObjectId(objectId).setOffset(offset).setLength(length)).build();
    }

    static KernelToPager lockFutex(int objectId, long offset, boolean tryLock, int priority) {
        return KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(objectId).setOffset(offset).setTry(tryLock).setPriority(priority)).build();
    }

    /** lock_futex with update: a new priority for the request already queued (spec 8.3). */
    static KernelToPager updateFutex(int objectId, long offset, int priority) {
        return KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(objectId).setOffset(offset).setPriority(priority).setUpdate(true)).build();
    }

    /** futex_released whose word elsewhere names {@code tid}, a thread that owns nothing (spec 8.4). */
    static KernelToPager releasedNamingStaleHeir(int objectId, long offset, long token, int tid) {
        return KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(objectId).setOffset(offset).setFencingToken(token).setStaleHeirTid(tid)).build();
    }

    static KernelToPager released(int objectId, long offset, long token, boolean handoff, PageData... pages) {
        MemoryObjectFutexReleased.Builder r = MemoryObjectFutexReleased.newBuilder().setObjectId(objectId)
                .setOffset(offset).setFencingToken(token).setHandoff(handoff);
        for (PageData p : pages) {
            r.addPages(p);
        }
        return KernelToPager.newBuilder().setMemoryObjectFutexReleased(r).build();
    }

    /** futex_released asking again inside the release (request_again) at {@code priority} (spec 8.4). */
    static KernelToPager releasedAskingAgain(int objectId, long offset, long token, int priority) {
        return KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(objectId).setOffset(offset).setFencingToken(token).setRequestAgain(true)
                .setRequestPriority(priority)).build();
    }

    static KernelToPager held(int objectId, long offset, long token) {
        return KernelToPager.newBuilder().setMemoryObjectFutexHeld(MemoryObjectFutexHeld.newBuilder()
                .setObjectId(objectId).setOffset(offset).setFencingToken(token)).build();
    }

    /** A page of {@code size} bytes filled with a pattern that depends on {@code seed}, never all zeros. */
    static byte[] pattern(int size, long seed) {
        byte[] data = new byte[size];
        for (int i = 0; i < size; i++) {
            data[i] = (byte) (seed * 31 + i * 7 + 1);
        }
        data[0] = (byte) (data[0] | 1);
        return data;
    }

    /** One line for a person: the routine and the fields that matter. */
    static String describe(PagerToKernel m) {
        return switch (m.getRoutineCase()) {
            case MEMORY_OBJECT_DATA_SUPPLY -> "data_supply(0x" + Long.toHexString(m.getMemoryObjectDataSupply().getOffset())
                    + ", lock " + m.getMemoryObjectDataSupply().getLockValue() + ", version "
                    + m.getMemoryObjectDataSupply().getVersion() + ")";
            case MEMORY_OBJECT_DATA_UNAVAILABLE -> "data_unavailable(0x"
                    + Long.toHexString(m.getMemoryObjectDataUnavailable().getOffset()) + ", lock "
                    + m.getMemoryObjectDataUnavailable().getLockValue() + ", version "
                    + m.getMemoryObjectDataUnavailable().getVersion() + ")";
            case MEMORY_OBJECT_LOCK_REQUEST -> {
                var r = m.getMemoryObjectLockRequest();
                yield "lock_request(0x" + Long.toHexString(r.getOffset()) + ", " + r.getShouldReturn()
                        + (r.getShouldFlush() ? ", flush" : "") + ", lock " + r.getLockValue()
                        + (r.getReply() ? ", reply" : "") + ")";
            }
            case MEMORY_OBJECT_FUTEX_GRANTED -> {
                var g = m.getMemoryObjectFutexGranted();
                yield "futex_granted(0x" + Long.toHexString(g.getOffset()) + ", token " + g.getFencingToken()
                        + (g.getOwnerDied() ? ", owner_died" : "") + (g.getHandoff() ? ", handoff" : "")
                        + (g.getPagesCount() > 0 ? ", " + g.getPagesCount() + " pages" : "") + ")";
            }
            case MEMORY_OBJECT_RELINQUISH_FUTEX -> {
                var r = m.getMemoryObjectRelinquishFutex();
                yield "relinquish_futex(0x" + Long.toHexString(r.getOffset()) + ", priority " + r.getPriority()
                        + (r.getTry() ? ", try" : "") + ")";
            }
            case MEMORY_OBJECT_FUTEX_BUSY -> "futex_busy(0x" + Long.toHexString(m.getMemoryObjectFutexBusy().getOffset())
                    + ")";
            case MEMORY_OBJECT_DATA_ERROR -> "data_error(0x" + Long.toHexString(m.getMemoryObjectDataError().getOffset())
                    + ")";
            default -> m.getRoutineCase().name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
