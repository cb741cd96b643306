package io.machxp.kernel.shm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.machxp.kernel.Kernel;
import io.machxp.kernel.KernelConfig;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.proto.transport.Transport;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An interrupt of the thread that asks for a session's shared memory (the kernel command's close
 * at exit interrupts a kernel's start on a SIGTERM) while its directory and files are being made.
 * Before, the interrupt landed in their FileChannel I/O: the channel closed
 * (ClosedByInterruptException) and the session's files failed ("cannot create the shared memory
 * files ... (null)"), or the session went on silently without its call file. Now they are made
 * whole on a thread of their own; the caller's interrupt is kept, and a kernel's start ends at its
 * wait for the pager, closing the kernel: its directory goes.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class InterruptedSessionMakingTest {
    @TempDir
    Path dir;

    @AfterEach
    void disarm() {
        SessionDirectory.beforeLocking = null;
        SharedMemory.refuseSpace = null;
        Thread.interrupted();
    }

    @Test
    void anInterruptWhileTheDirectoryIsMadeLeavesTheSessionWholeAndIsKept() throws Exception {
        Thread caller = Thread.currentThread();
        SessionDirectory.beforeLocking = making -> caller.interrupt();
        SharedMemory memory = SharedMemory.create(dir, "A", 1, new CallLoop());
        assertThat(Thread.interrupted()).as("the caller's interrupt is kept").isTrue();
        assertWholeThenGone(memory);
    }

    @Test
    void anInterruptWhileTheCallFileIsMadeLeavesTheSessionWholeAndIsKept() throws Exception {
        Thread caller = Thread.currentThread();
        SharedMemory.refuseSpace = file -> {
            if (file.getFileName().toString().equals("calls")) {
                caller.interrupt();
            }
            return false;
        };
        SharedMemory memory = SharedMemory.create(dir, "A", 1, new CallLoop());
        assertThat(Thread.interrupted()).as("the caller's interrupt is kept").isTrue();
        assertWholeThenGone(memory);
    }

    /**
     * A kernel's start interrupted while it makes its session directory, its pager accepting the
     * connection and never answering: the start ends at its wait for the pager, closes the kernel
     * and throws; nothing is left.
     *
     * <p>The connect timeout is 0: that wait (CompletableFuture.get) looks at the interrupt before
     * the deadline, so a kept interrupt ends it as "interrupted", and a lost one as the timeout's
     * ServerUnreachable, at once, instead of a start that waits for the test's bound. The bound is
     * for a start that is its JVM's first (the shm package's classes ran first in the module's
     * runs, and none before this one starts a kernel): loading gRPC, Netty, protobuf and logging
     * took it 10-19 s at a load of 15-23 on the 2-core machine (about 3 s of the process's CPU),
     * and 28.7 s at a load of 44-46 (its seam at 13 s, the start ended by the interrupt at 25 s):
     * the 30 s that CI waited out once at a load of about 46 (2026-12-07), with nothing lost. What
     * the start did, and when, is printed for a failure's report ({@link StartTimeline}).
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aKernelsStartInterruptedWhileItMakesItsDirectoryEndsAndLeavesNothing() throws Exception {
        try (ServerSocket silent = new ServerSocket(0)) {
            KernelConfig config = new KernelConfig("A", "127.0.0.1:" + silent.getLocalPort(), "127.0.0.1", 0,
                    Duration.ZERO, CoreOptions.DEFAULT, Transport.LOOPBACK_PLAINTEXT, dir);
            Thread starting = Thread.currentThread();
            StartTimeline timeline = new StartTimeline();
            // Not whether the start's thread reads interrupted right after: it waits in
            // CompletableFuture.join, which takes the flag into its waiter and sets it again when it
            // returns, and the class loader clears and restores it around each class it reads, so
            // it can read false meanwhile (CI 2026-12-07 saw false, and then the start end as it should).
            SessionDirectory.beforeLocking = making -> {
                if (making.getParent().equals(dir)) {
                    starting.interrupt();
                    timeline.seam("interrupted " + starting.getName() + " from " + Thread.currentThread().getName());
                } else {
                    timeline.other(making);
                }
            };
            Throwable thrown = catchThrowable(() -> Kernel.start(config));
            String report = timeline.ended(thrown);
            System.err.println(report);
            assertThat(timeline.seamCalls()).as("the seam ran once for this test's directory: " + report).isEqualTo(1);
            assertThat(thrown).as("the start ends at its wait for the pager by the seam's interrupt, not by its connect "
                    + "timeout (a ServerUnreachable here: the interrupt was lost before that wait): " + report)
                    .isInstanceOf(IOException.class).hasMessageContaining("interrupted while starting kernel A");
        }
        assertThat(entries()).as("the session's directory went with the kernel").isEmpty();
    }

    private void assertWholeThenGone(SharedMemory memory) throws IOException {
        assertThat(memory.kernelFile()).exists();
        assertThat(memory.calls()).as("the session has its call file").isNotNull();
        assertThat(memory.calls().file()).exists();
        memory.close();
        assertThat(entries()).as("closed: the directory went").isEmpty();
    }

    private List<Path> entries() throws IOException {
        try (var list = Files.list(dir)) {
            return list.toList();
        }
    }
}
