package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;
import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.shm.ShmLayout;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session's end deletes its files even when a termination that waited for a revocation cannot
 * be handed to the kernel's loop any more (review F5: the loop is shut down before the sessions
 * close, and the RejectedExecutionException stopped the close before its deletes).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SharedMemoryCloseTest {
    @Test
    void filesAreDeletedWhenWhatWaitsCannotRun(@TempDir Path dir) throws Exception {
        SharedMemory memory = SharedMemory.create(dir, "close", 1);
        memory.objectFiles(1, 4096, 4 * 4096L);
        int slot = memory.attach(7, ProcessHandle.current().pid());
        try (FileChannel ch = FileChannel.open(memory.kernelFile(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MappedByteBuffer kernel = ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size());
            INT.getAndAdd(kernel, ShmLayout.threadSlot(slot), 1); // this process, inside an access
        }
        memory.revoke(7, 0, () -> {
            throw new RejectedExecutionException("the kernel's loop is shut down");
        });
        try (var files = Files.walk(dir, 2)) {
            assertThat(files.filter(Files::isRegularFile).count()).as("kernel file, table, page file")
                    .isGreaterThanOrEqualTo(3);
        }
        memory.close(); // returns: nothing of the failed termination escapes
        try (var files = Files.list(dir)) {
            assertThat(files.toList()).isEmpty();
        }
    }
}
