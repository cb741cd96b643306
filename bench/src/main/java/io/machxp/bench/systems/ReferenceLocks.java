package io.machxp.bench.systems;

import java.util.concurrent.locks.ReentrantLock;

/**
 * Plain {@link ReentrantLock}s in this JVM, one per lock: what the bench's shared warm-up runs the
 * workload on ({@code --jvm-warmup}), so that the code every system's run shares is compiled
 * without running any system's own code. Never reported.
 */
public final class ReferenceLocks extends PeerService {
    private final ReentrantLock[] locks;

    public ReferenceLocks(int count) {
        super(count);
        this.locks = new ReentrantLock[count];
        for (int i = 0; i < count; i++) {
            locks[i] = new ReentrantLock();
        }
    }

    @Override
    public String name() {
        return "reference (ReentrantLock, warm-up only)";
    }

    @Override
    public Client client(int node, int worker) {
        return new PeerClient() {
            @Override
            public void lock(int lock) {
                locks[lock].lock();
            }

            @Override
            public void unlock(int lock) {
                locks[lock].unlock();
            }
        };
    }

    @Override
    public void close() {}
}
