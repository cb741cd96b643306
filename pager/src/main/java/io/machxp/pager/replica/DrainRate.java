package io.machxp.pager.replica;

import java.util.function.LongSupplier;

/**
 * How fast the group applies the kernels' messages its leader appended, as the leader's
 * {@link AppendBudget} sees them go: entries and bytes released per nanosecond of busy time (time
 * in which at least one of them was pending), over samples of at least {@link #SAMPLE_NANOS} of
 * busy time, each new sample averaged with the rate before. An idle group measures nothing and
 * keeps the rate it had; before a first sample the rate is unknown.
 *
 * <p>What it is for: a peer may go past its bound only while what the group has pending drains
 * within a target time at this rate ({@link #entriesWithin}, {@link #bytesWithin}), so that a
 * kernel of another peer that speaks then is answered within that time, not behind a fixed share
 * of Ratis's limits (review halfwin LOW-1). Why a rate from busy time is the one wanted: while
 * the leader's pipeline is full, what drains per busy second is the group's capacity C (commit,
 * with its syncs on a majority, and apply); with less pending it is less than C, and the target
 * time's worth of it is then still more than is pending as soon as the target is longer than an
 * entry's round (a few ms against a twelfth of the lease), so the allowance grows to C times the
 * target, where what is pending takes the target time to drain. A rate that falls (a slower disk,
 * a follower behind) is seen within a sample of busy time.
 *
 * <p>The clock is given: {@link System#nanoTime} for a replica; a test's or the simulator's
 * clock otherwise (nothing here reads time on its own). Not thread-safe: under the budget's lock.
 */
final class DrainRate {
    /** Busy time a sample spans at least. */
    static final long SAMPLE_NANOS = 50_000_000L;

    private final LongSupplier nanos;
    /** Whether something is pending, and since when (in this sample). */
    private boolean busy;
    private long busySince;
    /** Busy time of this sample before {@link #busySince}. */
    private long sampleBusy;
    private long sampleEntries;
    private long sampleBytes;
    /** The rate; negative while unknown. */
    private double entriesPerNano = -1;
    private double bytesPerNano = -1;

    DrainRate(LongSupplier nanos) {
        this.nanos = nanos;
    }

    /** Something is pending now (called as the first of the group's pending messages is counted). */
    void busy() {
        if (!busy) {
            busy = true;
            busySince = nanos.getAsLong();
        }
    }

    /**
     * A pending message of {@code cost} bytes was applied (negative: its append failed or was
     * refused, which is no measure of the rate: a lost leadership fails every pending append at
     * once); {@code idle}: nothing is pending now.
     */
    void released(long cost, boolean idle) {
        long now = nanos.getAsLong();
        if (cost >= 0) {
            sampleEntries++;
            sampleBytes += cost;
        }
        if (busy && cost >= 0) {
            long elapsed = sampleBusy + (now - busySince);
            if (elapsed >= SAMPLE_NANOS) {
                take(sampleEntries / (double) elapsed, sampleBytes / (double) elapsed);
                sampleEntries = 0;
                sampleBytes = 0;
                sampleBusy = 0;
                busySince = now;
            }
        }
        if (idle && busy) {
            sampleBusy += now - busySince;
            busy = false;
        }
    }

    /** Takes a rate as measured (a test's, or a replica's seen before): as a sample. */
    void take(double entriesPerNano, double bytesPerNano) {
        if (this.entriesPerNano < 0) {
            this.entriesPerNano = entriesPerNano;
            this.bytesPerNano = bytesPerNano;
        } else {
            this.entriesPerNano = (this.entriesPerNano + entriesPerNano) / 2;
            this.bytesPerNano = (this.bytesPerNano + bytesPerNano) / 2;
        }
    }

    /** Entries the group applies in {@code targetNanos} at this rate (rounded); 0 while it is unknown. */
    long entriesWithin(long targetNanos) {
        return entriesPerNano < 0 ? 0 : Math.round(Math.min(Long.MAX_VALUE / 2, entriesPerNano * targetNanos));
    }

    /** Bytes the group applies in {@code targetNanos} at this rate (rounded); 0 while it is unknown. */
    long bytesWithin(long targetNanos) {
        return bytesPerNano < 0 ? 0 : Math.round(Math.min(Long.MAX_VALUE / 2, bytesPerNano * targetNanos));
    }
}
