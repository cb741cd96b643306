package io.machxp.kernel.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.machxp.proto.task.TaskWatchEvent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A task_watch ends when its handle is withdrawn: OK when the task is terminated (revoke), ESRCH
 * saying why when it is lost with its core's session (retire); once, and nothing after its end.
 */
class TaskWatchesTest {
    /** A watch stream as the service sees it, recording what it was sent. */
    private static final class Stream extends ServerCallStreamObserver<TaskWatchEvent> {
        final List<TaskWatchEvent> events = new ArrayList<>();
        final List<Status> ends = new ArrayList<>();

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public void setOnCancelHandler(Runnable onCancelHandler) {}

        @Override
        public void setCompression(String compression) {}

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setOnReadyHandler(Runnable onReadyHandler) {}

        @Override
        public void request(int count) {}

        @Override
        public void setMessageCompression(boolean enable) {}

        @Override
        public void disableAutoInboundFlowControl() {}

        @Override
        public void onNext(TaskWatchEvent value) {
            events.add(value);
        }

        @Override
        public void onError(Throwable t) {
            ends.add(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            ends.add(Status.OK);
        }
    }

    @Test
    void aTerminatedTasksWatchesEndOk() {
        TaskHandles handles = new TaskHandles();
        long h = handles.issue(7);
        Stream first = new Stream();
        Stream second = new Stream();
        handles.watches().open(h, first).placed(TaskWatchEvent.newBuilder().setTask(h).build());
        TaskWatches.Watch late = handles.watches().open(h, second);
        assertThat(handles.watches().size()).isEqualTo(2);

        handles.revoke(h);
        late.placed(TaskWatchEvent.newBuilder().setTask(h).build()); // an event after the end is not sent
        assertThat(first.events).hasSize(1);
        assertThat(first.ends).containsExactly(Status.OK);
        assertThat(second.events).isEmpty();
        assertThat(second.ends).containsExactly(Status.OK);
        assertThat(handles.watches().size()).isZero();
        handles.revoke(h); // again: nothing more
        assertThat(first.ends).hasSize(1);
    }

    @Test
    void aLostTasksWatchEndsWithWhy() {
        TaskHandles handles = new TaskHandles();
        long h = handles.issue(7);
        long other = handles.issue(8);
        Stream lost = new Stream();
        Stream kept = new Stream();
        handles.watches().open(h, lost);
        handles.watches().open(other, kept);
        handles.revoke(other);
        handles.retire(null, "the kernel's session with its pager was over");
        assertThat(lost.ends).hasSize(1);
        assertThat(lost.ends.get(0).getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(lost.ends.get(0).getDescription()).contains(Long.toUnsignedString(h))
                .contains("the kernel's session with its pager was over");
        assertThat(kept.ends).containsExactly(Status.OK);
    }
}
