package io.machxp.kernel.net;

import io.grpc.stub.ServerCallStreamObserver;
import io.machxp.kernel.core.KernelError;
import io.machxp.proto.task.TaskWatchEvent;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The task_watch streams open on a kernel, by task handle. A watch is the client's side of its
 * task's life: the client ending it ends the task, and the task ending otherwise - task_terminate,
 * or the loss of the session its core served - ends the watch, OK for a task terminated, or the
 * ESRCH saying why for one lost. Without that, a watch outlived its task for as long as its client
 * kept the channel: each one of the 1,024 calls a connection may have open at once, so a client
 * that watched and terminated tasks in turn found its connection's next call waiting for good.
 *
 * <p>Overview. {@link TaskHandles} ends the watches of a handle when it withdraws it ({@code
 * revoke}, {@code retire}); {@link MachTaskService#taskWatch} opens one, and checks the handle again
 * after opening so that a watch opened while its task ended is ended too. A {@link Watch} is
 * written to under its own lock (the event from the core thread, the end from whichever thread
 * withdrew the handle) and ends once.
 */
public final class TaskWatches {
    private final ConcurrentHashMap<Long, List<Watch>> open = new ConcurrentHashMap<>();

    /** One watch stream: its event and its end, each at most once and never after the end. */
    public static final class Watch {
        private final ServerCallStreamObserver<TaskWatchEvent> out;
        private boolean ended;

        Watch(ServerCallStreamObserver<TaskWatchEvent> out) {
            this.out = out;
        }

        /** The event saying the watch is in place (the core thread). */
        public synchronized void placed(TaskWatchEvent event) {
            if (!ended) {
                try {
                    out.onNext(event);
                } catch (RuntimeException callGone) {
                    // cancelled meanwhile: its cancel handler ends the task
                }
            }
        }

        /** Ends the stream: OK when {@code error} is null. */
        synchronized void end(KernelError error) {
            if (ended) {
                return;
            }
            ended = true;
            try {
                if (error == null) {
                    out.onCompleted();
                } else {
                    Answers.fail(out, error);
                }
            } catch (RuntimeException callGone) {
                // the client ended it first
            }
        }
    }

    /** Registers a watch of {@code handle}; the caller checks the handle still names a task after this. */
    Watch open(long handle, ServerCallStreamObserver<TaskWatchEvent> out) {
        Watch w = new Watch(out);
        open.computeIfAbsent(handle, h -> new CopyOnWriteArrayList<>()).add(w);
        return w;
    }

    /** The task of {@code handle} has ended: its watches end, OK (null) or with {@code error}. */
    void end(long handle, KernelError error) {
        List<Watch> watches = open.remove(handle);
        if (watches != null) {
            watches.forEach(w -> w.end(error));
        }
    }

    /** Watches open now (for tests and status). */
    public int size() {
        return open.values().stream().mapToInt(List::size).sum();
    }
}
