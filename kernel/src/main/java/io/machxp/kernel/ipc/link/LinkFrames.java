package io.machxp.kernel.ipc.link;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.ByteOrder;

/**
 * The frame decoder of a link (4-byte length prefix) with two limits: {@link #MAX_HELLO} bytes
 * until the connection's hello is taken, then {@link LinkPipeline#MAX_FRAME}. A connection that
 * has not said who it is cannot make the kernel hold more than a hello's worth of its bytes (a
 * length prefix of 64 MiB from anyone who can connect would otherwise buffer up to 64 MiB per
 * connection). A length over the limit is refused at once, before its bytes arrive.
 */
final class LinkFrames extends LengthFieldBasedFrameDecoder {
    /** The largest frame before the hello: a LinkHello is a few dozen bytes. */
    static final int MAX_HELLO = 1024;

    /** Event loop only. */
    private int limit = MAX_HELLO;

    LinkFrames() {
        super(LinkPipeline.MAX_FRAME, 0, 4, 0, 4);
    }

    /** The hello was taken: frames up to the full limit from now on. */
    void helloTaken() {
        limit = LinkPipeline.MAX_FRAME;
    }

    @Override
    protected long getUnadjustedFrameLength(ByteBuf buf, int offset, int length, ByteOrder order) {
        long n = super.getUnadjustedFrameLength(buf, offset, length, order);
        if (n > limit) {
            throw new TooLongFrameException("a frame of " + n + " bytes, over the limit of " + limit
                    + (limit == MAX_HELLO ? " before the hello" : ""));
        }
        return n;
    }
}
