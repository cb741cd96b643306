package io.machxp.kernel.shm;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoRegistration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The I/O of the kernel core's event loop: Netty's NIO handler (the sockets of the XP streams to
 * the pagers) and the call files of the kernel's sessions ({@link CallReader}), in one select on
 * one thread, the core's. A call a task process posts in shared memory is taken, dispatched and
 * (if the core decides it at once, as an unlock that hands a futex to a local waiter) answered on
 * that thread in the same turn, with no other thread between the client's ring and the core: one
 * wake-up where there were two (a reader thread, then the core), and one thread fewer per kernel.
 * The core's confinement is unchanged: everything still runs on the loop's one thread, in the
 * order it takes its inputs (its tasks, its sockets' events, and now its call files).
 *
 * <pre>
 *   each turn of the loop (SingleThreadIoEventLoop: I/O, then its tasks):
 *     nothing queued and no call posted since the last look -> ASLEEP in each file, select blocks
 *     else                                                   -> select without blocking
 *     the sockets' events handled (a ring on a bell socket: its bytes dropped)
 *     each file's posted calls taken and dispatched (their core work queued for this turn's tasks)
 * </pre>
 * A session's file is served from its first attached task ({@link #serve}) until it closes.
 */
public final class CallLoop {
    private static final Logger log = LoggerFactory.getLogger(CallLoop.class);

    /** The files served now: core thread only. */
    private final List<CallReader> readers = new ArrayList<>();
    /** The loop's NIO handler, once the loop made it. */
    private volatile IoHandler nio;

    /** The event loop's I/O: {@code nio}'s handlers with the call files served alongside. */
    public IoHandlerFactory ioHandlerFactory(IoHandlerFactory nioFactory) {
        return executor -> new Handler(nioFactory.newHandler(executor));
    }

    /**
     * Core thread: serves {@code reader}'s file from now on, its bell watched by the loop's
     * select. A bell the select cannot watch would lose wake-ups (review L8: the core would say it
     * sleeps, and clients would ring a socket nobody watches), so such a file is refused: closed at
     * once (no client has it yet: the first attach serves it before it answers), and task
     * processes make their calls over gRPC.
     */
    void serve(CallReader reader) {
        if (nio == null) {
            throw new IllegalStateException("a call file served off the core's event loop");
        }
        try {
            reader.bell().register(nio);
        } catch (Exception e) {
            log.warn("call file {}: its bell cannot be watched ({}); task processes make their calls to this "
                    + "kernel over gRPC", reader.file(), e.toString());
            reader.close();
            return;
        }
        readers.add(reader);
    }

    /** Whether every file may let the loop block (each says the core is asleep); false: look first. */
    private boolean mayBlock() {
        readers.removeIf(CallReader::closed);
        for (int i = 0; i < readers.size(); i++) {
            if (!readers.get(i).mayBlock()) {
                for (int j = 0; j < i; j++) {
                    readers.get(j).awake();
                }
                return false;
            }
        }
        return true;
    }

    private int poll() {
        int took = 0;
        for (int i = 0; i < readers.size(); i++) {
            took += readers.get(i).poll();
        }
        return took;
    }

    private final class Handler implements IoHandler {
        private final IoHandler delegate;

        Handler(IoHandler delegate) {
            this.delegate = delegate;
            nio = delegate;
        }

        @Override
        public int run(IoHandlerContext context) {
            boolean block = context.canBlock() && mayBlock();
            int events;
            try {
                events = delegate.run(block ? context : new NonBlocking(context));
            } finally {
                if (block) {
                    readers.forEach(CallReader::awake);
                }
            }
            return events + poll();
        }

        @Override
        public void initialize() {
            delegate.initialize();
        }

        @Override
        public void prepareToDestroy() {
            delegate.prepareToDestroy();
        }

        @Override
        public void destroy() {
            readers.clear();
            delegate.destroy();
        }

        @Override
        public IoRegistration register(IoHandle handle) throws Exception {
            return delegate.register(handle);
        }

        @Override
        public void wakeup() {
            delegate.wakeup();
        }

        @Override
        public boolean isCompatible(Class<? extends IoHandle> handleType) {
            return delegate.isCompatible(handleType);
        }
    }

    /** The loop's context, except that the select must not block: a call waits to be taken. */
    private record NonBlocking(IoHandlerContext context) implements IoHandlerContext {
        @Override
        public boolean canBlock() {
            return false;
        }

        @Override
        public long delayNanos(long currentTimeNanos) {
            return context.delayNanos(currentTimeNanos);
        }

        @Override
        public long deadlineNanos() {
            return context.deadlineNanos();
        }

        @Override
        public void reportActiveIoTime(long activeNanos) {
            context.reportActiveIoTime(activeNanos);
        }

        @Override
        public boolean shouldReportActiveIoTime() {
            return context.shouldReportActiveIoTime();
        }
    }
}
