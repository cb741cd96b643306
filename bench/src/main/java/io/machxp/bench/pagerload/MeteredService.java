package io.machxp.bench.pagerload;

import io.machxp.bench.workload.LockService;
import io.machxp.client.PagerAdminClient;
import io.machxp.proto.admin.PagerStatisticsReply;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A machxp lock service whose pager runs in another process: each time the workload reads the
 * message count (before the run, at the start and at the end of the measured window) this takes
 * a {@link Sample} of the pager's XP message count, read over its admin service, and of its
 * process's counters in /proc (CPU time, waits, system calls), so the last two samples bound the
 * measured window.
 */
final class MeteredService implements LockService {
    /** The pager's counts at one moment: XP messages, passes of its core's event loop, /proc's counters. */
    record Sample(long nanoTime, long messages, long passes, ProcCounters counters) {}

    private final LockService machxp;
    private final PagerProcess pager;
    private final PagerAdminClient admin;
    private final List<Sample> samples = new ArrayList<>();

    MeteredService(LockService machxp, PagerProcess pager, String target) {
        this.machxp = machxp;
        this.pager = pager;
        this.admin = PagerAdminClient.connect(target);
    }

    @Override
    public String name() {
        return machxp.name() + " (pager process)";
    }

    @Override
    public String data(io.machxp.bench.workload.BenchOptions.Api api) {
        return machxp.data(api);
    }

    @Override
    public io.machxp.bench.workload.Guarantees guarantees() {
        return machxp.guarantees();
    }

    @Override
    public Client client(int node, int worker) throws Exception {
        return machxp.client(node, worker);
    }

    /** XP messages the pager received and sent (both directions, keepalives not counted). */
    @Override
    public synchronized long messages() {
        try {
            ProcCounters counters = pager.counters();
            PagerStatisticsReply stats = admin.statistics();
            long n = stats.getXpReceivedMap().values().stream().mapToLong(Long::longValue).sum()
                    + stats.getXpSentMap().values().stream().mapToLong(Long::longValue).sum();
            samples.add(new Sample(System.nanoTime(), n, stats.getEventLoopPasses(), counters));
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The samples so far, in order. */
    synchronized List<Sample> samples() {
        return List.copyOf(samples);
    }

    @Override
    public long counter(int lock) throws Exception {
        return machxp.counter(lock);
    }

    @Override
    public void close() {
        admin.close();
        machxp.close();
    }
}
