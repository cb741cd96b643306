package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.stub.StreamObserver;
import io.machxp.pager.core.PagerStats;
import io.machxp.proto.admin.PagerStatisticsReply;
import io.machxp.proto.admin.PagerStatisticsRequest;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The pager counts the passes of its core's event loop (pager-efficiency's XP messages per pass)
 * and serves them in PagerStatistics.
 */
class LoopPassesTest {
    /**
     * A task scheduled a millisecond ahead runs in a later batch of tasks than the one that
     * scheduled it, and a pass of the loop (its wait for I/O) comes between any two batches: the
     * count seen by the second task is larger. The first task already sees the loop's first pass.
     */
    @Test
    void eachPassOfTheLoopIsCounted() throws Exception {
        PagerStats stats = new PagerStats();
        EventLoopGroup group = NettyTransport.oneLoop("passes-test", stats::loopPass);
        try {
            EventLoop loop = group.next();
            CompletableFuture<long[]> seen = new CompletableFuture<>();
            loop.execute(() -> {
                long first = stats.loopPasses();
                loop.schedule(() -> seen.complete(new long[] {first, stats.loopPasses()}), 1, TimeUnit.MILLISECONDS);
            });
            long[] counts = seen.get(30, TimeUnit.SECONDS);
            assertThat(counts[0]).as("the loop's first pass comes before its first tasks").isPositive();
            assertThat(counts[1]).as("a later batch of tasks comes after another pass").isGreaterThan(counts[0]);
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void pagerStatisticsServesThePasses() {
        PagerStats stats = new PagerStats();
        for (int i = 0; i < 3; i++) {
            stats.loopPass();
        }
        PagerAdminService admin = new PagerAdminService(stats, () -> {
            throw new AssertionError("the statistics do not ask the core for its status");
        });
        List<PagerStatisticsReply> replies = new ArrayList<>();
        admin.pagerStatistics(PagerStatisticsRequest.getDefaultInstance(), new StreamObserver<>() {
            @Override
            public void onNext(PagerStatisticsReply value) {
                replies.add(value);
            }

            @Override
            public void onError(Throwable t) {
                throw new AssertionError(t);
            }

            @Override
            public void onCompleted() {}
        });
        assertThat(replies).singleElement().extracting(PagerStatisticsReply::getEventLoopPasses).isEqualTo(3L);
    }
}
