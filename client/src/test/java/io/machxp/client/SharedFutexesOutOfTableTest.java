package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.Kernel;
import io.machxp.kernel.shm.SharedMemory;
import io.machxp.kernel.vm.VmObject;
import io.machxp.proto.transport.Transport;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Futexes made after an object's shared futex table filled (3/4 of its slots) keep their state in
 * the kernel's heap, where task processes do not look (review M2). A task process must not read or
 * write such a futex's word as a plain word of the page: the page is not mapped to task processes,
 * and the word's value is the kernel's (its owner's TID), as over gRPC.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedFutexesOutOfTableTest {
    private static final long PAGE = 4096;
    private static final int IN_TABLE = SharedMemory.FUTEXES_PER_OBJECT - SharedMemory.FUTEXES_PER_OBJECT / 4;

    @Test
    void aFutexBeyondTheSharedTableIsNotAPlainWordToTaskProcesses() throws Exception {
        long size = 32 * PAGE;
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, true, Map.of("o", size));
                KernelClient client = KernelClient.connect(cluster.kernelTargets().get(0));
                KernelClient grpc = KernelClient.connect(cluster.kernelTargets().get(0), Transport.LOOPBACK_PLAINTEXT,
                        null, KernelClient.Memory.GRPC_ONLY)) {
            Kernel kernel = cluster.kernel(0);
            LocalTask filler = kernel.taskCreate("filler");
            long fillerBase = filler.vmMap("o");
            kernel.<Void>call(r -> { // the futexes of words 0.. of pages 0..11, as their first locks make them
                VmObject o = kernel.core().task(filler.id()).mappingAt(fillerBase).object();
                for (int i = 0; i < IN_TABLE; i++) {
                    o.slot(4L * i).futex(o.offsetInPage(4L * i));
                }
                r.complete(null);
            });
            TaskClient task = client.taskCreate("task");
            long base = task.vmMap("o");
            assertThat(task.sharesMemory()).isTrue();
            long futex = 4L * IN_TABLE + 256; // page 12
            long plain = 4L * IN_TABLE + 512;
            HostileShm shm = new HostileShm(client, task);
            assertThat(shm.futexState(4L * (IN_TABLE - 1))).as("the last futex in the table").isNotNegative();

            ThreadClient owner = task.threadCreate();
            owner.lockFutex(base + futex);
            assertThat(shm.futexState(futex)).as("the futex lives in the kernel's heap").isNegative();
            task.writeLong(base + plain, 7); // the kernel serves the page (before, it then mapped it)
            assertThat(task.readLong(base + plain)).isEqualTo(7);
            long served = task.sharedAccesses();

            int word = task.readInt(base + futex);
            task.writeLong(base + plain, 8);

            TaskClient viaGrpc = grpc.taskCreate("grpc");
            long grpcBase = viaGrpc.vmMap("o");
            assertThat(viaGrpc.readInt(grpcBase + futex)).as("the kernel's word: the owner's TID").isEqualTo(owner.tid());
            assertThat(word).as("the task process reads the kernel's word too").isEqualTo(owner.tid());
            assertThat(task.sharedAccesses()).as("the page's words go through the kernel").isEqualTo(served);
            assertThat(viaGrpc.readLong(grpcBase + plain)).isEqualTo(8);
            owner.unlockFutex(base + futex);
            assertThat(task.readInt(base + futex)).isZero();
        }
    }
}
