package io.machxp.bench.systems;

import io.machxp.bench.workload.LockService;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the peers share: they are lock services only, so the counters their locks protect live in
 * this JVM's memory (which costs them nothing), and they count no protocol messages.
 */
abstract class PeerService implements LockService {
    private final AtomicLongArray counters;

    PeerService(int locks) {
        this.counters = new AtomicLongArray(locks);
    }

    @Override
    public long messages() {
        return -1;
    }

    @Override
    public long counter(int lock) {
        return counters.get(lock);
    }

    /** In this JVM the counters are in its heap: the peer is a lock service only, and holds no data. */
    @Override
    public String data(io.machxp.bench.workload.BenchOptions.Api api) {
        return "the bench's heap (an AtomicLongArray): the peer holds no data, no call";
    }

    int locks() {
        return counters.length();
    }

    /** A worker's client: the peer's lock and unlock, the counters in memory. */
    abstract class PeerClient implements Client {
        @Override
        public long read(int lock) {
            return counters.get(lock);
        }

        @Override
        public void write(int lock, long value) {
            counters.set(lock, value);
        }
    }
}
