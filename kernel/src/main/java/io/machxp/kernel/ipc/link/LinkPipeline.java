package io.machxp.kernel.ipc.link;

import io.machxp.proto.link.LinkFrame;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufEncoder;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline of a kernel-to-kernel link, both ends:
 * <pre>
 *  in:  bytes -> LinkFrames (4-byte length; 1 KiB until the hello, then MAX_FRAME) -> ProtobufDecoder (LinkFrame) -> handler
 *  out: handler -> ProtobufEncoder -> LengthFieldPrepender (4 bytes) -> bytes
 *  IdleStateHandler: reader idle one lease (the peer is dead), writer idle a third of it (send a keepalive)
 * </pre>
 * No flush consolidation here: {@link IpcLinks} already writes every frame queued for a link in
 * one event-loop task with one flush; a consolidating handler would only put off that flush by
 * one more task (a few microseconds on every rpc between kernels).
 */
final class LinkPipeline {
    /** The largest frame accepted: a message with its out-of-line memory. */
    static final int MAX_FRAME = 64 << 20;

    private LinkPipeline() {}

    static void init(ChannelPipeline p, long leaseMillis, ChannelHandler handler) {
        p.addLast("idle", new IdleStateHandler(leaseMillis, Math.max(1, leaseMillis / 3), 0, TimeUnit.MILLISECONDS));
        p.addLast("frames", new LinkFrames());
        p.addLast("length", new LengthFieldPrepender(4));
        p.addLast("decode", new ProtobufDecoder(LinkFrame.getDefaultInstance()));
        p.addLast("encode", new ProtobufEncoder());
        p.addLast("link", handler);
    }
}
