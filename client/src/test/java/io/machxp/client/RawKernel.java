package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.machxp.proto.task.KernelThreadsRequest;
import io.machxp.proto.task.MachIpcGrpc;
import io.machxp.proto.task.MachTaskGrpc;
import io.machxp.proto.task.TaskCreateRequest;
import io.machxp.proto.task.ThreadCreateRequest;
import io.machxp.proto.task.ThreadStatus;
import io.machxp.proto.task.VmLockFutexRequest;
import io.machxp.proto.task.VmMapRequest;
import io.machxp.proto.task.VmReadRequest;
import io.machxp.proto.task.VmUnlockFutexRequest;
import io.machxp.proto.task.VmWriteRequest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * A task client written from task.proto alone, as an outside party would: the generated stubs on
 * a plain channel, none of the project's client library (which could hide how the kernel
 * answers). For the contract probes.
 */
final class RawKernel implements AutoCloseable {
    final ManagedChannel channel;
    final MachTaskGrpc.MachTaskBlockingStub stub;
    final MachTaskGrpc.MachTaskFutureStub async;

    RawKernel(String target) {
        channel = NettyChannelBuilder.forTarget(target).usePlaintext().maxInboundMessageSize(16 << 20).build();
        stub = MachTaskGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        async = MachTaskGrpc.newFutureStub(channel);
    }

    /** task.proto's MachIpc, blocking, with a fresh deadline. */
    MachIpcGrpc.MachIpcBlockingStub ipc() {
        return MachIpcGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    /** task.proto's MachIpc, as futures (no deadline: a blocked mach_msg waits until it is answered). */
    MachIpcGrpc.MachIpcFutureStub ipcAsync() {
        return MachIpcGrpc.newFutureStub(channel);
    }

    /** The blocking stub with a fresh deadline (a stub's deadline is fixed when it is made). */
    MachTaskGrpc.MachTaskBlockingStub call() {
        return MachTaskGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    long task(String name) {
        return call().taskCreate(TaskCreateRequest.newBuilder().setName(name).build()).getTask();
    }

    long map(long task, String object) {
        return call().vmMap(VmMapRequest.newBuilder().setTask(task).setObject(object).build()).getAddress();
    }

    int thread(long task, int priority) {
        return call().threadCreate(ThreadCreateRequest.newBuilder().setTask(task).setPriority(priority).build())
                .getTid();
    }

    byte[] read(long task, long address, int length) {
        return call().vmRead(VmReadRequest.newBuilder().setTask(task).setAddress(address).setLength(length).build())
                .getData().toByteArray();
    }

    int word(long task, long address) {
        return ByteBuffer.wrap(read(task, address, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    void write(long task, long address, byte[] data) {
        call().vmWrite(VmWriteRequest.newBuilder().setTask(task).setAddress(address)
                .setData(ByteString.copyFrom(data)).build());
    }

    void writeWord(long task, long address, int value) {
        write(task, address, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
    }

    /** The call thread {@code tid} of this kernel is blocked in, "" when none, null when it is gone. */
    String blockedIn(int tid) {
        for (ThreadStatus t : call().kernelThreads(KernelThreadsRequest.getDefaultInstance()).getThreadsList()) {
            if (t.getTid() == tid) {
                return t.getBlockedIn();
            }
        }
        return null;
    }

    /** vm_lock_futex of the word at {@code address} for thread {@code tid} of {@code task}, no timeout. */
    static VmLockFutexRequest lock(long task, int tid, long address) {
        return VmLockFutexRequest.newBuilder().setTask(task).setThread(tid).setAddress(address).build();
    }

    /** vm_unlock_futex of the word at {@code address} by thread {@code tid} of {@code task}. */
    static VmUnlockFutexRequest unlock(long task, int tid, long address) {
        return VmUnlockFutexRequest.newBuilder().setTask(task).setThread(tid).setAddress(address).build();
    }

    /**
     * The failure {@code call} must end in: a gRPC status of {@code code} whose ErrorInfo carries
     * {@code errno}, with a sentence a person can act on.
     */
    static StatusRuntimeException fails(ThrowingCallable call, Status.Code code, String errno) {
        Throwable t = catchThrowable(call);
        assertThat(t).as("expected %s/%s", code, errno).isInstanceOf(StatusRuntimeException.class);
        StatusRuntimeException e = (StatusRuntimeException) t;
        assertThat(e.getStatus().getCode()).as(e.getMessage()).isEqualTo(code);
        assertThat(errno(e)).as(e.getMessage()).isEqualTo(errno);
        assertThat(e.getStatus().getDescription()).hasSizeGreaterThan(30);
        return e;
    }

    /** The errno a failed call carries in its ErrorInfo (domain machxp), or null without one. */
    static String errno(Throwable failure) {
        Throwable t = failure;
        while (t != null && !(t instanceof StatusRuntimeException)) {
            t = t.getCause();
        }
        if (t == null) {
            return null;
        }
        com.google.rpc.Status status = StatusProto.fromThrowable(t);
        if (status == null) {
            return null;
        }
        for (com.google.protobuf.Any any : status.getDetailsList()) {
            if (any.is(ErrorInfo.class)) {
                try {
                    ErrorInfo info = any.unpack(ErrorInfo.class);
                    return "machxp".equals(info.getDomain()) ? info.getReason() : null;
                } catch (InvalidProtocolBufferException e) {
                    return null;
                }
            }
        }
        return null;
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}
