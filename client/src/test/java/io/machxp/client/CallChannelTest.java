package io.machxp.client;

import static io.machxp.proto.shm.ShmLayout.INT;
import static io.machxp.proto.shm.ShmLayout.LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.machxp.proto.shm.CallLayout;
import io.machxp.proto.shm.ShmLayout;
import io.machxp.proto.task.VmUnlockFutexReply;
import io.machxp.proto.task.VmUnlockFutexRequest;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client's side of the call file against a file no kernel serves: a call with a deadline
 * gives up and cancels its slot; a call without one fails UNAVAILABLE once the kernel is gone
 * (its end of the bell's connection ended), instead of waiting forever, and not before: the
 * kernel's pid plays no part (from another PID namespace it names another process or none).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CallChannelTest {
    private static final VmUnlockFutexRequest REQUEST = VmUnlockFutexRequest.newBuilder().setTask(1).setThread(2).build();

    @TempDir
    Path dir;
    /** The file's bell socket, which nobody reads: a kernel that does not answer. */
    private ServerSocketChannel bell;

    @AfterEach
    void closeBell() throws Exception {
        if (bell != null) {
            bell.close();
        }
    }

    private ByteBuffer callFile(long kernelPid) throws Exception {
        bell = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        bell.bind(UnixDomainSocketAddress.of(dir.resolve(CallLayout.bellFile("calls"))));
        Path file = dir.resolve("calls");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = ch.map(FileChannel.MapMode.READ_WRITE, 0, CallLayout.fileSize(4));
            LONG.set(b, CallLayout.KERNEL_PID, kernelPid);
            LONG.setVolatile(b, 0, CallLayout.MAGIC);
            return b;
        }
    }

    @Test
    void aCallPastItsDeadlineIsCancelledInItsSlot() throws Exception {
        ByteBuffer file = callFile(ProcessHandle.current().pid());
        CallChannel channel = CallChannel.open(dir.resolve("calls").toString());
        CallChannel.Slot slot = channel.add(2);
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                () -> channel.call(slot, CallLayout.VM_UNLOCK_FUTEX, REQUEST, VmUnlockFutexReply.parser(),
                        Duration.ofMillis(100)));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        int state = (int) INT.getVolatile(file, CallLayout.slot(2));
        assertThat(CallLayout.phase(state)).isEqualTo(CallLayout.CANCELLED);
        assertThat((int) INT.getVolatile(file, CallLayout.DOORBELL)).as("posted, then cancelled").isEqualTo(2);
    }

    /** The kernel's process ends (the system closes its sockets, the bell's among them): a waiting call fails UNAVAILABLE. */
    @Test
    void aCallToAKernelWhoseBellEndedFailsUnavailable() throws Exception {
        callFile(ProcessHandle.current().pid());
        CallChannel channel = CallChannel.open(dir.resolve("calls").toString());
        CallChannel.Slot slot = channel.add(0);
        bell.close(); // as the kernel's exit does, its accept still pending
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                () -> channel.call(slot, CallLayout.VM_UNLOCK_FUTEX, REQUEST, VmUnlockFutexReply.parser(), null));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(channel.call(slot, CallLayout.VM_UNLOCK_FUTEX, REQUEST, VmUnlockFutexReply.parser(), null))
                .as("later calls go over gRPC").isNull();
    }

    /**
     * A kernel in another PID namespace (containers that share /dev/shm, review M3): the pid in
     * its file names no process here, yet it runs. Before, a call that waited one slice (50 ms)
     * failed UNAVAILABLE "the kernel went away"; now it waits, here until its deadline.
     */
    @Test
    void aKernelWhosePidIsNotSeenHereIsNotTakenForGone() throws Exception {
        Process ended = new ProcessBuilder("true").start();
        ended.waitFor();
        callFile(ended.pid()); // what a pid from another namespace looks like here
        CallChannel channel = CallChannel.open(dir.resolve("calls").toString());
        CallChannel.Slot slot = channel.add(1);
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                () -> channel.call(slot, CallLayout.VM_UNLOCK_FUTEX, REQUEST, VmUnlockFutexReply.parser(),
                        Duration.ofSeconds(1))); // twenty slices: the kernel was looked at before the deadline
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    }

    @Test
    void aFileThatIsNotACallFileIsNotUsed() throws Exception {
        Files.write(dir.resolve("other"), new byte[4096]);
        assertThat(CallChannel.open(dir.resolve("other").toString())).isNull();
        callFile(ProcessHandle.current().pid());
        bell.close();
        Files.delete(dir.resolve("bell"));
        assertThat(CallChannel.open(dir.resolve("calls").toString())).as("a call file without its bell").isNull();
        assertThat(CallChannel.open("")).isNull();
        assertThat(ShmLayout.bootId()).isNotNull();
    }
}
