package io.machxp.kernel.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.kernel.shm.SharedMemory;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.vm.VmMapping;
import io.machxp.proto.xp.MemoryObjectReady;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A kernel that shares memory with task processes has a memory object's files made by the
 * runtime, off its core thread (KernelEnv.fileEffect), when the object becomes ready: the core
 * makes none itself, and the vm_maps of the object wait until the files are there.
 */
class KernelCoreSharedFilesTest {
    private static final int PAGE = 4096;

    @TempDir
    Path dir;

    @Test
    void theObjectsFilesAreMadeAsAnEffectAndItsMapsWaitForThem() throws IOException {
        FakeKernelEnv env = new FakeKernelEnv();
        KernelCore core = new KernelCore("A", env, new KernelStats(), CoreOptions.DEFAULT);
        try (SharedMemory shared = SharedMemory.create(dir, "A", 1)) {
            core.shareMemory(shared);
            core.xp().start();
            core.xp().onXp(PagerToKernel.newBuilder().setPagerWelcome(
                    PagerWelcome.newBuilder().setKernelId(1).setPageSize(PAGE)).build());
            Answer<MachTask> task = new Answer<>();
            core.taskCreate("t", task);
            Answer<VmMapping> first = new Answer<>();
            core.vmMap(task.value().id, "obj", first);
            int id = env.sent.stream().filter(m -> m.hasMemoryObjectInit()).findFirst().orElseThrow()
                    .getMemoryObjectInit().getObjectId();
            core.xp().onXp(PagerToKernel.newBuilder().setMemoryObjectReady(MemoryObjectReady.newBuilder()
                    .setObjectId(id).setSize(4 * PAGE)).build());
            Answer<VmMapping> second = new Answer<>();
            core.vmMap(task.value().id, "obj", second);

            assertThat(objectFiles()).as("the core made no file itself").isEmpty();
            assertThat(first.answered()).as("the vm_map waits for the files").isFalse();
            assertThat(second.answered()).as("a vm_map of the ready object too").isFalse();
            assertThat(env.fileEffects).hasSize(1);

            env.runFileEffects();
            assertThat(objectFiles()).containsExactlyInAnyOrder("obj" + id, "obj" + id + "-pages");
            assertThat(first.value().object().sharedFutexes).isNotNull();
            assertThat(first.value().object().sharedPages).isNotNull();
            assertThat(second.value().size()).isEqualTo(4 * PAGE);

            Answer<VmMapping> third = new Answer<>();
            core.vmMap(task.value().id, "obj", third);
            assertThat(third.answered()).as("once the files are there, a vm_map maps at once").isTrue();
            assertThat(env.fileEffects).isEmpty();
        }
        assertThat(objectFiles()).as("deleted with the session").isEmpty();
    }

    /** The names of the objects' files in the session's directory. */
    private List<String> objectFiles() throws IOException {
        try (var files = Files.walk(dir, 2)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("obj")).toList();
        }
    }
}
