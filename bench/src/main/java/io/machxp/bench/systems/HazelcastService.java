package io.machxp.bench.systems;

import com.hazelcast.config.Config;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.cp.lock.FencedLock;
import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.Guarantees;
import io.machxp.bench.workload.Hosted;
import io.machxp.proto.threads.OwnThreads;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Peer 2: Hazelcast's {@code FencedLock} on an embedded CP group of three members (Raft; a lock
 * and an unlock are each a committed entry, kept in the members' memory: CP persistence is a
 * Hazelcast Enterprise feature), the members on loopback TCP. With {@code cp} false the three
 * members run with the CP subsystem off ({@code cp-member-count} 0): Hazelcast's "unsafe mode",
 * where the FencedLock lives in a partition of the cluster without Raft, and Hazelcast logs a
 * warning that says so. A node's workers call
 * the lock through member node mod 3, as an application embedding a member would. The counters
 * live in this JVM's memory, as for Curator. With {@code --api process} each node's workers are a
 * {@link HazelcastClients} process, a Hazelcast client of the members. The members' ports are
 * chosen free before Hazelcast binds them; one taken meanwhile starts the members again on new ones.
 */
public final class HazelcastService extends PeerService implements Hosted {
    static final int MEMBERS = 3;

    /** The CP group of three with Raft. */
    static final Guarantees CP = new Guarantees(MEMBERS, "Raft (Hazelcast CP)", false, Guarantees.Durability.MEMORY,
            true, MEMBERS + " CP members (Raft), in memory, 1 host: every lock and unlock committed");
    /**
     * CP off, unsafe mode: the lock in its partition's owner, copied to a backup lazily; a lock
     * acknowledged just before its owner crashes can be lost (Hazelcast's documentation says so).
     */
    static final Guarantees UNSAFE = new Guarantees(1, "none", false, Guarantees.Durability.ASYNC_BACKUP, true,
            "CP off: no Raft (unsafe mode), in memory, async backup on another member");

    private final boolean cp;
    private final boolean processes;
    /** The cluster's name and the members' ports: set once, by the start that succeeded. */
    private String cluster;
    private int[] ports;
    private final List<HazelcastInstance> members = new ArrayList<>();
    private final ConcurrentMap<String, FencedLock> proxies = new ConcurrentHashMap<>();

    public HazelcastService(BenchOptions options) {
        this(options, true);
    }

    /** With {@code cp} false, CP is off: the FencedLock runs in unsafe mode, without Raft. */
    public HazelcastService(BenchOptions options, boolean cp) {
        this(options, cp, () -> freePorts(MEMBERS));
    }

    /** With the members' ports chosen by {@code choosePorts} (a test gives a taken one first). */
    HazelcastService(BenchOptions options, boolean cp, java.util.function.Supplier<int[]> choosePorts) {
        super(options.locks());
        this.cp = cp;
        this.processes = options.api() == BenchOptions.Api.PROCESS;
        // The members' ports are chosen free, then bound by Hazelcast: between the two another
        // process may take one (a busy host, tests side by side). A member that finds its port
        // taken starts the three again on ports chosen anew, a few times.
        for (int attempt = 1; ; attempt++) {
            int[] chosen = choosePorts.get();
            String name = "machxp-bench-" + ProcessHandle.current().pid() + "-" + chosen[0];
            try {
                start(name, chosen);
                this.ports = chosen;
                this.cluster = name;
                return;
            } catch (RuntimeException | InterruptedException e) {
                close();
                members.clear();
                proxies.clear();
                if (attempt < START_ATTEMPTS && portTaken(e)) {
                    continue;
                }
                throw new IllegalStateException("could not start the embedded Hazelcast " + (cp ? "CP group" : "members")
                        + ": " + e.getMessage(), e);
            }
        }
    }

    /** How many times the members are started on new ports when one's port was taken meanwhile. */
    private static final int START_ATTEMPTS = 3;

