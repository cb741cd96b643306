package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.machxp.proto.task.MachTaskGrpc;
import io.machxp.proto.task.TaskCreateReply;
import io.machxp.proto.task.TaskCreateRequest;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * task_create succeeded but TaskShmAttach failed (review L2; here a kernel without the RPC):
 * the task is returned, on gRPC, instead of an exception that leaks it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AttachFailureTest {
    @Test
    void aTaskWhoseAttachFailsIsReturnedOnGrpc() throws Exception {
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new MachTaskGrpc.MachTaskImplBase() {
                    @Override
                    public void taskCreate(TaskCreateRequest request, StreamObserver<TaskCreateReply> out) {
                        out.onNext(TaskCreateReply.newBuilder().setTask(7).build());
                        out.onCompleted();
                    }
                }).build().start();
        try (KernelClient client = KernelClient.connect("127.0.0.1:" + server.getPort())) {
            TaskClient task = client.taskCreate("t");
            assertThat(task.id()).isEqualTo(7);
            assertThat(task.sharesMemory()).isFalse();
        } finally {
            server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }
}
