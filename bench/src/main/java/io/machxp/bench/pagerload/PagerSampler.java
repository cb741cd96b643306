package io.machxp.bench.pagerload;

import io.machxp.client.PagerAdminClient;
import io.machxp.proto.admin.PagerStatisticsReply;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Samples of a pager process's counts: its XP messages (received and sent, keepalives not counted)
 * and event-loop passes, read over its admin service, and its process's counters in /proc (CPU
 * time, waits, system calls). Two samples bound a measured window.
 */
final class PagerSampler implements AutoCloseable {
    /** The pager's counts at one moment: XP messages, passes of its core's event loop, /proc's counters. */
    record Sample(long nanoTime, long messages, long passes, ProcCounters counters) {}

    private final PagerProcess pager;
    private final PagerAdminClient admin;

    PagerSampler(PagerProcess pager, String target) {
        this.pager = pager;
        this.admin = PagerAdminClient.connect(target);
    }

    Sample sample() {
        try {
            ProcCounters counters = pager.counters();
            PagerStatisticsReply stats = admin.statistics();
            long n = stats.getXpReceivedMap().values().stream().mapToLong(Long::longValue).sum()
                    + stats.getXpSentMap().values().stream().mapToLong(Long::longValue).sum();
            return new Sample(System.nanoTime(), n, stats.getEventLoopPasses(), counters);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        admin.close();
    }
}
