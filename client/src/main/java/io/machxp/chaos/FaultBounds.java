package io.machxp.chaos;

/**
 * The numbers the chaos harness judges by, derived from the run's options and the lease rules of
 * the cores (kernel: a keepalive every L/4 of its own clock, its lease ends L - L/5 after the send
 * of the last keepalive answered; pager: a kernel unheard for L of the pager's clock is dead). The
 * harness uses them to decide by itself, from the faults it injected, what must happen: a fault
 * shorter than {@link #survivableNanos} must leave the kernel its lease, one longer than
 * {@link #fatalNanos} must cost it, and by {@link #stoppedBy} the kernel must have stopped.
 * docs/chaos.md derives each.
 *
 * @param leaseNanos L
 * @param transitNanos the most one message takes: latency + jitter
 * @param drift the most any clock's rate is off (0.01: 1 %)
 * @param kernelJumpNanos the most a kernel's clock jumps forward in one fault
 * @param pagerJumpNanos the most the pager's clock jumps forward in one fault
 */
public record FaultBounds(long leaseNanos, long transitNanos, double drift, long kernelJumpNanos,
        long pagerJumpNanos) {
    /** Clock drift the leases are run with in chaos: 1 %. */
    public static final double DRIFT = 0.01;

    public static FaultBounds of(ChaosOptions o) {
        return new FaultBounds(o.leaseNanos(), o.latencyNanos() + o.jitterNanos(), DRIFT, o.leaseNanos() / 20,
                o.leaseNanos() / 20);
    }

    /**
     * The longest partition or pause a kernel survives for sure. Kernel: the last keepalive answered
     * before the fault was sent at most L/4 (its clock) + a transit before it, and the first answer
     * after it arrives a transit after it ends; its lease (L - L/5, less a clock jump, on a clock up
     * to {@code drift} fast) must outlast both. Pager: it heard the kernel at most L/4 + a transit
     * before, and hears it again a transit after; on a fast clock plus a jump that must stay under L.
     * Nine tenths of the smaller bound, for rounding.
     */
    public long survivableNanos() {
        double kernel = (0.55 * leaseNanos - kernelJumpNanos) / (1 + drift) - 2.0 * transitNanos;
        double pager = (leaseNanos - pagerJumpNanos) / (1 + drift) - leaseNanos / (4 * (1 - drift)) - 2.0 * transitNanos;
        return (long) (0.9 * Math.min(kernel, pager));
    }

    /**
     * The shortest partition or pause that surely costs the kernel its lease: the pager, whose
     * clock may run {@code drift} slow, hears nothing for longer than L, and the kernel cannot have
     * had a keepalive answered in it. A tenth of a lease more, for rounding.
     */
    public long fatalNanos() {
        return (long) (leaseNanos / (1 - drift)) + transitNanos + leaseNanos / 10;
    }

    /**
     * By when a kernel cut off (or paused) at {@code start} has stopped: its last answered keepalive
     * was sent before {@code start}, and its lease of L - L/5 runs out on a clock up to {@code drift}
     * slow. From then on nothing it does may succeed.
     */
    public long stoppedBy(long start) {
        return start + (long) Math.ceil(0.8 * leaseNanos / (1 - drift)) + leaseNanos / 100;
    }

    /**
     * By when the pager has declared dead a kernel it last heard from at {@code start} plus a
     * transit (one crashed, cut off or paused then): L of a clock up to {@code drift} slow, and a
     * tenth of a lease for rounding. Until then it may still grant the kernel what it asked for.
     */
    public long declaredDeadBy(long start) {
        return start + transitNanos + (long) Math.ceil(leaseNanos / (1 - drift)) + leaseNanos / 10;
    }

    /**
     * How long a kernel stays busy after a fault that it survives: until a keepalive is answered
     * again and its lease is whole (a lease), so no two survivable faults add up.
     */
    public long recoveryNanos() {
        return leaseNanos;
    }

    /**
     * The longest a pager may stay down for every kernel to keep its lease: a kernel's lease has at
     * least 0.55 L (its clock) left at the crash; it hears of the crash a transit later, tries a new
     * stream every L/20, and its reclaim, the welcome, and the keepalive after it take six transits
     * more. Nine tenths of that, for rounding.
     */
    public long pagerDownNanos() {
        return (long) (0.9 * (0.55 * leaseNanos / (1 + drift) - 7.0 * transitNanos - leaseNanos / 20.0));
    }

    /**
     * How long two boosts take to settle: a waiter's kernel tells the pager, the pager tells the
     * owner's kernel (two transits), doubled, and a twentieth of a lease for the cores' own work.
     */
    public long settleNanos() {
        return 4 * transitNanos + leaseNanos / 20;
    }
}
