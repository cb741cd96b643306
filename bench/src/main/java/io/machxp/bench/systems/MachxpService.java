package io.machxp.bench.systems;

import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.LockService;
import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.LocalTask;
import io.machxp.kernel.LocalThread;
import io.machxp.pager.PagerConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * machxp as a lock service: an embedded pager and one kernel per node on loopback gRPC; lock i is
 * the futex at the start of page i of one shared object, and its counter is the 8 bytes after the
 * futex word, in the same page (so the data travels with the lock, as a user's would). With
 * several pagers, lock i is in object {@code bench-(i mod pagers)}, which pager i mod pagers serves
 * (docs/multi-pager.md).
 */
public final class MachxpService implements LockService {
    private static final String OBJECT = "bench";
    private static final long PAGE = PagerConfig.DEFAULT_PAGE_SIZE;
    private static final int COUNTER_OFFSET = 8;

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
    private final List<LocalTask> localTasks = new ArrayList<>();
    private final List<KernelClient> kernelClients = new ArrayList<>();
    private final List<TaskClient> grpcTasks = new ArrayList<>();
    /** Per node, where each object is mapped (one per pager). */
    private final long[][] bases;
    private final List<String> objects;

    public MachxpService(Mode mode, BenchOptions options) throws IOException {
        this(mode, options, 1);
    }

    /** With {@code pagers} pagers in the JVM, lock i served by pager i mod pagers. */
    public MachxpService(Mode mode, BenchOptions options, int pagers) throws IOException {
        this.mode = mode;
        this.api = options.api();
        if (pagers == 1) {
            this.objects = List.of(OBJECT);
            this.cluster = EmbeddedCluster.start(options.nodes(), mode.cache, mode.piggyback,
                    Map.of(OBJECT, options.locks() * PAGE));
        } else {
            this.objects = java.util.stream.IntStream.range(0, pagers).mapToObj(p -> OBJECT + "-" + p).toList();
            Map<String, Long> sizes = new java.util.LinkedHashMap<>();
            objects.forEach(o -> sizes.put(o, options.locks() * PAGE));
            Map<String, io.machxp.kernel.core.CoreOptions> kernels = new java.util.LinkedHashMap<>();
            for (int i = 0; i < options.nodes(); i++) {
                kernels.put(EmbeddedCluster.kernelName(i), io.machxp.kernel.core.CoreOptions.DEFAULT
                        .withCacheFutexes(mode.cache).withPiggyback(mode.piggyback));
            }
            this.cluster = EmbeddedCluster.start(kernels, sizes, EmbeddedCluster.roundRobin(pagers, OBJECT + "-",
                    pagers));
        }
        this.bases = new long[options.nodes()][objects.size()];
        try {
            for (int node = 0; node < options.nodes(); node++) {
                if (api == BenchOptions.Api.LOCAL) {
                    LocalTask task = cluster.kernel(node).taskCreate("bench");
                    for (int p = 0; p < objects.size(); p++) {
                        bases[node][p] = task.vmMap(objects.get(p));
                    }
                    localTasks.add(task);
                } else {
                    KernelClient client = KernelClient.connect(cluster.kernelTargets().get(node));
                    kernelClients.add(client);
                    TaskClient task = client.taskCreate("bench");
                    for (int p = 0; p < objects.size(); p++) {
                        bases[node][p] = task.vmMap(objects.get(p));
                    }
                    grpcTasks.add(task);
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public String name() {
        return api == BenchOptions.Api.LOCAL ? mode.label : mode.label + " (gRPC tasks)";
    }

    @Override
    public Client client(int node, int worker) {
        long[] base = bases[node];
        Calls calls = api == BenchOptions.Api.LOCAL ? localCalls(localTasks.get(node)) : grpcCalls(grpcTasks.get(node));
        return new Client() {
            @Override
            public void lock(int lock) {
                calls.lock().accept(base[lock % base.length] + lock * PAGE);
            }

            @Override
            public void unlock(int lock) {
                calls.unlock().accept(base[lock % base.length] + lock * PAGE);
            }

            @Override
            public long read(int lock) {
                return calls.memory().readLong(base[lock % base.length] + lock * PAGE + COUNTER_OFFSET);
            }

            @Override
            public void write(int lock, long value) {
                calls.memory().writeLong(base[lock % base.length] + lock * PAGE + COUNTER_OFFSET, value);
            }
        };
    }

    /** A worker's thread (lock, unlock) and its task's memory, through either API. */
    private record Calls(LongConsumer lock, LongConsumer unlock, Memory memory) {}

    /** vm_read and vm_write of an 8-byte little-endian word. */
    private interface Memory {
        long readLong(long address);

        void writeLong(long address, long value);
    }

    private static Calls localCalls(LocalTask task) {
        LocalThread thread = task.threadCreate();
        return new Calls(a -> thread.lockFutex(a), thread::unlockFutex, localMemory(task));
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

    private static Calls grpcCalls(TaskClient task) {
        ThreadClient thread = task.threadCreate();
        return new Calls(a -> thread.lockFutex(a), thread::unlockFutex, new Memory() {
            @Override
            public long readLong(long address) {
                return task.readLong(address);
            }

            @Override
            public void writeLong(long address, long value) {
                task.writeLong(address, value);
            }
        });
    }

    @Override
    public long messages() {
        return cluster.pagers().stream().mapToLong(p -> p.stats().messages()).sum();
    }

    @Override
    public long counter(int lock) {
        long address = bases[0][lock % objects.size()] + lock * PAGE + COUNTER_OFFSET;
        return api == BenchOptions.Api.LOCAL ? localMemory(localTasks.get(0)).readLong(address)
                : grpcTasks.get(0).readLong(address);
    }

    @Override
    public void close() {
        kernelClients.forEach(KernelClient::close);
        cluster.close();
    }
}