    private void start(String cluster, int[] ports) throws InterruptedException {
        // The first member alone, then the others side by side: it finds no other member up
        // and becomes the cluster's master at once, and they join it. Started all at once, each
        // asked the others who the master was, once a second, until one claimed it some five
        // seconds later (Hazelcast's TCP/IP join): 6 s to start the three, 1.5 s this way.
        members.add(Hazelcast.newHazelcastInstance(memberConfig(cluster, ports, 0, cp ? MEMBERS : 0)));
        List<CompletableFuture<HazelcastInstance>> starting = new ArrayList<>();
        for (int i = 1; i < MEMBERS; i++) {
            Config config = memberConfig(cluster, ports, i, cp ? MEMBERS : 0);
            // each start on a thread of its own: it blocks until the member has joined, and the
            // common pool (CompletableFuture's default) has one worker on 2 CPUs since JDK 25
            starting.add(OwnThreads.supply("hazelcast-start-" + i, () -> Hazelcast.newHazelcastInstance(config)));
        }
        // every member that started is kept, so that a failed start terminates it too
        RuntimeException failed = null;
        for (CompletableFuture<HazelcastInstance> member : starting) {
            try {
                members.add(member.join());
            } catch (CompletionException e) {
                failed = failed == null ? e : failed;
            }
        }
        if (failed != null) {
            throw failed;
        }
        if (cp) {
            members.get(0).getCPSubsystem().getCPSubsystemManagementService().awaitUntilDiscoveryCompleted(
                    2, java.util.concurrent.TimeUnit.MINUTES);
        }
        // The first lock creates the CP group's Raft group and each member's CP session: part of
        // starting the service, like machxp's kernels connecting, not of the workload.
        for (HazelcastInstance member : members) {
            FencedLock ready = member.getCPSubsystem().getLock("machxp-bench-ready");
            ready.lock();
            ready.unlock();
        }
    }

    /** Whether a member could not start because its port was taken (Hazelcast says so, or a BindException). */
    static boolean portTaken(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.BindException
                    || (t.getMessage() != null && t.getMessage().contains("is already in use"))) {
                return true;
            }
        }
        return false;
    }

    private static Config memberConfig(String cluster, int[] ports, int index, int cpMembers) {
        Config config = new Config();
        config.setClusterName(cluster);
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "slf4j");
        if (cpMembers > 0) {
            config.getCPSubsystemConfig().setCPMemberCount(cpMembers).setGroupSize(cpMembers);
        } else {
            config.getCPSubsystemConfig().setCPMemberCount(0); // unsafe mode: CP data structures without Raft
        }
        NetworkConfig network = config.getNetworkConfig();
        network.setPort(ports[index]).setPortAutoIncrement(false);
        network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        network.getJoin().getMulticastConfig().setEnabled(false);
        network.getJoin().getAutoDetectionConfig().setEnabled(false);
        for (int port : ports) {
            network.getJoin().getTcpIpConfig().setEnabled(true).addMember("127.0.0.1:" + port);
        }
        return config;
    }

    static int[] freePorts(int count) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port for the Hazelcast members", e);
        } finally {
            for (ServerSocket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing a socket that only reserved a port number
                }
            }
        }
    }

    @Override
    public String name() {
        String label = cp ? "Hazelcast FencedLock" : "Hazelcast FencedLock, CP off";
        return processes ? label + " (client processes)" : label;
    }

    @Override
    public String data(io.machxp.bench.workload.BenchOptions.Api api) {
        return api == io.machxp.bench.workload.BenchOptions.Api.PROCESS
                ? "an IMap entry: get, and set (1 sync backup), each a call to the members; AP, outside the CP group"
                : super.data(api);
    }

    @Override
    public Guarantees guarantees() {
        return cp ? CP : UNSAFE;
    }

    /** The kind, the name, the cluster's name and the members' addresses ({@link HazelcastClients}). */
    @Override
    public List<String> connection() {
        return List.of(Clients.HAZELCAST, name(), cluster,
                String.join(",", java.util.Arrays.stream(ports).mapToObj(p -> "127.0.0.1:" + p).toList()));
    }

    @Override
    public Client client(int node, int worker) {
        int member = node % MEMBERS;
        FencedLock[] locks = new FencedLock[locks()];
        return new PeerClient() {
            @Override
            public void lock(int lock) {
                if (locks[lock] == null) {
                    // getLock commits to the METADATA group: fetch each proxy once per member.
                    locks[lock] = proxies.computeIfAbsent(member + "/" + lock,
                            k -> members.get(member).getCPSubsystem().getLock("lock-" + lock));
                }
                locks[lock].lock();
            }

            @Override
            public void unlock(int lock) {
                locks[lock].unlock();
            }
        };
    }

    @Override
    public void close() {
        members.forEach(m -> m.getLifecycleService().terminate());
    }
}
