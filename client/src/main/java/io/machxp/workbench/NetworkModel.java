package io.machxp.workbench;

import io.machxp.sim.SimNetwork;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A named network for the simulator: a one-way latency of {@code baseNanos} plus an
 * exponentially distributed tail of mean {@code tailMeanNanos} (drawn per message from the run's
 * seed), a bandwidth, and the CPU the pager and a kernel spend on each message they receive.
 * The figures are round, assumed numbers for the three settings, not measurements.
 */
public record NetworkModel(String name, long baseNanos, long tailMeanNanos, double bytesPerNano, long pagerCpuNanos,
        long kernelCpuNanos) implements SimNetwork {
    /** One switch, 10 Gb/s: 30 µs + 10 µs mean tail, 2 µs of CPU per message. */
    public static final NetworkModel LAN = new NetworkModel("lan", 30_000, 10_000, 1.25, 2_000, 2_000);
    /** A datacenter fabric with kernel bypass, 25 Gb/s: 5 µs + 2 µs, 1 µs of CPU. */
    public static final NetworkModel DC = new NetworkModel("dc", 5_000, 2_000, 3.125, 1_000, 1_000);
    /** Across a continent, 1 Gb/s: 20 ms + 2 ms, 2 µs of CPU. */
    public static final NetworkModel WAN = new NetworkModel("wan", 20_000_000, 2_000_000, 0.125, 2_000, 2_000);
    public static final List<NetworkModel> ALL = List.of(LAN, DC, WAN);

    public static NetworkModel of(String name) {
        return ALL.stream().filter(m -> m.name.equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("no network model '" + name + "'; the models are lan, dc and wan"));
    }

    @Override
    public long latencyNanos(String kernel, boolean toPager, SplittableRandom random) {
        double u = random.nextDouble();
        return baseNanos + (long) (-Math.log1p(-u) * tailMeanNanos);
    }

    @Override
    public long transmitNanos(int bytes) {
        return (long) Math.ceil(bytes / bytesPerNano);
    }

    @Override
    public long cpuNanos(boolean toPager) {
        return toPager ? pagerCpuNanos : kernelCpuNanos;
    }
}
