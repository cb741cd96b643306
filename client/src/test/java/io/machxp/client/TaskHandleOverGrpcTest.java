package io.machxp.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.Status;
import io.machxp.kernel.Kernel;
import io.machxp.proto.task.Errno;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The task handle a kernel gives its client is a capability: not the core's task number, and a
 * handle the kernel did not give out (a guess) names no task.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TaskHandleOverGrpcTest {
    private final ClusterFixture c;
    private final Kernel kernel;
    private final TaskClient task;

    TaskHandleOverGrpcTest() throws Exception {
        c = new ClusterFixture(1);
        kernel = c.kernel(0);
        task = c.tasks.get(0);
    }

    @AfterEach
    void close() {
        c.close();
    }

    private static void isUnknownTask(ThrowingCallable call, long handle) {
        MachxpException e = catchThrowableOfType(MachxpException.class, call);
        assertThat(e).as("a call naming task %s must fail", Long.toUnsignedString(handle)).isNotNull();
        assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(e.errno()).isEqualTo(Errno.ESRCH);
        assertThat(e.getMessage()).contains("has no task " + Long.toUnsignedString(handle))
                .contains("create one with task_create");
    }

    /** The handle is a large random number, not the core's small task id, and maps to it. */
    @Test
    void theHandleIsNotTheCoresTaskId() {
        long handle = task.id();
        Long coreId = kernel.taskHandles().taskId(handle);
        assertThat(coreId).isNotNull();
        assertThat(kernel.core().task(coreId)).as("the core knows the task by its own id").isNotNull();
        assertThat(handle).isNotEqualTo(coreId).isNotZero();
        assertThat(kernel.core().task(handle)).as("the core has no task numbered like the handle").isNull();
        // Ten more tasks: their handles are all different, and none is small enough to count to.
        Set<Long> handles = new HashSet<>(Set.of(handle));
        try (KernelClient client = KernelClient.connect(c.clients.get(0).target())) {
            for (int i = 0; i < 10; i++) {
                long h = client.taskCreate("more").id();
                assertThat(handles.add(h)).as("handles are unique").isTrue();
                assertThat(Math.abs(h)).as("handle %s is not a counter", h).isGreaterThan(1L << 20);
            }
        }
    }

    /** A guessed handle (the core's ids 1 and 2, the handle plus or minus one) is refused on every call. */
    @Test
    void aGuessedHandleIsRefused() {
        ThreadClient thread = task.threadCreate();
        long futex = c.base[0] + 16;
        long handle = task.id();
        for (long guess : new long[] {1, 2, handle + 1, handle - 1, kernel.taskHandles().taskId(handle)}) {
            TaskClient guessed = new TaskClient(c.clients.get(0), guess);
            ThreadClient guessedThread = new ThreadClient(c.clients.get(0), guess, thread.tid());
            isUnknownTask(() -> guessedThread.lockFutex(futex), guess);
            isUnknownTask(() -> guessedThread.tryLockFutex(futex), guess);
            isUnknownTask(() -> guessedThread.unlockFutex(futex), guess);
            isUnknownTask(() -> guessed.threadCreate(), guess);
            isUnknownTask(() -> guessed.vmMap(ClusterFixture.OBJECT), guess);
            isUnknownTask(() -> guessed.vmRead(futex, 4), guess);
            isUnknownTask(() -> guessed.watch(), guess);
            isUnknownTask(guessed::terminate, guess);
        }
        // The real handle still works, and the guesses changed nothing.
        thread.lockFutex(futex);
        assertThat(task.readInt(futex)).isEqualTo(thread.tid());
        thread.unlockFutex(futex);
    }

    /** After task_terminate the handle names nothing, and the kernel forgets it. */
    @Test
    void aTerminatedTasksHandleNamesNoTaskAndSaysWhy() {
        ThreadClient thread = task.threadCreate();
        long handle = task.id();
        int before = kernel.taskHandles().size();
        task.terminate();
        assertThat(kernel.taskHandles().size()).isEqualTo(before - 1);
        assertThat(kernel.taskHandles().taskId(handle)).isNull();
        isTerminatedTask(() -> thread.lockFutex(c.base[0] + 16), handle);
        isTerminatedTask(task::terminate, handle);
    }

    /** A terminated task's handle names no task, and says it was terminated (review kreview LOW-2). */
    private static void isTerminatedTask(ThrowingCallable call, long handle) {
        MachxpException e = catchThrowableOfType(MachxpException.class, call);
        assertThat(e).as("a call naming terminated task %s must fail", Long.toUnsignedString(handle)).isNotNull();
        assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(e.errno()).isEqualTo(Errno.ESRCH);
        assertThat(e.getMessage()).contains("no longer has task " + Long.toUnsignedString(handle),
                "it was terminated (task_terminate)");
    }
}
