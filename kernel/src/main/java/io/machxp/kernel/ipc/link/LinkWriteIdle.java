package io.machxp.kernel.ipc.link;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Writer-idle detection for the sending end of a link, at a flush's cost rather than a write's:
 * every {@code periodMillis} it looks whether anything was flushed since its last look, and if not
 * fires a WRITER_IDLE {@link IdleStateEvent} (the link sends a keepalive, {@link LinkOut}). So at
 * most about two periods pass without a frame on a live link.
 *
 * <p>Netty's IdleStateHandler does this per write: it turns every write's void promise into a
 * real one and adds a listener to it, a tenth of the processor time of a one-way message between
 * kernels. {@link IpcLinks} flushes once per batch of frames, so watching flushes is enough.
 * Event loop only.
 */
final class LinkWriteIdle extends ChannelDuplexHandler {
    private final long periodMillis;
    private boolean flushed;
    private ScheduledFuture<?> tick;

    /** Fires when nothing was flushed for {@code periodMillis} (at most twice that without a frame). */
    LinkWriteIdle(long periodMillis) {
        this.periodMillis = Math.max(1, periodMillis);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            start(ctx); // added to a connection already open
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        start(ctx);
        super.channelActive(ctx);
    }

    /**
     * Once per connection. With a fixed delay, not a fixed rate: after the loop stood still for
     * several periods (a long task, a pause) one look follows, not one per period missed.
     */
    private void start(ChannelHandlerContext ctx) {
        if (tick == null) {
            tick = ctx.executor().scheduleWithFixedDelay(() -> look(ctx), periodMillis, periodMillis, TimeUnit.MILLISECONDS);
        }
    }

    private void look(ChannelHandlerContext ctx) {
        if (!flushed && ctx.channel().isActive()) {
            ctx.fireUserEventTriggered(IdleStateEvent.WRITER_IDLE_STATE_EVENT);
        }
        flushed = false;
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        flushed = true;
        ctx.flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        stop();
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    private void stop() {
        if (tick != null) {
            tick.cancel(false);
            tick = null;
        }
    }
}
