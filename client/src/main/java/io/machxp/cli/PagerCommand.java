package io.machxp.cli;

import io.machxp.pager.Pager;
import io.machxp.pager.PagerConfig;
import io.machxp.proto.transport.Transport;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "pager", mixinStandardHelpOptions = true,
        description = "Run a pager: serves memory objects and owns every futex across its kernels.")
final class PagerCommand implements Callable<Integer> {
    /**
     * How long the pager's close at exit may take (SIGTERM, Ctrl-C): its own deadline
     * ({@link io.machxp.pager.Pager#CLOSE_BOUND}, 80 s: the store's part may wait for a busy core) and
     * 5 s for the metrics server and the log. Not {@link io.machxp.cluster.CloseAtExit#DEFAULT_BOUND}
     * (15 s), which cut the store's part off in the middle (late9 review MED-3). A replica
     * ({@code --replicas}) closes within it too: its Raft server's close and its log's sync.
     */
    static final java.time.Duration EXIT_BOUND = io.machxp.pager.Pager.CLOSE_BOUND.plusSeconds(5);

    @Option(names = "--port", defaultValue = "7070", description = "XP port (default ${DEFAULT-VALUE}; 0 = any free port)")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1",
            description = "address to listen on (default ${DEFAULT-VALUE}; 0.0.0.0 for kernels on other hosts, "
                    + "with the TLS files or --plaintext)")
    String bind;

    @Mixin
    TlsOptions tls;

    @Mixin
    ServerOptions server;

    @Option(names = "--name", defaultValue = "pager", description = "name in logs (default ${DEFAULT-VALUE})")
    String name;

    @Option(names = "--page-size", defaultValue = "4096", description = "bytes, a power of two of at least 64 (default ${DEFAULT-VALUE})")
    int pageSize;

    @Option(names = "--object", paramLabel = "NAME=SIZE",
            description = "a memory object to serve, e.g. shared=1m or shared=64KiB (units k, m, g: powers of 1024); repeatable (default: shared=1m)")
    List<String> objects = List.of();

    @Option(names = "--store", paramLabel = "DIR",
            description = "keep each object's pages in files under DIR, written on data_return (default: in memory)")
    Path store;

    @Option(names = "--lease-ms", defaultValue = "5000",
            description = "a kernel's session lease: a kernel not heard from for this long is declared dead and its "
                    + "futexes go to their next waiters with OWNER_DIED; 0 = none (default ${DEFAULT-VALUE})")
    long leaseMillis;

    @Option(names = "--answer-deadline-ms", paramLabel = "MS",
            description = "how long a kernel may leave a lock_request (or a trylock's relinquish) unanswered while it "
                    + "answers nothing sent before or with it; then its session is ended (ETIMEDOUT) and, when its "
                    + "lease runs out, its futexes go on with OWNER_DIED; 0 = none; else at least two leases, which a "
                    + "replicated pager's failover and the kernel's resume may take (default: 22 s plus two leases, "
                    + "32000 with the default lease; none without a lease; docs/limits.md)")
    Long answerDeadlineMillis;

    /** The shortest lease the command takes (the library's PagerConfig takes any, for simulations and tests). */
    static final long MIN_LEASE_MILLIS = 100;

    @Option(names = "--replicas", paramLabel = "ID=HOST:PORT,...",
            description = "run this pager replicated with Raft (Apache Ratis) on 3 or 5 replicas, each given by its "
                    + "id and XP address (its Raft port is PORT+1); with --replica, which one this process is. Kernels "
                    + "list every replica in --pager, joined by '+' (docs/replicated-pager.md)")
    String replicas;

    @Option(names = "--replica", paramLabel = "ID", description = "with --replicas: this process's replica id")
    String replica;

    @Option(names = "--election-timeout-ms", paramLabel = "MS", description = "with --replicas: the shortest Raft "
            + "election timeout, the longest twice it (default: Ratis's, 150 to 300 ms; raise it on a machine that "
            + "stalls for longer)")
    Long electionTimeoutMillis;

    @Option(names = "--snapshot-every", paramLabel = "ENTRIES", description = "with --replicas: take a snapshot of "
            + "the pager's state every ENTRIES Raft log entries (one entry per XP message) and purge the log before it; "
            + "a replica that restarts or lags installs the latest (default: "
            + io.machxp.pager.replica.ReplicaConfig.DEFAULT_SNAPSHOT_EVERY + ")")
    Long snapshotEvery;

    @Option(names = "--raft-sync", paramLabel = "fsync|none", description = "with --replicas: fsync (default) syncs "
            + "every Raft log entry to disk before it counts; none counts it once written to the OS page cache and syncs "
            + "in the background (a commit survives every replica's process crashing, not a majority's hosts: as "
            + "Hazelcast CP's in-memory Raft; docs/replicated-pager.md)")
    String raftSync;

    @Option(names = "--fresh-start",
            description = "no earlier pager on this address had kernels (a first start, a benchmark): no grace period "
                    + "before granting; without it a pager that keeps no store waits one lease for earlier kernels")
    boolean freshStart;

    @Override
    public Integer call() throws Exception {
        server.configureLogging();
        server.leaveInterruptToParent();
        io.machxp.pager.net.LeakSampling.offUnlessConfigured(); // 2.0% of the core thread (LeakSampling)
        Map<String, Long> served = new LinkedHashMap<>();
        for (String spec : objects) {
            int eq = spec.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--object " + spec + ": write NAME=SIZE, e.g. shared=1m");
            }
            served.put(spec.substring(0, eq), Sizes.parse(spec.substring(eq + 1)));
        }
        if (served.isEmpty()) {
            served.putAll(PagerConfig.defaultObjects());
        }
        if (leaseMillis < 0 || (leaseMillis > 0 && leaseMillis < MIN_LEASE_MILLIS)) {
            throw new IllegalArgumentException("--lease-ms " + leaseMillis + " must be 0 (no lease) or at least "
                    + MIN_LEASE_MILLIS + ": a kernel sends a keepalive every eighth of the lease and stops a fifth "
                    + "early, so a shorter one ends sessions on any scheduling delay");
        }
        Transport transport = tls.transport();
        if (replicas != null || replica != null) {
            return replicated(served, transport);
        }
        if (raftSync != null) {
            throw new IllegalArgumentException("--raft-sync " + raftSync + " applies to a replicated pager's Raft log: "
                    + "give --replicas and --replica too (a single pager keeps its futex state in memory)");
        }
        Pager pager = Pager.start(new PagerConfig(name, bind, port, pageSize, served).withStoreDir(store)
                .withTransport(transport).withLease(java.time.Duration.ofMillis(leaseMillis)).withFreshStart(freshStart)
                .withAnswerDeadline(answerDeadline()));
        MetricsServer metrics;
        try {
            metrics = server.startMetrics(bind, pager::publishMetricsTo);
        } catch (java.io.IOException e) {
            pager.close();
            throw e;
        }
        if (metrics != null) {
            System.err.printf(Locale.ROOT, "pager metrics on http://%s:%d/metrics%n", bind, metrics.port());
        }
        System.err.printf(Locale.ROOT, "pager %s listening on %s:%d (%s), serving %s, pages %s, lease %d ms%n", name, bind,
                pager.port(), transport.isTls() ? "mutual TLS" : "plaintext", served,
                store == null ? "in memory" : "in " + store, leaseMillis);
        server.exitWithParent("pager " + name);
        Shutdown.awaitSignal(() -> {
            pager.close();
            if (metrics != null) {
                metrics.close();
            }
        }, EXIT_BOUND);
        return ExitCodes.OK;
    }

    /** --answer-deadline-ms as given (null: derived from the lease), checked. */
    private java.time.Duration answerDeadline() {
        if (answerDeadlineMillis == null) {
            return null;
        }
        if (answerDeadlineMillis < 0) {
            throw new IllegalArgumentException("--answer-deadline-ms " + answerDeadlineMillis + " must be 0 (none) or "
                    + "at least two leases");
        }
        if (leaseMillis == 0 && answerDeadlineMillis > 0) {
            throw new IllegalArgumentException("--answer-deadline-ms needs a lease (--lease-ms above 0): without one, "
                    + "ending a kernel's session would hand out its futexes and pages while it may still use them");
        }
        return java.time.Duration.ofMillis(answerDeadlineMillis);
    }

    /** One replica of a replicated pager (docs/replicated-pager.md); --port is the replica's own. */
    private int replicated(Map<String, Long> served, Transport transport) throws Exception {
        if (replicas == null || replica == null) {
            throw new IllegalArgumentException("--replicas and --replica go together: the group, and which of it "
                    + "this process is");
        }
        io.machxp.pager.replica.ReplicaConfig group = io.machxp.pager.replica.ReplicaConfig.parse(replica, replicas);
        if (electionTimeoutMillis != null) {
            if (electionTimeoutMillis < 10) {
                throw new IllegalArgumentException("--election-timeout-ms " + electionTimeoutMillis + " must be 10 or "
                        + "more (Raft needs several heartbeats within it)");
            }
            group = group.withElectionTimeout(java.time.Duration.ofMillis(electionTimeoutMillis));
        }
        if (raftSync != null) {
            group = group.withRaftSync(io.machxp.pager.replica.RaftSync.parse(raftSync));
        }
        if (snapshotEvery != null) {
            if (snapshotEvery < 1) {
                throw new IllegalArgumentException("--snapshot-every " + snapshotEvery + " must be 1 or more (log "
                        + "entries between two snapshots)");
            }
            group = group.withSnapshotEvery(snapshotEvery);
        }
        io.machxp.pager.replica.ReplicatedPager pager = io.machxp.pager.replica.ReplicatedPager.start(
                new PagerConfig(name, bind, 0, pageSize, served).withStoreDir(store).withTransport(transport)
                        // --fresh-start counts once in a group's life: the genesis a first leader appends
                        // to an empty log has no start-up wait, and no first grant says OWNER_DIED.
                        .withLease(java.time.Duration.ofMillis(leaseMillis)).withFreshStart(freshStart)
                        .withAnswerDeadline(answerDeadline()), group);
        System.err.printf(Locale.ROOT, "pager %s replica %s listening on %s (Raft on the next port, %s), serving %s, log %s (%s), "
                + "lease %d ms; kernels use --pager %s%n", name, replica, group.address(),
                transport.isTls() ? "mutual TLS" : "plaintext", served, store == null ? "in a temporary directory"
                        : "in " + store, group.raftSync().option, leaseMillis, group.kernelTarget());
        server.exitWithParent("pager " + name + " replica " + replica);
        pager.refusedGenesis().thenAccept(why -> {
            // Its Raft server is closed already: the process ends too, so that it is seen and restarted right.
            System.err.printf(Locale.ROOT, "pager %s replica %s: ERROR: this replica's options are not the group's (%s); "
                    + "it takes no part in the group: restart it with the group's --object and --page-size%n", name,
                    replica, why);
            System.exit(ExitCodes.USAGE); // the shutdown hook closes the replica
        });
        // The single pager's bound: a replica's close syncs its whole Raft log after Raft's close
        // with --raft-sync none, which a slow disk may take longer than the default 15 s for (late10
        // review L5: cut off, the log's clean-stop mark stayed and the next start after a reboot refused).
        Shutdown.awaitSignal(pager::close, EXIT_BOUND);
        return ExitCodes.OK;
    }
}
