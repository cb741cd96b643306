package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.Kernel;
import io.machxp.proto.task.Errno;
import io.machxp.proto.task.MachTaskGrpc;
import io.machxp.proto.task.TaskCreateRequest;
import io.machxp.proto.task.TaskTerminateRequest;
import io.machxp.proto.task.ThreadCreateRequest;
import io.machxp.proto.task.ThreadTerminateRequest;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** task.proto's create_token over gRPC: a retry answers what the token made; an abandoned token makes nothing. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CreateTokenTest {
    private EmbeddedCluster cluster;
    private Kernel kernel;
    private ManagedChannel channel;
    private MachTaskGrpc.MachTaskBlockingStub stub;

    @BeforeEach
    void start() throws Exception {
        cluster = EmbeddedCluster.start(1, true, Map.of("obj", 64L * 1024));
        kernel = cluster.kernel(0);
        channel = NettyChannelBuilder.forTarget(cluster.kernelTargets().get(0)).usePlaintext().build();
        stub = MachTaskGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void close() {
        channel.shutdownNow();
        cluster.close();
    }

    private static Errno errno(Throwable t) {
        return MachxpException.from("kernel", (StatusRuntimeException) t).errno();
    }

    @Test
    void aTaskCreateRetriedWithItsTokenAnswersTheSameTaskAndMakesNoOther() {
        TaskCreateRequest create = TaskCreateRequest.newBuilder().setName("t").setCreateToken(77).build();
        long first = stub.taskCreate(create).getTask();
        long again = stub.taskCreate(create).getTask();
        assertThat(again).isEqualTo(first);
        assertThat(kernel.taskHandles().size()).isEqualTo(1);

        long other = stub.taskCreate(create.toBuilder().setCreateToken(78).build()).getTask();
        long none1 = stub.taskCreate(create.toBuilder().setCreateToken(0).build()).getTask();
        long none2 = stub.taskCreate(create.toBuilder().setCreateToken(0).build()).getTask();
        assertThat(java.util.Set.of(first, other, none1, none2)).hasSize(4); // 0: no token, as before
    }

    @Test
    void anAbandonedTokenEndsItsTaskAndMakesNothingAfter() {
        long handle = stub.taskCreate(TaskCreateRequest.newBuilder().setName("t").setCreateToken(5).build()).getTask();
        stub.taskTerminate(TaskTerminateRequest.newBuilder().setAbandonedCreateToken(5).build());
        assertThat(kernel.taskHandles().ref(handle)).isNull();
        stub.taskTerminate(TaskTerminateRequest.newBuilder().setAbandonedCreateToken(5).build()); // safe to repeat
        assertThatThrownBy(() -> stub.taskCreate(TaskCreateRequest.newBuilder().setName("t").setCreateToken(5).build()))
                .satisfies(t -> assertThat(errno(t)).isEqualTo(Errno.EINTR));

        // abandoned before its create arrived (the create came late, on another connection): refused
        stub.taskTerminate(TaskTerminateRequest.newBuilder().setAbandonedCreateToken(6).build());
        assertThatThrownBy(() -> stub.taskCreate(TaskCreateRequest.newBuilder().setName("t").setCreateToken(6).build()))
                .satisfies(t -> assertThat(errno(t)).isEqualTo(Errno.EINTR));
        assertThat(kernel.taskHandles().size()).isZero();
    }

    @Test
    void aThreadCreateRetriedWithItsTokenAnswersTheSameThreadAndAnAbandonEndsIt() {
        long task = stub.taskCreate(TaskCreateRequest.newBuilder().setName("t").build()).getTask();
        ThreadCreateRequest create = ThreadCreateRequest.newBuilder().setTask(task).setCreateToken(9).build();
        int tid = stub.threadCreate(create).getTid();
        assertThat(stub.threadCreate(create).getTid()).isEqualTo(tid);
        long id = kernel.taskHandles().ref(task).id();
        assertThat(kernel.<Integer>call(r -> r.complete(kernel.core().task(id).threads().size()))).isEqualTo(1);

        stub.threadTerminate(ThreadTerminateRequest.newBuilder().setTask(task).setAbandonedCreateToken(9).build());
        org.awaitility.Awaitility.await().until(() ->
                kernel.<Integer>call(r -> r.complete(kernel.core().task(id).threads().size())) == 0);
        assertThatThrownBy(() -> stub.threadCreate(create)).satisfies(t -> assertThat(errno(t)).isEqualTo(Errno.EINTR));
    }
}
