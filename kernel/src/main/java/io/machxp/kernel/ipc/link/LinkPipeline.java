package io.machxp.kernel.ipc.link;

import io.machxp.proto.link.LinkFrame;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline of a kernel-to-kernel link, both ends:
 * <pre>
 *  in:  bytes -> LinkFrames (4-byte length; 1 KiB until the hello, then MAX_FRAME) -> ProtobufDecoder (LinkFrame) -> handler
 *  out: handler -> LinkFrameEncoder (4-byte length, the frame, its seq) -> bytes
 *  the connection accepted (frames come in): IdleStateHandler, reader idle one lease (the peer is dead);
 *       from the hello on, the lease the hello names ({@link LinkAdmissions#silenceMillis})
 *  the connection dialled (frames go out): LinkWriteIdle, nothing flushed for a sixth of a lease
 *       (a keepalive goes out: at most about a third of a lease without a frame)
 * </pre>
 * No flush consolidation here: {@link IpcLinks} already writes every frame queued for a link in
 * one event-loop task with one flush; a consolidating handler would only put off that flush by
 * one more task (a few microseconds on every rpc between kernels).
 */
final class LinkPipeline {
    /** The largest frame accepted: a message with its out-of-line memory. */
    static final int MAX_FRAME = 64 << 20;

    /** The idle watch's name: on the accepted side replaced at the hello, by the sender's lease. */
    static final String IDLE = "idle";

    private LinkPipeline() {}

    /** The pipeline of a connection another kernel dialled: frames come in on it. */
    static void accepted(ChannelPipeline p, long leaseMillis, ChannelHandler handler) {
        p.addLast(IDLE, new IdleStateHandler(leaseMillis, 0, 0, TimeUnit.MILLISECONDS));
        common(p, handler);
    }

    /** The pipeline of a connection this kernel dialled: its frames go out on it. */
    static void dialled(ChannelPipeline p, long leaseMillis, ChannelHandler handler) {
        p.addLast(IDLE, new LinkWriteIdle(leaseMillis / 6));
        common(p, handler);
    }

    private static void common(ChannelPipeline p, ChannelHandler handler) {
        p.addLast("frames", new LinkFrames());
        p.addLast("decode", new ProtobufDecoder(LinkFrame.getDefaultInstance()));
        p.addLast("encode", LinkFrameEncoder.INSTANCE);
        p.addLast("link", handler);
    }
}
