package io.machxp.bench.systems;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.cp.lock.FencedLock;
import com.hazelcast.map.IMap;
import io.machxp.bench.workload.LockService;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Hazelcast's side in a worker process ({@code --api process}): one Hazelcast Java client per
 * process, connected to the bench's CP group members; lock i is the CP {@code FencedLock}
 * "lock-i", and its counter an entry of the IMap "machxp-bench-counters" on the members, where an
 * application using Hazelcast would keep the data the lock protects.
 */
final class HazelcastClients implements LockService {
    static final String COUNTERS = "machxp-bench-counters";

    private final String name;
    private final HazelcastInstance client;
    private final IMap<Integer, Long> counters;
    private final ConcurrentMap<Integer, FencedLock> locks = new ConcurrentHashMap<>();

    HazelcastClients(String name, String cluster, List<String> members) {
        this.name = name;
        ClientConfig config = new ClientConfig();
        config.setClusterName(cluster);
        config.setProperty("hazelcast.logging.type", "slf4j");
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.getNetworkConfig().setAddresses(members);
        this.client = HazelcastClient.newHazelcastClient(config);
        this.counters = client.getMap(COUNTERS);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Client client(int node, int worker) {
        return new Client() {
            @Override
            public void lock(int lock) {
                fencedLock(lock).lock();
            }

            @Override
            public void unlock(int lock) {
                fencedLock(lock).unlock();
            }

            @Override
            public long read(int lock) {
                return counter(lock);
            }

            @Override
            public void write(int lock, long value) {
                counters.set(lock, value);
            }
        };
    }

    /** getLock commits to the METADATA group: each proxy is fetched once per process. */
    private FencedLock fencedLock(int lock) {
        return locks.computeIfAbsent(lock, k -> client.getCPSubsystem().getLock("lock-" + k));
    }

    @Override
    public long messages() {
        return -1;
    }

    @Override
    public long counter(int lock) {
        Long value = counters.get(lock);
        return value == null ? 0 : value;
    }

    @Override
    public void close() {
        client.shutdown();
    }
}
