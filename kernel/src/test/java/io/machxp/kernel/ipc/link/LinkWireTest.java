package io.machxp.kernel.ipc.link;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.proto.link.LinkConsumed;
import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.LinkHello;
import io.machxp.proto.link.LinkItem;
import io.machxp.proto.link.LinkMessage;
import io.machxp.proto.link.LinkRight;
import io.machxp.proto.link.PortUid;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The sending half of a link's pipeline on Netty's embedded channel: what {@link LinkFrameEncoder}
 * writes is what ipc_link.proto says (a 4-byte length, then a LinkFrame a plain protobuf parser
 * reads with its seq), and {@link LinkWriteIdle} asks for a keepalive exactly when nothing was
 * flushed for its period (on the channel's own clock, advanced by the test: no waiting).
 */
class LinkWireTest {
    private static final LinkFrame MESSAGE = LinkFrame.newBuilder().setMessage(LinkMessage.newBuilder()
            .setDest(LinkRight.newBuilder().setPort(PortUid.newBuilder().setOrigin(3).setSession(1).setId(77)))
            .setId(1234).setSize(28).setSenderTid(5).setTicket(9)).build();

    /** The frames written on {@code ch}, parsed as any reader of ipc_link.proto would. */
    private static List<LinkFrame> written(EmbeddedChannel ch) throws Exception {
        List<LinkFrame> frames = new ArrayList<>();
        for (ByteBuf b = ch.readOutbound(); b != null; b = ch.readOutbound()) {
            try {
                assertThat(b.readInt()).as("the length prefix").isEqualTo(b.readableBytes());
                byte[] bytes = new byte[b.readableBytes()];
                b.readBytes(bytes);
                frames.add(LinkFrame.parseFrom(bytes));
            } finally {
                b.release();
            }
        }
        return frames;
    }

    @Test
    void aNumberedFrameReadsAsTheFrameWithItsSeqAndAHelloAsItIs() throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel(LinkFrameEncoder.INSTANCE);
        LinkFrame hello = LinkFrame.newBuilder().setHello(LinkHello.newBuilder().setKernel(2).setSession(1)).build();
        LinkFrame consumed = LinkFrame.newBuilder().setConsumed(LinkConsumed.newBuilder().addTickets(5).addTickets(1L << 62)).build();
        ch.writeOutbound(hello, new SeqFrame(MESSAGE, 1), new SeqFrame(consumed, 300), new SeqFrame(MESSAGE, Long.MAX_VALUE));

        assertThat(written(ch)).containsExactly(hello, MESSAGE.toBuilder().setSeq(1).build(),
                consumed.toBuilder().setSeq(300).build(), MESSAGE.toBuilder().setSeq(Long.MAX_VALUE).build());
    }

    @Test
    void aKeepaliveIsAskedForOnlyWhenNothingWasFlushedForAPeriod() throws Exception {
        List<IdleStateEvent> events = new ArrayList<>();
        // time frozen before the idle handler schedules its first check: under load, real time
        // between the channel's construction and the freeze made that check come due early
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        ch.pipeline().addLast(new LinkWriteIdle(100), LinkFrameEncoder.INSTANCE,
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        events.add((IdleStateEvent) evt);
                    }
                });

        ch.advanceTimeBy(100, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertThat(events).as("idle for one period").hasSize(1);
        assertThat(events.get(0).state()).isEqualTo(IdleState.WRITER_IDLE);

        ch.writeAndFlush(new SeqFrame(MESSAGE, 1));
        ch.advanceTimeBy(100, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertThat(events).as("a frame went out in the period").hasSize(1);

        ch.advanceTimeBy(100, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertThat(events).as("nothing since").hasSize(2);
        assertThat(written(ch)).hasSize(1);

        ch.close();
        ch.advanceTimeBy(1, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertThat(events).as("a closed link asks for nothing").hasSize(2);
    }

    @Test
    void aLoopThatStoodStillForManyPeriodsLooksOnceNotOncePerPeriodMissed() {
        List<IdleStateEvent> events = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime(); // before the idle handler's first check is scheduled, as above
        ch.pipeline().addLast(new LinkWriteIdle(100), new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                events.add((IdleStateEvent) evt);
            }
        });
        ch.advanceTimeBy(1_000, TimeUnit.MILLISECONDS); // ten periods without the loop running
        ch.runScheduledPendingTasks();
        assertThat(events).as("one keepalive asked for, not ten").hasSize(1);
        ch.close();
    }

    @Test
    void largeFramesReadBackThroughTheReceivingPipeline() throws Exception {
        EmbeddedChannel out = new EmbeddedChannel(LinkFrameEncoder.INSTANCE);
        byte[] big = new byte[3 << 20];
        new java.util.Random(7).nextBytes(big);
        LinkFrame ool = LinkFrame.newBuilder().setMessage(MESSAGE.getMessage().toBuilder().setComplex(true)
                .addItems(LinkItem.newBuilder().setOutOfLine(com.google.protobuf.ByteString.copyFrom(big)))).build();
        LinkFrame mid = LinkFrame.newBuilder().setMessage(MESSAGE.getMessage().toBuilder()
                .addItems(LinkItem.newBuilder().setInlineData(com.google.protobuf.ByteString.copyFrom(big, 0, 70_000)))).build();
        out.writeOutbound(new SeqFrame(ool, 1), new SeqFrame(mid, 2), new SeqFrame(MESSAGE, 3));

        LinkFrames frames = new LinkFrames();
        frames.helloTaken();
        EmbeddedChannel in = new EmbeddedChannel(frames, new ProtobufDecoder(LinkFrame.getDefaultInstance()));
        for (ByteBuf b = out.readOutbound(); b != null; b = out.readOutbound()) {
            in.writeInbound(b);
        }
        assertThat(List.of((LinkFrame) in.readInbound(), (LinkFrame) in.readInbound(), (LinkFrame) in.readInbound()))
                .containsExactly(ool.toBuilder().setSeq(1).build(), mid.toBuilder().setSeq(2).build(),
                        MESSAGE.toBuilder().setSeq(3).build());
        assertThat((Object) in.readInbound()).isNull();
    }
}
