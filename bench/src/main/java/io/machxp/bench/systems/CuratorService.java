package io.machxp.bench.systems;

import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.Guarantees;
import io.machxp.bench.workload.Hosted;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.test.TestingServer;

/**
 * Peer 1: Apache Curator's {@code InterProcessMutex} (the ZooKeeper lock recipe: an ephemeral
 * sequential node, wait on the predecessor, delete on release) on an embedded ZooKeeper server
 * (curator-test's {@code TestingServer}, one server, its log on a temporary directory, fsynced as
 * ZooKeeper does by default). One Curator client per node, shared by the node's workers, as one
 * client process per host would be. The counters live in this JVM's memory, which costs the peer
 * nothing: a user would also have to store and move that data somewhere. With {@code --api process}
 * only the server runs here, and each node's workers are a {@link CuratorClients} process. With
 * {@code forceSync} false the server is started with ZooKeeper's {@code zookeeper.forceSync=no}: it
 * writes its log but does not sync it before answering (the property is read when the server opens
 * its log, so it is set only while this server starts).
 */
public final class CuratorService extends PeerService implements Hosted {
    /** One server, its log synced before each answer (ZooKeeper's default). */
    static final Guarantees FSYNC = new Guarantees(1, "none", true, Guarantees.Durability.DISK, true,
            "1 server, log fsynced: every lock and unlock");
    /** One server, forceSync=no. */
    static final Guarantees NO_FSYNC = new Guarantees(1, "none", false, Guarantees.Durability.WRITTEN, true,
            "1 server, forceSync=no: log written, not fsynced");
    private static final String FORCE_SYNC = "zookeeper.forceSync";

    private final TestingServer server;
    private final boolean forceSync;
    private final boolean processes;
    private final List<CuratorFramework> clients = new ArrayList<>();

    public CuratorService(BenchOptions options) throws Exception {
        this(options, true);
    }

    /** With {@code forceSync} false, a server that does not sync its log ({@code zookeeper.forceSync=no}). */
    public CuratorService(BenchOptions options, boolean forceSync) throws Exception {
        super(options.locks());
        this.forceSync = forceSync;
        this.processes = options.api() == BenchOptions.Api.PROCESS;
        this.server = startServer(forceSync);
        try {
            for (int node = 0; !processes && node < options.nodes(); node++) {
                CuratorFramework client = CuratorFrameworkFactory.newClient(server.getConnectString(),
                        new ExponentialBackoffRetry(100, 3));
                clients.add(client);
                client.start();
                client.blockUntilConnected();
            }
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    private static synchronized TestingServer startServer(boolean forceSync) throws Exception {
        String before = System.getProperty(FORCE_SYNC);
        if (!forceSync) {
            System.setProperty(FORCE_SYNC, "no");
        }
        try {
            // Port 0: the server binds a port the system chooses and says which (curator-test 5.9's
            // TestingServer asks its server for the bound port). The no-argument constructor picked a
            // free port first and bound it after, and a test beside it could take the port between.
            return new TestingServer(0, true); // returns once the server runs, its transaction log open
        } finally {
            if (before == null) {
                System.clearProperty(FORCE_SYNC);
            } else {
                System.setProperty(FORCE_SYNC, before);
            }
        }
    }

    @Override
    public String name() {
        String label = forceSync ? "Curator InterProcessMutex" : "Curator InterProcessMutex, forceSync=no";
        return processes ? label + " (client processes)" : label;
    }

    @Override
    public String data(io.machxp.bench.workload.BenchOptions.Api api) {
        return api == io.machxp.bench.workload.BenchOptions.Api.PROCESS
                ? "a znode: getData, and setData (a write of ZooKeeper's log, " + (forceSync ? "fsynced" : "not fsynced")
                        + "), each a call to the server"
                : super.data(api);
    }

    @Override
    public Guarantees guarantees() {
        return forceSync ? FSYNC : NO_FSYNC;
    }

    /** The kind, the name and ZooKeeper's connect string ({@link CuratorClients}). */
    @Override
    public List<String> connection() {
        return List.of(Clients.CURATOR, name(), server.getConnectString());
    }

    @Override
    public Client client(int node, int worker) {
        CuratorFramework client = clients.get(node);
        InterProcessMutex[] mutexes = new InterProcessMutex[locks()];
        return new PeerClient() {
            @Override
            public void lock(int lock) throws Exception {
                if (mutexes[lock] == null) {
                    mutexes[lock] = new InterProcessMutex(client, "/machxp-bench/lock-" + lock);
                }
                mutexes[lock].acquire();
            }

            @Override
            public void unlock(int lock) throws Exception {
                mutexes[lock].release();
            }
        };
    }

    @Override
    public void close() {
        clients.forEach(CuratorFramework::close);
        try {
            server.close();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
