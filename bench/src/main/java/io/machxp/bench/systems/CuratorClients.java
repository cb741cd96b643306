package io.machxp.bench.systems;

import io.machxp.bench.workload.LockService;
import java.nio.ByteBuffer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.KeeperException;

/**
 * Curator's side in a worker process ({@code --api process}): one Curator client per process (one
 * ZooKeeper session, as one client process per host); lock i is an {@code InterProcessMutex} on
 * "/machxp-bench/lock-i", and its counter the data of the znode "/machxp-bench/counter-i", where an
 * application coordinating through ZooKeeper would keep it (a write is a ZooKeeper write, fsynced).
 */
final class CuratorClients implements LockService {
    private final String name;
    private final CuratorFramework curator;

    CuratorClients(String name, String connectString) throws InterruptedException {
        this.name = name;
        this.curator = CuratorFrameworkFactory.newClient(connectString, new ExponentialBackoffRetry(100, 3));
        curator.start();
        curator.blockUntilConnected();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Client client(int node, int worker) {
        InterProcessMutex[] mutexes = new InterProcessMutex[4096];
        return new Client() {
            @Override
            public void lock(int lock) throws Exception {
                if (mutexes[lock] == null) {
                    mutexes[lock] = new InterProcessMutex(curator, "/machxp-bench/lock-" + lock);
                }
                mutexes[lock].acquire();
            }

            @Override
            public void unlock(int lock) throws Exception {
                mutexes[lock].release();
            }

            @Override
            public long read(int lock) throws Exception {
                return counter(lock);
            }

            @Override
            public void write(int lock, long value) throws Exception {
                byte[] data = ByteBuffer.allocate(8).putLong(value).array();
                try {
                    curator.setData().forPath(counterPath(lock), data);
                } catch (KeeperException.NoNodeException e) {
                    curator.create().creatingParentsIfNeeded().forPath(counterPath(lock), data);
                }
            }
        };
    }

    private static String counterPath(int lock) {
        return "/machxp-bench/counter-" + lock;
    }

    @Override
    public long messages() {
        return -1;
    }

    @Override
    public long counter(int lock) throws Exception {
        try {
            return ByteBuffer.wrap(curator.getData().forPath(counterPath(lock))).getLong();
        } catch (KeeperException.NoNodeException e) {
            return 0;
        }
    }

    @Override
    public void close() {
        curator.close();
    }
}
