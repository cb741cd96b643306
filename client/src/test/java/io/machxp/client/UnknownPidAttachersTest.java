package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.StatusRuntimeException;
import io.machxp.proto.shm.ShmLayout;
import io.machxp.proto.task.Errno;
import io.machxp.proto.task.TaskShmAttachReply;
import io.machxp.proto.task.TaskShmAttachRequest;
import io.machxp.proto.transport.Transport;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two processes whose pids the kernel cannot trust (another PID namespace: pid 0 to the kernel)
 * attach one task (review shmcd F5): the second is refused (EBUSY) as a second known pid is,
 * told apart by its attacher name, while the first may attach again and gets its slot. Before,
 * both were taken for one process and each one's call channel used the task's slot.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UnknownPidAttachersTest {
    private final ClusterFixture c;
    private final KernelClient grpc;

    UnknownPidAttachersTest() throws Exception {
        c = new ClusterFixture(1);
        grpc = KernelClient.connect(c.cluster.kernelTargets().get(0), Transport.LOOPBACK_PLAINTEXT, null,
                KernelClient.Memory.GRPC_ONLY);
    }

    @AfterEach
    void close() throws Exception {
        grpc.close();
        c.close();
    }

    private TaskShmAttachReply attach(TaskClient task, String attacher) {
        return grpc.stub().taskShmAttach(TaskShmAttachRequest.newBuilder().setTask(task.id())
                .setBootId(ShmLayout.bootId()).setPid(4242).setPidNamespace("pid:[1]") // not the kernel's
                .setTimeNamespace(ShmLayout.timeNamespace()).setAttacher(attacher)
                .setMonotonicNanos(System.nanoTime()).build());
    }

    @Test
    void aSecondProcessWithAnUnknownPidIsRefused() {
        TaskClient task = grpc.taskCreate("unknown-pids"); // over gRPC only: not attached yet
        TaskShmAttachReply first = attach(task, "process-one");
        assertThat(first.getAvailable()).as(first.getReason()).isTrue();

        StatusRuntimeException second = catchThrowableOfType(StatusRuntimeException.class,
                () -> attach(task, "process-two"));
        assertThat(second).as("another process of unknown pid").isNotNull();
        assertThat(MachxpException.from("kernel", second).errno()).isEqualTo(Errno.EBUSY);

        assertThat(attach(task, "process-one").getTaskSlot()).as("the first again: its slot")
                .isEqualTo(first.getTaskSlot());
    }
}
