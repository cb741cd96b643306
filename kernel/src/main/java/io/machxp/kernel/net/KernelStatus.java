package io.machxp.kernel.net;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.machxp.kernel.core.KernelError;
import io.machxp.proto.task.Errno;

/**
 * The one place where a kernel error becomes a gRPC status: the code chosen by its documented
 * meaning, a google.rpc.ErrorInfo (domain "machxp", reason = the errno name) in the details, and
 * the sentence as the description.
 */
public final class KernelStatus {
    public static final String DOMAIN = "machxp";

    private KernelStatus() {}

    public static Status.Code code(Errno errno) {
        return switch (errno) {
            case EINVAL -> Status.Code.INVALID_ARGUMENT;
            case EPERM -> Status.Code.PERMISSION_DENIED;
            case EDEADLK, EBUSY, ENOTRECOVERABLE -> Status.Code.FAILED_PRECONDITION;
            case ETIMEDOUT -> Status.Code.DEADLINE_EXCEEDED;
            case ESRCH -> Status.Code.NOT_FOUND;
            case EIO -> Status.Code.UNAVAILABLE;
            case EAGAIN -> Status.Code.RESOURCE_EXHAUSTED;
            case EINTR -> Status.Code.CANCELLED;
            default -> Status.Code.UNKNOWN;
        };
    }

    public static StatusRuntimeException toException(KernelError error) {
        com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
                .setCode(code(error.errno()).value())
                .setMessage(error.errno().name() + ": " + error.message())
                .addDetails(Any.pack(ErrorInfo.newBuilder()
                        .setDomain(DOMAIN).setReason(error.errno().name()).build()))
                .build();
        return StatusProto.toStatusRuntimeException(status);
    }
}
