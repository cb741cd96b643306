package io.machxp.bench.systems;

import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.Guarantees;
import io.machxp.bench.workload.Hosted;
import io.machxp.bench.workload.LockService;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.pager.PagerConfig;
import io.machxp.pager.replica.RaftSync;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * machxp as a lock service: an embedded pager and one kernel per node on loopback gRPC, the
 * workers tasks of the kernels' JVM ({@code --api local}), KernelClient tasks in this JVM
 * ({@code grpc}, {@link MachxpTasks}) or in worker processes ({@code process}); lock i is
 * the futex at the start of page i of one shared object, and its counter is the 8 bytes after the
 * futex word, in the same page (so the data travels with the lock, as a user's would). With
 * several pagers, lock i is in object {@code bench-(i mod pagers)}, which pager i mod pagers serves
 * (docs/multi-pager.md). {@link #replicated} runs the one pager as three Ratis replicas in this
 * JVM instead ({@link PagerReplicas}, docs/replicated-pager.md).
 */
public final class MachxpService implements Hosted {
    private static final String OBJECT = "bench";
    private static final long PAGE = PagerConfig.DEFAULT_PAGE_SIZE;
    /**
     * The kernels' lease at the bench's pagers: as long as the replicated pager's (PagerReplicas),
     * so that a JVM stalled on a loaded machine (task processes beside the bench) costs no kernel
     * its session. Keepalives go every eighth of it; the figures do not depend on it. Every
     * cluster the bench starts in its JVM uses it (also {@code FutexCapacity}'s).
     */
    public static final java.time.Duration LEASE = PagerReplicas.LEASE;
    private static final int COUNTER_OFFSET = MachxpTasks.COUNTER_OFFSET;
    /**
     * The replicated pager's promise: three copies agreeing through Raft, each syncing its log, for
     * what reaches the pager (a futex's ownership changing kernels, the pages handed off with it). A
     * cached lock or unlock and the page writes under it stay in the kernel: no replica, no disk.
     * The three replicas share this JVM, this host and its disk.
     */
    static final Guarantees REPLICATED = new Guarantees(PagerReplicas.COUNT, "Raft (Apache Ratis)", true,
            Guarantees.Durability.DISK, false, PagerReplicas.COUNT + " pager replicas (Raft), log fsynced, 1 host and disk:"
                    + " handoffs committed, cached ops stay in the kernel");
    /**
     * With {@code --raft-sync none}: three copies agreeing through Raft, an entry counting once in a
     * majority's page cache (its sync in the background): it survives the crash of every replica
     * process, which Hazelcast CP's log in memory does not; cached operations as above.
     */
    static final Guarantees REPLICATED_NOSYNC = new Guarantees(PagerReplicas.COUNT, "Raft (Apache Ratis)", false,
            Guarantees.Durability.WRITTEN, false, PagerReplicas.COUNT + " pager replicas (Raft), log not fsynced, 1 host:"
                    + " handoffs committed, cached ops stay in the kernel");

    /** The three ways of running the kernels that bench compares. */
    public enum Mode {
        /** The futex cache (Parts III-IV of the proposal): a kernel keeps a futex until asked for it. */
        CACHED("machxp cached", true, false),
        /** Part II only: every lock and unlock is an RPC to the pager. */
        NO_CACHE("machxp --no-cache", false, false),
        /** The cache, and a release carries the pages dirtied under the futex. */
        PIGGYBACK("machxp --piggyback", true, true);

        final String label;
        final boolean cache;
        final boolean piggyback;

        Mode(String label, boolean cache, boolean piggyback) {
            this.label = label;
            this.cache = cache;
            this.piggyback = piggyback;
        }
    }

    private final Mode mode;
    private final BenchOptions.Api api;
    private final EmbeddedCluster cluster;
    /** The pager's three replicas ({@link #replicated}), or null: the cluster's own pager(s). */
    private final PagerReplicas replicas;
    /** How the replicas sync their logs (null without replicas). */
    private final RaftSync sync;
    private final List<LocalTask> localTasks = new ArrayList<>();
    /** --api grpc: every node's task, KernelClient in this JVM. */
    private final MachxpTasks tasks;
    /** --api local: per node, where each object is mapped (one per pager). */
    private final long[][] bases;
    private final List<String> objects;

    public MachxpService(Mode mode, BenchOptions options) throws IOException {
        this(mode, options, 1);
    }

    /** With {@code pagers} pagers in the JVM, lock i served by pager i mod pagers. */
    public MachxpService(Mode mode, BenchOptions options, int pagers) throws IOException {
        this(mode, options, pagers == 1 ? List.of(OBJECT)
                : java.util.stream.IntStream.range(0, pagers).mapToObj(p -> OBJECT + "-" + p).toList(),
                startCluster(mode, options, pagers), null, null);
    }

    /**
     * The one pager as three Raft replicas in this JVM (Apache Ratis; with {@link RaftSync#FSYNC}
     * the log synced to disk before an entry commits, with {@link RaftSync#NONE} written to the
     * page cache) and the kernels following its leader.
     */
    public static MachxpService replicated(Mode mode, BenchOptions options, RaftSync sync) throws IOException {
        PagerReplicas replicas = new PagerReplicas("bench", (int) PAGE, Map.of(OBJECT, options.locks() * PAGE), sync);
        try {
            return new MachxpService(mode, options, List.of(OBJECT),
                    EmbeddedCluster.startKernels(kernelOptions(mode, options), replicas.kernelTarget()), replicas, sync);
        } catch (IOException | RuntimeException e) {
            replicas.close();
            throw e;
        }
    }

    /**
     * Kernels in this JVM using the pager at {@code pagerTarget} that runs elsewhere (another
     * process) and serves {@link #OBJECT} with at least {@link #objectBytes} bytes.
     */
    public static MachxpService onPager(Mode mode, BenchOptions options, String pagerTarget) throws IOException {
        Map<String, io.machxp.kernel.core.CoreOptions> kernels = kernelOptions(mode, options);
        return new MachxpService(mode, options, List.of(OBJECT), EmbeddedCluster.startKernels(kernels, pagerTarget),
                null, null);
    }

    /** The object the bench maps (one pager) and the bytes it needs for {@code options}' locks. */
    public static Map.Entry<String, Long> objectBytes(BenchOptions options) {
        return Map.entry(OBJECT, options.locks() * PAGE);
    }

    private MachxpService(Mode mode, BenchOptions options, List<String> objects, EmbeddedCluster cluster,
            PagerReplicas replicas, RaftSync sync) {
        this.mode = mode;
        this.replicas = replicas;
        this.sync = sync;
        this.api = options.api();
        this.objects = objects;
        this.cluster = cluster;
        this.bases = new long[options.nodes()][objects.size()];
        this.tasks = api == BenchOptions.Api.GRPC ? new MachxpTasks(name(), cluster.kernelTargets(), objects, PAGE)
                : null;
        try {
            for (int node = 0; api == BenchOptions.Api.LOCAL && node < options.nodes(); node++) {
                LocalTask task = cluster.kernel(node).taskCreate("bench");
                for (int p = 0; p < objects.size(); p++) {
                    bases[node][p] = task.vmMap(objects.get(p));
                }
                localTasks.add(task);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static EmbeddedCluster startCluster(Mode mode, BenchOptions options, int pagers) throws IOException {
        Map<String, io.machxp.kernel.core.CoreOptions> kernels = kernelOptions(mode, options);
        if (pagers == 1) {
            return EmbeddedCluster.start(kernels, Map.of(OBJECT, options.locks() * PAGE),
                    io.machxp.kernel.core.PagerDirectory.SINGLE, io.machxp.pager.policy.GrantPolicy.IMMEDIATE, LEASE);
        }
        List<String> objects = java.util.stream.IntStream.range(0, pagers).mapToObj(p -> OBJECT + "-" + p).toList();
        Map<String, Long> sizes = new java.util.LinkedHashMap<>();
        objects.forEach(o -> sizes.put(o, options.locks() * PAGE));
        return EmbeddedCluster.start(kernels, sizes, EmbeddedCluster.roundRobin(pagers, OBJECT + "-", pagers),
                io.machxp.pager.policy.GrantPolicy.IMMEDIATE, LEASE);
    }

    /** Kernels A, B, ... with the mode's futex options. */
    private static Map<String, io.machxp.kernel.core.CoreOptions> kernelOptions(Mode mode, BenchOptions options) {
        Map<String, io.machxp.kernel.core.CoreOptions> kernels = new java.util.LinkedHashMap<>();
        for (int i = 0; i < options.nodes(); i++) {
            kernels.put(EmbeddedCluster.kernelName(i), io.machxp.kernel.core.CoreOptions.DEFAULT
                    .withCacheFutexes(mode.cache).withPiggyback(mode.piggyback));
        }
        return kernels;
    }

    @Override
    public String name() {
        String label = replicas == null ? mode.label : mode.label + ", " + PagerReplicas.COUNT + " replicas"
                + (sync == RaftSync.NONE ? ", no fsync" : "");
        return switch (api) {
            case LOCAL -> label;
            case GRPC -> label + " (gRPC tasks)";
            case PROCESS -> label + " (task processes)";
        };
    }

    @Override
    public String data(BenchOptions.Api api) {
        return "the lock's page: a load and a store in the kernel's copy, cached with the futex (no call while"
                + " cached); the page goes to the pager" + (replicas == null ? "" : " (committed by its replicas)")
                + " when the futex leaves the kernel";
    }

    @Override
    public Guarantees guarantees() {
        if (replicas == null) {
            return Guarantees.SINGLE_PAGER;
        }
        return sync == RaftSync.NONE ? REPLICATED_NOSYNC : REPLICATED;
    }


    /** The kind, the name, the page size, the objects and every kernel's target. */
    @Override
    public List<String> connection() {
        return List.of(Clients.MACHXP, name(), Long.toString(PAGE), String.join(",", objects),
                String.join(",", cluster.kernelTargets()));
    }

    /** A worker process's side of {@link #connection}. */
    static LockService client(List<String> connection) {
        return new MachxpTasks(connection.get(1), List.of(connection.get(4).split(",")),
                List.of(connection.get(3).split(",")), Long.parseLong(connection.get(2)));
    }

    @Override
    public Client client(int node, int worker) throws Exception {
        if (api == BenchOptions.Api.GRPC) {
            return tasks.client(node, worker);
        }
        if (api == BenchOptions.Api.PROCESS) {
            throw new IllegalStateException("with --api process the workers are clients in processes of their own");
        }
        long[] base = bases[node];
        LocalTask task = localTasks.get(node);
        LocalThread thread = task.threadCreate();
        Memory memory = localMemory(task);
        return new Client() {
            @Override
            public void lock(int lock) {
                thread.lockFutex(base[lock % base.length] + lock * PAGE);
            }

            @Override
            public void unlock(int lock) {
                thread.unlockFutex(base[lock % base.length] + lock * PAGE);
            }

            @Override
            public long read(int lock) {
                return memory.readLong(base[lock % base.length] + lock * PAGE + COUNTER_OFFSET);
            }

            @Override
            public void write(int lock, long value) {
                memory.writeLong(base[lock % base.length] + lock * PAGE + COUNTER_OFFSET, value);
            }
        };
    }

    /** vm_read and vm_write of an 8-byte little-endian word. */
    private interface Memory {
        long readLong(long address);

        void writeLong(long address, long value);
    }

    private static Memory localMemory(LocalTask task) {
        return new Memory() {
            @Override
            public long readLong(long address) {
                return ByteBuffer.wrap(task.vmRead(address, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
            }

            @Override
            public void writeLong(long address, long value) {
                task.vmWrite(address, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
            }
        };
    }

    @Override
    public long messages() {
        if (replicas != null) {
            return replicas.messages();
        }
        return cluster.pagers().stream().mapToLong(p -> p.stats().messages()).sum();
    }

    @Override
    public long counter(int lock) throws Exception {
        if (api == BenchOptions.Api.LOCAL) {
            return localMemory(localTasks.get(0)).readLong(bases[0][lock % objects.size()] + lock * PAGE + COUNTER_OFFSET);
        }
        if (tasks != null) {
            return tasks.counter(lock);
        }
        try (LockService reader = client(connection())) {
            return reader.counter(lock);
        }
    }

    @Override
    public void close() {
        if (tasks != null) {
            tasks.close();
        }
        cluster.close();
        if (replicas != null) {
            replicas.close();
        }
    }
}
