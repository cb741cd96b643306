import io.machxp.pager.PagerConfig;
import io.machxp.pager.replica.LoopbackGroup;
import io.machxp.pager.replica.RaftSync;
import io.machxp.pager.replica.ReplicaConfig;
import io.machxp.pager.replica.ReplicatedPager;
import io.machxp.proto.replica.PagerLogEntry;
import io.machxp.proto.replica.Tick;
import java.lang.management.ManagementFactory;
import java.nio.file.*;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;

/** Saturating appends of tick entries through the leader of 3 in-JVM replicas (log fsynced): CPU per entry. */
public class ReplicaAppendProbe {
    static long jitNanos() throws Exception {
        long ticks = 0;
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    String comm = Files.readString(t.resolve("comm")).trim();
                    if (!comm.startsWith("C1 CompilerThre") && !comm.startsWith("C2 CompilerThre")) continue;
                    String stat = Files.readString(t.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
                } catch (Exception e) { }
            }
        }
        return ticks * 10_000_000L;
    }

    public static void main(String[] a) throws Exception {
        int senders = Integer.parseInt(a[0]);
        int window = Integer.parseInt(a[1]);
        int warm = Integer.parseInt(a[2]);
        int measure = Integer.parseInt(a[3]);
        List<ReplicatedPager> replicas = new ArrayList<>();
        PagerConfig config = new PagerConfig("probe", "127.0.0.1", 0, 4096, Map.of("obj", 1L << 20)).withLease(Duration.ofSeconds(20));
        LoopbackGroup.start(3, addresses -> {
            for (String id : addresses.keySet()) {
                replicas.add(ReplicatedPager.start(config, new ReplicaConfig(id, addresses)
                        .withElectionTimeout(Duration.ofSeconds(1)).withRaftSync(RaftSync.FSYNC)));
            }
            return "";
        });
        while (replicas.stream().noneMatch(ReplicatedPager::takesKernels)) Thread.sleep(20);
        ReplicatedPager leader = replicas.stream().filter(ReplicatedPager::takesKernels).findFirst().get();
        AtomicLong done = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < senders; i++) {
            Thread t = new Thread(() -> {
                Semaphore room = new Semaphore(window);
                while (!stop.get()) {
                    try { room.acquire(); } catch (InterruptedException e) { return; }
                    leader.append(PagerLogEntry.newBuilder().setTick(Tick.getDefaultInstance()))
                            .whenComplete((ok, e) -> { if (Boolean.TRUE.equals(ok)) done.incrementAndGet(); room.release(); });
                }
            });
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        Thread.sleep(warm * 1000L);
        long e0 = done.get(), c0 = os.getProcessCpuTime(), j0 = jitNanos(), r0 = leader.logStatus().applied(), t0 = System.nanoTime();
        Thread.sleep(measure * 1000L);
        long e1 = done.get(), c1 = os.getProcessCpuTime(), j1 = jitNanos(), r1 = leader.logStatus().applied(), t1 = System.nanoTime();
        stop.set(true);
        long entries = e1 - e0, cpu = c1 - c0, jit = j1 - j0, raft = r1 - r0;
        System.out.printf(Locale.ROOT, "senders %d x window %d: %,d entries in %.1f s (%,.0f/s) in %,d Raft entries (%.2f per Raft entry); "
                + "CPU %.2f s (JIT %.2f s): %.1f us per entry, %.1f without the JIT; %,.0f entries per CPU-second without the JIT%n",
                senders, window, entries, (t1 - t0) / 1e9, entries / ((t1 - t0) / 1e9), raft, (double) entries / Math.max(1, raft),
                cpu / 1e9, jit / 1e9, cpu / 1e3 / entries, (cpu - jit) / 1e3 / entries, entries / ((cpu - jit) / 1e9));
        replicas.forEach(ReplicatedPager::close);
        System.exit(0);
    }
}
