package io.machxp.bench.pagerload;

import io.machxp.bench.workload.LockService;
import io.machxp.bench.pagerload.PagerSampler.Sample;
import java.util.ArrayList;
import java.util.List;

/**
 * A machxp lock service whose pager runs in another process: each time the workload reads the
 * message count (before the run, at the start and at the end of the measured window) this takes
 * a {@link Sample} ({@link PagerSampler}), so the last two samples bound the measured window.
 */
final class MeteredService implements LockService {
    private final LockService machxp;
    private final PagerSampler sampler;
    private final List<Sample> samples = new ArrayList<>();

    MeteredService(LockService machxp, PagerProcess pager, String target) {
        this.machxp = machxp;
        this.sampler = new PagerSampler(pager, target);
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
        Sample s = sampler.sample();
        samples.add(s);
        return s.messages();
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
        sampler.close();
        machxp.close();
    }
}
