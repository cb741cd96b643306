package io.machxp.kernel.ipc.link;

import com.google.protobuf.CodedOutputStream;
import io.machxp.proto.link.LinkFrame;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToByteEncoder;
import java.io.IOException;

/**
 * The sending half of a link's framing: a 4-byte length, then the LinkFrame, into one buffer of
 * exactly that size (one write per frame, no copy through a byte array).
 *
 * <p>A {@link SeqFrame} is written as its frame followed by the {@code seq} field (field 1). A
 * protobuf parser takes fields in any order, the last value of a scalar field winning, so these
 * bytes parse as the frame with its seq set: every reader of ipc_link.proto sees the same
 * LinkFrame it would if the frame had been rebuilt with the seq (a copy of every message frame,
 * which cost about a tenth of the allocation of a message between kernels). A bare LinkFrame (the
 * hello) is written as it is.
 */
@ChannelHandler.Sharable
final class LinkFrameEncoder extends MessageToByteEncoder<Object> {
    static final LinkFrameEncoder INSTANCE = new LinkFrameEncoder();
    private static final int SEQ_FIELD = LinkFrame.SEQ_FIELD_NUMBER;

    private LinkFrameEncoder() {}

    @Override
    public boolean acceptOutboundMessage(Object msg) {
        return msg instanceof SeqFrame || msg instanceof LinkFrame;
    }

    /** Exactly the length and the frame: {@link #encode} fills it. */
    @Override
    protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, Object msg, boolean preferDirect) {
        int size = 4 + size(msg);
        return ctx.alloc().ioBuffer(size, size);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, ByteBuf out) {
        int size = size(msg);
        out.writeInt(size);
        int at = out.writerIndex();
        CodedOutputStream cos = CodedOutputStream.newInstance(out.internalNioBuffer(at, size));
        try {
            if (msg instanceof SeqFrame s) {
                s.frame().writeTo(cos);
                cos.writeUInt64(SEQ_FIELD, s.seq());
            } else {
                ((LinkFrame) msg).writeTo(cos);
            }
            cos.flush();
            cos.checkNoSpaceLeft();
        } catch (IOException | IllegalStateException e) {
            throw new EncoderException("a LinkFrame did not take the " + size + " bytes it said it needs", e);
        }
        out.writerIndex(at + size);
    }

    private static int size(Object msg) {
        if (msg instanceof SeqFrame s) {
            return s.frame().getSerializedSize() + CodedOutputStream.computeUInt64Size(SEQ_FIELD, s.seq());
        }
        return ((LinkFrame) msg).getSerializedSize();
    }
}
