package io.machxp.conform.kernel;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDataError;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexProbe;
import io.machxp.proto.xp.MemoryObjectRelinquishFutex;
import io.machxp.proto.xp.PagerToKernel;
import java.util.Locale;

/** The pager-to-kernel messages the kernel cases send, and a short description of what a kernel sent. */
final class KernelMessages {
    private KernelMessages() {}

    static PagerToKernel granted(int objectId, long offset, long token, boolean ownerDied, boolean relinquish) {
        return PagerToKernel.newBuilder().setMemoryObjectFutexGranted(MemoryObjectFutexGranted.newBuilder()
                .setObjectId(objectId).setOffset(offset).setFencingToken(token).setOwnerDied(ownerDied)
                .setRelinquish(relinquish)).build();
    }

    static PagerToKernel relinquish(int objectId, long offset, int priority) {
        return PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex.newBuilder()
                .setObjectId(objectId).setOffset(offset).setPriority(priority)).build();
    }

    /** relinquish_futex with try set: a trylock elsewhere asks for the futex (spec 8.3). */
    static PagerToKernel relinquishTry(int objectId, long offset) {
        return PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex.newBuilder()
                .setObjectId(objectId).setOffset(offset).setTry(true)).build();
    }

    /** relinquish_futex with try and the trylock's {@code priority} (spec 8.3). */
    static PagerToKernel relinquishTry(int objectId, long offset, int priority) {
        return PagerToKernel.newBuilder().setMemoryObjectRelinquishFutex(MemoryObjectRelinquishFutex.newBuilder()
                .setObjectId(objectId).setOffset(offset).setTry(true).setPriority(priority)).build();
    }

    static PagerToKernel busy(int objectId, long offset) {
        return PagerToKernel.newBuilder().setMemoryObjectFutexBusy(io.machxp.proto.xp.MemoryObjectFutexBusy
                .newBuilder().setObjectId(objectId).setOffset(offset)).build();
    }

    static PagerToKernel probe(int objectId, long offset, int initiator, long wait, int hops) {
        return PagerToKernel.newBuilder().setMemoryObjectFutexProbe(MemoryObjectFutexProbe.newBuilder()
                .setObjectId(objectId).setOffset(offset).setInitiator(initiator).setWait(wait).setHops(hops)).build();
    }

    static PagerToKernel dataError(int objectId, long offset, long length, String reason) {
        return PagerToKernel.newBuilder().setMemoryObjectDataError(MemoryObjectDataError.newBuilder()
                .setObjectId(objectId).setOffset(offset).setLength(length).setReason(reason)).build();
    }

    /** One line for a person: the routine and the fields that matter. */
    static String describe(KernelToPager m) {
        return switch (m.getRoutineCase()) {
            case MEMORY_OBJECT_DATA_REQUEST -> "data_request(0x" + hex(m.getMemoryObjectDataRequest().getOffset())
                    + ", " + m.getMemoryObjectDataRequest().getDesiredAccess() + ")";
            case MEMORY_OBJECT_DATA_UNLOCK -> "data_unlock(0x" + hex(m.getMemoryObjectDataUnlock().getOffset()) + ")";
            case MEMORY_OBJECT_DATA_RETURN -> {
                var r = m.getMemoryObjectDataReturn();
                yield "data_return(0x" + hex(r.getOffset()) + (r.getDirty() ? ", dirty" : "")
                        + (r.getKernelCopy() ? ", kernel_copy" : "") + ", version " + r.getVersion() + ")";
            }
            case MEMORY_OBJECT_LOCK_COMPLETED -> "lock_completed(0x" + hex(m.getMemoryObjectLockCompleted().getOffset())
                    + ")";
            case MEMORY_OBJECT_LOCK_FUTEX -> {
                var l = m.getMemoryObjectLockFutex();
                yield "lock_futex(0x" + hex(l.getOffset()) + ", priority " + l.getPriority() + (l.getTry() ? ", try" : "")
                        + (l.getUpdate() ? ", update" : "") + ")";
            }
            case MEMORY_OBJECT_FUTEX_RELEASED -> {
                var r = m.getMemoryObjectFutexReleased();
                yield "futex_released(0x" + hex(r.getOffset()) + ", token " + r.getFencingToken()
                        + (r.getHandoff() ? ", handoff" : "") + (r.getRequestAgain() ? ", request_again" : "") + ")";
            }
            case MEMORY_OBJECT_FUTEX_HELD -> "futex_held(0x" + hex(m.getMemoryObjectFutexHeld().getOffset()) + ", token "
                    + m.getMemoryObjectFutexHeld().getFencingToken() + ")";
            case MEMORY_OBJECT_FUTEX_PROBE -> "futex_probe(0x" + hex(m.getMemoryObjectFutexProbe().getOffset()) + ")";
            case MEMORY_OBJECT_INIT -> "memory_object_init('" + m.getMemoryObjectInit().getName() + "')";
            default -> m.getRoutineCase().name().toLowerCase(Locale.ROOT);
        };
    }

    private static String hex(long v) {
        return Long.toHexString(v);
    }
}
