package io.machxp.pager.net;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoRegistration;
import io.netty.util.concurrent.ThreadAwareExecutor;

/**
 * An event loop's I/O handler that counts its passes: each {@link IoHandler#run} is one pass of
 * the loop (one epoll or select call, waiting or not, and the I/O it found ready), after which the
 * loop runs its queued tasks. Everything else goes to the handler it wraps, unchanged.
 *
 * <p>The pager's XP messages per pass is the figure its CPU per message depends on most: the OS's
 * cost of a pass (the wait or poll, a read per ready socket, a write per connection written) is
 * shared by the messages the pass finds ({@code docs/pager-efficiency.md}). Counting costs one
 * uncontended add per pass.
 */
final class PassCounting implements IoHandlerFactory {
    private final IoHandlerFactory inner;
    private final Runnable onPass;

    PassCounting(IoHandlerFactory inner, Runnable onPass) {
        this.inner = inner;
        this.onPass = onPass;
    }

    @Override
    public IoHandler newHandler(ThreadAwareExecutor executor) {
        IoHandler handler = inner.newHandler(executor);
        return new IoHandler() {
            @Override
            public void initialize() {
                handler.initialize();
            }

            @Override
            public int run(IoHandlerContext context) {
                onPass.run();
                return handler.run(context);
            }

            @Override
            public void prepareToDestroy() {
                handler.prepareToDestroy();
            }

            @Override
            public void destroy() {
                handler.destroy();
            }

            @Override
            public IoRegistration register(IoHandle handle) throws Exception {
                return handler.register(handle);
            }

            @Override
            public void wakeup() {
                handler.wakeup();
            }

            @Override
            public boolean isCompatible(Class<? extends IoHandle> handleType) {
                return handler.isCompatible(handleType);
            }
        };
    }

    @Override
    public boolean isChangingThreadSupported() {
        return inner.isChangingThreadSupported();
    }
}
