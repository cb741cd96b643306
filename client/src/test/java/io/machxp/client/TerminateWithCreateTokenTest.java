package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.ManagedChannel;
import io.grpc.Status;
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

/**
 * Review rv60 LOW-2 over real gRPC: a TaskTerminate or ThreadTerminate carrying both a handle (a
 * TID) and abandoned_create_token is neither a termination by handle nor an abandon (task.proto):
 * it is refused with EINVAL and ends nothing. Before, it answered OK, abandoned the token and left
 * the named task or thread running, so the client believed it had ended something it had not.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TerminateWithCreateTokenTest {
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
    void close() throws Exception {
        channel.shutdownNow();
        cluster.close();
    }

    private static MachxpException refused(Runnable call) {
        StatusRuntimeException e = catchThrowableOfType(call::run, StatusRuntimeException.class);
        assertThat(e).as("refused").isNotNull();
        MachxpException m = MachxpException.from("kernel", e);
        assertThat(m.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(m.errno()).isEqualTo(Errno.EINVAL);
        return m;
    }

    @Test
    void threadTerminateWithATidAndATokenIsRefusedAndEndsNothing() {
        long task = stub.taskCreate(TaskCreateRequest.newBuilder().setName("t").build()).getTask();
        int tid = stub.threadCreate(ThreadCreateRequest.newBuilder().setTask(task).build()).getTid();
        MachxpException e = refused(() -> stub.threadTerminate(ThreadTerminateRequest.newBuilder()
                .setTask(task).setThread(tid).setAbandonedCreateToken(12345).build()));
        assertThat(e.getMessage()).contains("send thread = 0");
        // the thread still lives: a terminate by TID alone ends it
        stub.threadTerminate(ThreadTerminateRequest.newBuilder().setTask(task).setThread(tid).build());
        // the abandon alone (thread 0) is still OK
        stub.threadTerminate(ThreadTerminateRequest.newBuilder().setTask(task).setAbandonedCreateToken(12345).build());
    }

    @Test
    void taskTerminateWithAHandleAndATokenIsRefusedAndEndsNothing() {
        long task = stub.taskCreate(TaskCreateRequest.newBuilder().setName("t").build()).getTask();
        MachxpException e = refused(() -> stub.taskTerminate(TaskTerminateRequest.newBuilder()
                .setTask(task).setAbandonedCreateToken(999).build()));
        assertThat(e.getMessage()).contains("send task = 0");
        assertThat(kernel.taskHandles().ref(task)).as("the task's handle still names it").isNotNull();
        stub.taskTerminate(TaskTerminateRequest.newBuilder().setAbandonedCreateToken(999).build());
        stub.taskTerminate(TaskTerminateRequest.newBuilder().setTask(task).build());
        assertThat(kernel.taskHandles().ref(task)).isNull();
    }
}
