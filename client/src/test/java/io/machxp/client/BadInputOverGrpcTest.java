package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.proto.task.AcquirePath;
import io.machxp.proto.task.Errno;
import io.machxp.proto.task.MachTaskGrpc;
import io.machxp.proto.task.VmCompareAndSwapRequest;
import io.machxp.proto.task.VmFetchAddRequest;
import io.machxp.proto.task.VmLockFutexRequest;
import io.machxp.proto.task.WordSize;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every bad input gets its gRPC status, errno and sentence, and leaves the system working. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BadInputOverGrpcTest {
    private final ClusterFixture c;
    private final ThreadClient owner;
    private final ThreadClient other;
    private final long futex;

    BadInputOverGrpcTest() throws Exception {
        c = new ClusterFixture(2);
        owner = c.thread(0);
        other = c.thread(0);
        futex = c.base[0] + 16;
    }

    @AfterEach
    void close() {
        c.close();
    }

    private static MachxpException failure(ThrowingCallable call, Status.Code code, Errno errno) {
        MachxpException e = catchThrowableOfType(MachxpException.class, call);
        assertThat(e).as("expected %s/%s", code, errno).isNotNull();
        assertThat(e.code()).isEqualTo(code);
        assertThat(e.errno()).isEqualTo(errno);
        assertThat(e.getMessage()).as("errno, then a sentence").startsWith(errno.name() + ": ").hasSizeGreaterThan(30);
        return e;
    }

    /**
     * Runs {@code calls} with a raw stub to kernel A, for requests its client library never
     * sends (unknown tasks and threads, values outside the enums).
     */
    private void withRawStub(Consumer<MachTaskGrpc.MachTaskBlockingStub> calls) {
        ManagedChannel channel = NettyChannelBuilder.forTarget(c.clients.get(0).target()).usePlaintext().build();
        try {
            calls.accept(MachTaskGrpc.newBlockingStub(channel));
        } finally {
            channel.shutdownNow();
        }
    }

    /** After a bad call, the futex still works for everybody: a full cycle on both kernels. */
    private void systemStillWorks() {
        owner.lockFutex(futex);
        owner.unlockFutex(futex);
        ThreadClient remote = c.thread(1);
        assertThat(remote.lockFutex(c.base[1] + 16)).isEqualTo(AcquirePath.PAGER_GRANT);
        remote.unlockFutex(c.base[1] + 16);
        assertThat(owner.lockFutex(futex)).isEqualTo(AcquirePath.PAGER_GRANT);
        owner.unlockFutex(futex);
    }

    @Test
    void unalignedAddressIsInvalidArgument() {
        MachxpException e = failure(() -> owner.lockFutex(futex + 1), Status.Code.INVALID_ARGUMENT, Errno.EINVAL);
        assertThat(e.getMessage()).contains("not 4-byte aligned");
        failure(() -> owner.unlockFutex(futex + 2), Status.Code.INVALID_ARGUMENT, Errno.EINVAL);
        failure(() -> owner.tryLockFutex(futex + 3), Status.Code.INVALID_ARGUMENT, Errno.EINVAL);
        systemStillWorks();
    }

    @Test
    void addressOutsideAnyMappingIsInvalidArgument() {
        MachxpException e = failure(() -> owner.lockFutex(c.base[0] + ClusterFixture.OBJECT_SIZE),
                Status.Code.INVALID_ARGUMENT, Errno.EINVAL);
        assertThat(e.getMessage()).contains("outside every mapping");
        failure(() -> owner.lockFutex(0), Status.Code.INVALID_ARGUMENT, Errno.EINVAL);
        systemStillWorks();
    }

    @Test
    void unknownObjectIsInvalidArgument() {
        MachxpException e = failure(() -> c.tasks.get(0).vmMap("no-such-object"), Status.Code.INVALID_ARGUMENT,
                Errno.EINVAL);
        assertThat(e.getMessage()).contains("'no-such-object'").contains("serves");
        failure(() -> c.tasks.get(0).vmMap(""), Status.Code.INVALID_ARGUMENT, Errno.EINVAL);
        assertThat(c.tasks.get(0).vmMap(ClusterFixture.OBJECT)).as("mapping again still works").isPositive();
        systemStillWorks();
    }

    @Test
    void unlockByANonOwnerIsPermissionDenied() {
        owner.lockFutex(futex);
        MachxpException e = failure(() -> other.unlockFutex(futex), Status.Code.PERMISSION_DENIED, Errno.EPERM);
        assertThat(e.getMessage()).contains("does not own");
        assertThat(other.tryLockFutex(futex)).as("still held by the owner").isFalse();
        owner.unlockFutex(futex);
        failure(() -> owner.unlockFutex(futex), Status.Code.PERMISSION_DENIED, Errno.EPERM);
        systemStillWorks();
    }

    @Test
    void lockByTheOwnerIsFailedPrecondition() {
        owner.lockFutex(futex);
        MachxpException e = failure(() -> owner.lockFutex(futex), Status.Code.FAILED_PRECONDITION, Errno.EDEADLK);
        assertThat(e.getMessage()).contains("already owns");
        owner.unlockFutex(futex);
        systemStillWorks();
    }

    @Test
    void timeoutIsDeadlineExceededLocallyAndAcrossKernels() {
        owner.lockFutex(futex);
        MachxpException e = failure(() -> other.lockFutex(futex, Duration.ofMillis(50)),
                Status.Code.DEADLINE_EXCEEDED, Errno.ETIMEDOUT);
        assertThat(e.getMessage()).contains("timeout");
        ThreadClient remote = c.thread(1);
        failure(() -> remote.lockFutex(c.base[1] + 16, Duration.ofMillis(50)), Status.Code.DEADLINE_EXCEEDED,
                Errno.ETIMEDOUT);
        owner.unlockFutex(futex);
        // Kernel B's request to the pager was still out; the futex reaches B, which keeps it cached.
        assertThat(remote.lockFutex(c.base[1] + 16)).isNotNull();
        remote.unlockFutex(c.base[1] + 16);
        systemStillWorks();
    }

    @Test
    void unknownTaskOrThreadIsNotFound() {
        withRawStub(stub -> {
            MachxpException e = failure(() -> KernelClient.call("kernel", () -> stub.vmLockFutex(VmLockFutexRequest.newBuilder()
                    .setTask(999).setThread(owner.tid()).setAddress(futex).build())), Status.Code.NOT_FOUND, Errno.ESRCH);
            assertThat(e.getMessage()).contains("no task 999");
            failure(() -> KernelClient.call("kernel", () -> stub.vmLockFutex(VmLockFutexRequest.newBuilder()
                    .setTask(c.tasks.get(0).id()).setThread(7).setAddress(futex).build())), Status.Code.NOT_FOUND,
                    Errno.ESRCH);
        });
        systemStillWorks();
    }

    /**
     * A word size the kernel does not know is refused, not read as a 32-bit word, and named by
     * its number (review kreview INFO-3: "vm_fetch_add of a 0-byte word").
     */
    @Test
    void anUnknownWordSizeIsInvalidArgument() {
        withRawStub(stub -> {
            MachxpException e = failure(() -> KernelClient.call("kernel", () -> stub.vmFetchAdd(VmFetchAddRequest.newBuilder()
                    .setTask(c.tasks.get(0).id()).setAddress(futex + 8).setSizeValue(7).setDelta(1).build())),
                    Status.Code.INVALID_ARGUMENT, Errno.EINVAL);
            assertThat(e.getMessage()).contains("vm_fetch_add with an unknown word size 7", "WORD32 (0, 4 bytes)",
                    "WORD64 (1, 8 bytes)").doesNotContain("0-byte");
            MachxpException cas = failure(() -> KernelClient.call("kernel", () -> stub.vmCompareAndSwap(
                    VmCompareAndSwapRequest.newBuilder().setTask(c.tasks.get(0).id()).setAddress(futex + 8)
                            .setSizeValue(2).setNewValue(1).build())), Status.Code.INVALID_ARGUMENT, Errno.EINVAL);
            assertThat(cas.getMessage()).contains("vm_compare_and_swap with an unknown word size 2");
        });
        assertThat(c.tasks.get(0).fetchAdd(futex + 8, WordSize.WORD32, 1)).as("the word was not changed").isZero();
        systemStillWorks();
    }

    @Test
    void aThreadOfAnotherKernelCannotBeUsedHere() {
        ThreadClient remote = c.thread(1);
        withRawStub(stub -> {
            failure(() -> KernelClient.call("kernel", () -> stub.vmLockFutex(VmLockFutexRequest.newBuilder()
                    .setTask(c.tasks.get(0).id()).setThread(remote.tid()).setAddress(futex).build())),
                    Status.Code.NOT_FOUND, Errno.ESRCH);
        });
        systemStillWorks();
    }
}
