package io.machxp.kernel.net;

import com.google.protobuf.InvalidProtocolBufferException;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.shm.CallReader;
import io.machxp.kernel.shm.TakenCall;
import io.machxp.proto.shm.CallLayout;
import io.machxp.proto.task.Errno;
import io.machxp.proto.task.VmCompareAndSwapRequest;
import io.machxp.proto.task.VmFetchAddRequest;
import io.machxp.proto.task.VmFutexConsistentRequest;
import io.machxp.proto.task.VmLockFutexRequest;
import io.machxp.proto.task.VmReadRequest;
import io.machxp.proto.task.VmTrylockFutexRequest;
import io.machxp.proto.task.VmUnlockFutexRequest;
import io.machxp.proto.task.VmWriteRequest;

/**
 * Calls from the call file (docs/shared-memory.md) to the very handlers of the gRPC task
 * interface: the same capability check of the task handle, the same validation, the same errors.
 * Only the transport differs. Runs on the core thread, which takes the calls from the file
 * ({@link io.machxp.kernel.shm.CallLoop}); the handlers never block (a lock that waits is handed
 * to the core, as over gRPC: their core work is queued on the loop and runs in the same turn).
 */
final class SlotCalls implements CallReader.Dispatch {
    private final MachTaskService service;
    private final String kernelName;

    SlotCalls(MachTaskService service, String kernelName) {
        this.service = service;
        this.kernelName = kernelName;
    }

    @Override
    public void call(TakenCall call, int method, byte[] request) {
        try {
            if (request == null) {
                throw new InvalidProtocolBufferException("the request's length is out of the slot");
            }
            dispatch(call, method, request);
        } catch (InvalidProtocolBufferException e) {
            Answers.fail(new SlotObserver<>(call), KernelError.of(Errno.EINVAL,
                    "kernel %s could not read a call from shared memory (%s); is the client the same machxp version?",
                    kernelName, e.getMessage()));
        }
    }

    private void dispatch(TakenCall call, int method, byte[] request) throws InvalidProtocolBufferException {
        switch (method) {
            case CallLayout.VM_LOCK_FUTEX -> service.vmLockFutex(VmLockFutexRequest.parseFrom(request), new SlotObserver<>(call));
            case CallLayout.VM_TRYLOCK_FUTEX ->
                    service.vmTrylockFutex(VmTrylockFutexRequest.parseFrom(request), new SlotObserver<>(call));
            case CallLayout.VM_UNLOCK_FUTEX ->
                    service.vmUnlockFutex(VmUnlockFutexRequest.parseFrom(request), new SlotObserver<>(call));
            case CallLayout.VM_FUTEX_CONSISTENT ->
                    service.vmFutexConsistent(VmFutexConsistentRequest.parseFrom(request), new SlotObserver<>(call));
            case CallLayout.VM_READ -> service.vmRead(VmReadRequest.parseFrom(request), new SlotObserver<>(call));
            case CallLayout.VM_WRITE -> service.vmWrite(VmWriteRequest.parseFrom(request), new SlotObserver<>(call));
            case CallLayout.VM_COMPARE_AND_SWAP ->
                    service.vmCompareAndSwap(VmCompareAndSwapRequest.parseFrom(request), new SlotObserver<>(call));
            case CallLayout.VM_FETCH_ADD -> service.vmFetchAdd(VmFetchAddRequest.parseFrom(request), new SlotObserver<>(call));
            default -> Answers.fail(new SlotObserver<>(call), KernelError.of(Errno.EINVAL,
                    "kernel %s takes no call %d through shared memory; make it over gRPC", kernelName, method));
        }
    }
}
