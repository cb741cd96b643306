package io.machxp.client;

import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.machxp.proto.task.TaskWatchEvent;
import io.machxp.proto.task.TaskWatchRequest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The open TaskWatch stream of one task (see {@link TaskClient#watch}): while it is open the task
 * lives; closing it, or losing the connection, makes the kernel terminate the task.
 */
public final class TaskWatch implements AutoCloseable {
    private static final long SETUP_SECONDS = 10;
    private final Context.CancellableContext context = Context.current().withCancellation();

    TaskWatch(KernelClient kernel, long task) {
        CompletableFuture<Void> inPlace = new CompletableFuture<>();
        context.run(() -> kernel.async.taskWatch(TaskWatchRequest.newBuilder().setTask(task).build(),
                new StreamObserver<TaskWatchEvent>() {
                    @Override
                    public void onNext(TaskWatchEvent event) {
                        inPlace.complete(null);
                    }

                    @Override
                    public void onError(Throwable t) {
                        inPlace.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        inPlace.complete(null);
                    }
                }));
        try {
            inPlace.get(SETUP_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            context.cancel(null);
            if (e.getCause() instanceof StatusRuntimeException s) {
                throw MachxpException.from(kernel.target(), s);
            }
            throw new IllegalStateException("cannot watch task " + task + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            context.cancel(null);
            throw new IllegalStateException("kernel " + kernel.target() + " did not confirm the watch of task " + task
                    + " within " + SETUP_SECONDS + " s");
        } catch (InterruptedException e) {
            context.cancel(null);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while watching task " + task, e);
        }
    }

    /** Ends the watch: the kernel terminates the task. */
    @Override
    public void close() {
        context.cancel(null);
    }
}
