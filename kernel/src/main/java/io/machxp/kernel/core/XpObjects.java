package io.machxp.kernel.core;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.PagerToKernel;

/**
 * Which memory object each XP routine is about, in either direction: what routes a kernel
 * message to the session of its object's pager, and lets a pager's message be checked against the
 * objects that pager serves ({@link KernelSessions#send}, {@link KernelSessions#serves}). The
 * session's own routines (hello, welcome, keepalive) name none: 0.
 */
final class XpObjects {
    private XpObjects() {
    }

    /** The object a kernel message is about; 0 for the session's own (hello, keepalive). */
    static int objectOf(KernelToPager m) {
        return switch (m.getRoutineCase()) {
            case MEMORY_OBJECT_INIT -> m.getMemoryObjectInit().getObjectId();
            case MEMORY_OBJECT_DATA_REQUEST -> m.getMemoryObjectDataRequest().getObjectId();
            case MEMORY_OBJECT_TERMINATE -> m.getMemoryObjectTerminate().getObjectId();
            case MEMORY_OBJECT_LOCK_FUTEX -> m.getMemoryObjectLockFutex().getObjectId();
            case MEMORY_OBJECT_FUTEX_RELEASED -> m.getMemoryObjectFutexReleased().getObjectId();
            case MEMORY_OBJECT_DATA_UNLOCK -> m.getMemoryObjectDataUnlock().getObjectId();
            case MEMORY_OBJECT_DATA_RETURN -> m.getMemoryObjectDataReturn().getObjectId();
            case MEMORY_OBJECT_LOCK_COMPLETED -> m.getMemoryObjectLockCompleted().getObjectId();
            case MEMORY_OBJECT_FUTEX_PROBE -> m.getMemoryObjectFutexProbe().getObjectId();
            case MEMORY_OBJECT_FUTEX_HELD -> m.getMemoryObjectFutexHeld().getObjectId();
            case MEMORY_OBJECT_SYNCHRONIZE -> m.getMemoryObjectSynchronize().getObjectId();
            case MEMORY_OBJECT_SUPPLY_COMPLETED -> m.getMemoryObjectSupplyCompleted().getObjectId();
            case MEMORY_OBJECT_CHANGE_COMPLETED -> m.getMemoryObjectChangeCompleted().getObjectId();
            default -> 0;
        };
    }

    /** The object a pager message is about; 0 for the session's own (welcome, keepalive). */
    static int objectOf(PagerToKernel m) {
        return switch (m.getRoutineCase()) {
            case MEMORY_OBJECT_READY -> m.getMemoryObjectReady().getObjectId();
            case MEMORY_OBJECT_DESTROY -> m.getMemoryObjectDestroy().getObjectId();
            case MEMORY_OBJECT_DATA_SUPPLY -> m.getMemoryObjectDataSupply().getObjectId();
            case MEMORY_OBJECT_DATA_UNAVAILABLE -> m.getMemoryObjectDataUnavailable().getObjectId();
            case MEMORY_OBJECT_DATA_ERROR -> m.getMemoryObjectDataError().getObjectId();
            case MEMORY_OBJECT_FUTEX_GRANTED -> m.getMemoryObjectFutexGranted().getObjectId();
            case MEMORY_OBJECT_FUTEX_BUSY -> m.getMemoryObjectFutexBusy().getObjectId();
            case MEMORY_OBJECT_RELINQUISH_FUTEX -> m.getMemoryObjectRelinquishFutex().getObjectId();
            case MEMORY_OBJECT_LOCK_REQUEST -> m.getMemoryObjectLockRequest().getObjectId();
            case MEMORY_OBJECT_FUTEX_PROBE -> m.getMemoryObjectFutexProbe().getObjectId();
            case MEMORY_OBJECT_SYNCHRONIZE_COMPLETED -> m.getMemoryObjectSynchronizeCompleted().getObjectId();
            case MEMORY_OBJECT_CHANGE_ATTRIBUTES -> m.getMemoryObjectChangeAttributes().getObjectId();
            default -> 0;
        };
    }
}
