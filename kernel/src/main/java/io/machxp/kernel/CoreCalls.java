package io.machxp.kernel;

import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.KernelException;
import io.machxp.kernel.core.Reply;
import io.netty.channel.EventLoop;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/**
 * Blocking calls into a kernel's core from other threads (in-process tasks): the request runs on
 * the core's event loop with a {@link Reply} that completes a future, and the caller waits for it.
 *
 * <p>The wait yields the processor a few times before it blocks: most answers (a mach_msg to a
 * waiting receiver, an uncontended lock) come back within microseconds, sooner than a park and
 * the core's unpark of the caller take, so a caller still yielding when the answer comes needs
 * no wake-up at all - the way {@link java.util.concurrent.SynchronousQueue} hand-offs wait. On
 * one processor there is nothing to gain and the caller blocks at once.
 */
final class CoreCalls {
    /** Yields before blocking: -Dmachxp.call.yields (default 64; none on a single processor). */
    static final int YIELDS = Runtime.getRuntime().availableProcessors() > 1 ? Integer.getInteger("machxp.call.yields", 64) : 0;

    private final EventLoop loop;
    private final String kernel;

    CoreCalls(EventLoop loop, String kernel) {
        this.loop = loop;
        this.kernel = kernel;
    }

    /** Sends a request to the core and waits for its answer; never call from the core thread. */
    <T> T call(Consumer<Reply<T>> request) {
        assert !loop.inEventLoop() : "a blocking call from the core thread would deadlock";
        CompletableFuture<T> result = new CompletableFuture<>();
        Reply<T> reply = completing(result);
        loop.execute(() -> request.accept(reply));
        yieldUntilDone(result);
        try {
            return result.get();
        } catch (ExecutionException e) {
            throw (RuntimeException) e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for kernel " + kernel, e);
        }
    }

    /** See {@link Kernel#callAbortable}. */
    <T> T callAbortable(Consumer<Reply<T>> request, Consumer<Reply<T>> abort) {
        assert !loop.inEventLoop() : "a blocking call from the core thread would deadlock";
        CompletableFuture<T> result = new CompletableFuture<>();
        Reply<T> reply = completing(result);
        loop.execute(() -> request.accept(reply));
        yieldUntilDone(result);
        boolean interrupted = false;
        while (true) {
            try {
                T value = result.get();
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                return value;
            } catch (ExecutionException e) {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                throw (RuntimeException) e.getCause();
            } catch (InterruptedException e) {
                if (!interrupted) {
                    interrupted = true;
                    loop.execute(() -> abort.accept(reply)); // the answer comes from the core, once
                }
            }
        }
    }

    /** Yields while the answer is not there, at most {@link #YIELDS} times (an interrupt ends it: the wait handles it). */
    private static void yieldUntilDone(CompletableFuture<?> result) {
        for (int i = 0; i < YIELDS && !result.isDone() && !Thread.currentThread().isInterrupted(); i++) {
            Thread.yield();
        }
    }

    /** A reply that completes {@code result}: with the value, or with the error as a KernelException. */
    private static <T> Reply<T> completing(CompletableFuture<T> result) {
        return new Reply<>() {
            @Override
            public void complete(T value) {
                result.complete(value);
            }

            @Override
            public void fail(KernelError error) {
                result.completeExceptionally(new KernelException(error));
            }
        };
    }
}
