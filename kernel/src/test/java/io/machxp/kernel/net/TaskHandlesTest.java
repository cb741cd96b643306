package io.machxp.kernel.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.task.Errno;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Task handles: random, unique, never 0, mapped to the core's id until revoked. */
class TaskHandlesTest {
    private static final int TASKS = 10_000;

    /** Ten thousand handles for tasks 1..10000: all different, none 0, none equal to a task id, each maps back. */
    @Test
    void handlesAreUniqueNonZeroAndMapToTheirTask() {
        TaskHandles handles = new TaskHandles();
        Set<Long> seen = new HashSet<>();
        long[] issued = new long[TASKS + 1];
        for (long task = 1; task <= TASKS; task++) {
            long h = handles.issue(task);
            assertThat(h).isNotZero();
            assertThat(seen.add(h)).as("handle %d given twice", h).isTrue();
            issued[(int) task] = h;
        }
        for (long task = 1; task <= TASKS; task++) {
            assertThat(handles.taskId(issued[(int) task])).isEqualTo(task);
            assertThat(handles.taskId(task)).as("a task id is not a handle").isNull();
        }
        assertThat(handles.size()).isEqualTo(TASKS);
    }

    /** A revoked handle names nothing; revoking it again finds nothing. */
    @Test
    void aRevokedHandleIsUnknown() {
        TaskHandles handles = new TaskHandles();
        long h = handles.issue(7);
        assertThat(handles.revoke(h)).isEqualTo(7L);
        assertThat(handles.taskId(h)).isNull();
        assertThat(handles.revoke(h)).isNull();
        assertThat(handles.size()).isZero();
    }

    /**
     * A terminated task's handle says so (review kreview LOW-2), for the most recent MAX_LOST
     * handles withdrawn: the record stays bounded, and the oldest ones answer as never given out.
     */
    @Test
    void terminatedHandlesAreRememberedWithWhyUpToTheBound() {
        TaskHandles handles = new TaskHandles();
        long first = handles.issue(1);
        handles.revoke(first);
        assertThat(handles.notFound("A", first).message()).isEqualTo("kernel A no longer has task "
                + Long.toUnsignedString(first) + ": it was terminated (task_terminate)");
        long watched = handles.issue(2);
        handles.revoke(watched, TaskHandles.WATCH_ENDED);
        assertThat(handles.notFound("A", watched).message()).contains("when its TaskWatch ended");
        for (long task = 3; task <= TaskHandles.MAX_LOST + 1; task++) {
            handles.revoke(handles.issue(task));
        }
        assertThat(handles.remembered()).isEqualTo(TaskHandles.MAX_LOST);
        assertThat(handles.notFound("A", first).message()).as("the oldest is forgotten")
                .contains("has no task", "create one with task_create");
        assertThat(handles.notFound("A", watched).message()).contains("when its TaskWatch ended");
        assertThat(handles.notFound("A", watched).errno()).isEqualTo(Errno.ESRCH);
    }

    /** An unknown handle gets the core's unknown-task error, with the handle as an unsigned number. */
    @Test
    void theErrorNamesTheHandleUnsigned() {
        var error = TaskHandles.unknown("A", -1L);
        assertThat(error.errno()).isEqualTo(Errno.ESRCH);
        assertThat(error.message()).isEqualTo("kernel A has no task 18446744073709551615; create one with task_create");
    }
}
