package io.machxp.kernel;

import io.machxp.kernel.core.KernelEnv;
import io.machxp.kernel.core.Timer;
import io.machxp.kernel.shm.SharedSessions;
import io.machxp.proto.xp.KernelToPager;
import io.netty.channel.EventLoop;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The real world of one session's kernel core: XP messages go to its pagers' streams
 * ({@link PagerLinks}), timers run on the kernel's event loop (the core thread) against
 * {@link System#nanoTime}, file effects run on the shared-memory thread and come back to the
 * loop, and trace events go to the kernel. The simulator gives the same core a world in virtual
 * time instead.
 */
final class KernelRuntimeEnv implements KernelEnv {
    private final Supplier<PagerLinks> links;
    private final EventLoop loop;
    private final SharedSessions shared;
    private final TraceListener trace;

    /** {@code links} is read at each call: the session's links are made after its core. */
    KernelRuntimeEnv(Supplier<PagerLinks> links, EventLoop loop, SharedSessions shared, TraceListener trace) {
        this.links = links;
        this.loop = loop;
        this.shared = shared;
        this.trace = trace;
    }

    @Override
    public void send(KernelToPager message) {
        links.get().send(0, message);
    }

    @Override
    public void send(int pager, KernelToPager message) {
        links.get().send(pager, message);
    }

    @Override
    public boolean reconnect() {
        return links.get().reconnect(0);
    }

    @Override
    public boolean reconnect(int pager) {
        return links.get().reconnect(pager);
    }

    @Override
    public boolean resume(int pager) {
        return links.get().resume(pager);
    }

    @Override
    public boolean resumeAwaited(int pager) {
        return links.get().resumeAwaited(pager);
    }

    @Override
    public boolean nextReplica(int pager) {
        return links.get().nextReplica(pager);
    }

    @Override
    public boolean replicated(int pager) {
        return links.get().replicated(pager);
    }

    @Override
    public void resumed(int pager) {
        links.get().resumed(pager);
    }

    @Override
    public void resumeOver(int pager) {
        links.get().resumeOver(pager);
    }

    @Override
    public void endOver(int pager) {
        links.get().endOver(pager);
    }

    @Override
    public Timer schedule(long delayNanos, Runnable action) {
        var future = loop.schedule(action, delayNanos, TimeUnit.NANOSECONDS);
        return () -> future.cancel(false);
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public <T> void fileEffect(Supplier<T> io, Consumer<T> done) {
        shared.fileEffect(io, result -> {
            try {
                loop.execute(() -> done.accept(result));
            } catch (RejectedExecutionException closed) {
                // the kernel ended: its session's files are deleted with it
            }
        });
    }

    @Override
    public void trace(String event, int tid, String detail) {
        trace.trace(event, tid, detail);
    }
}
