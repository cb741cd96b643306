package io.machxp.bench.process;

import io.machxp.bench.cli.BenchLogs;
import io.machxp.bench.systems.Clients;
import io.machxp.bench.workload.BenchOptions;
import io.machxp.bench.workload.Board;
import io.machxp.bench.workload.LockService;
import io.machxp.bench.workload.WorkerLoop;
import io.machxp.bench.workload.WorkerStats;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * A worker process of {@code machxp bench --api process}: one node's workers as threads of a JVM
 * of their own, clients of the system under test as a user's process would be (machxp's through
 * KernelClient and its shared memory, the peers' through their client libraries). It maps the
 * run's {@link Board}, runs a {@link WorkerLoop} per thread, and prints one line, "result " and its
 * node's {@link WorkerStats}, or "failed " and why. It ends when its stdin closes (the bench is gone).
 *
 * <p>Arguments (from {@link WorkerProcess}): board file, node, nodes, threads, locks, locality,
 * critical ns, think ns, writes, duration ms, seed, pattern, data, operations per worker (0: timed),
 * then the system's connection.
 */
public final class WorkerMain {
    static final int FIXED_ARGS = 14;
    private static final com.sun.management.OperatingSystemMXBean CPU =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    private WorkerMain() {}

    public static void main(String[] args) {
        BenchLogs.quiet();
        Thread watch = new Thread(WorkerMain::endWithStdin, "stdin watch");
        watch.setDaemon(true);
        watch.start();
        try {
            Path boardFile = Path.of(args[0]);
            int node = Integer.parseInt(args[1]);
            BenchOptions o = new BenchOptions(Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    Integer.parseInt(args[4]), Double.parseDouble(args[5]), Duration.ofNanos(Long.parseLong(args[6])),
                    Duration.ofNanos(Long.parseLong(args[7])), Double.parseDouble(args[8]),
                    Duration.ZERO, Duration.ofMillis(Long.parseLong(args[9])), Long.parseLong(args[10]),
                    BenchOptions.Api.PROCESS, BenchOptions.Pattern.valueOf(args[11]), BenchOptions.Data.valueOf(args[12]),
                    Long.parseLong(args[13]));
            List<String> connection = Arrays.asList(args).subList(FIXED_ARGS, args.length);
            Board board = Board.mapped(boardFile, o.locks());
            WorkerStats stats = new WorkerStats();
            try (LockService service = Clients.open(connection)) {
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < o.threadsPerNode(); t++) {
                    int index = node * o.threadsPerNode() + t;
                    Thread worker = new Thread(() -> {
                        try (LockService.Client client = service.client(node, index)) {
                            stats.add(WorkerLoop.run(client, board, o, node, index));
                        } catch (Throwable e) {
                            fail(e);
                        }
                    }, "bench-worker-" + node + "-" + t);
                    threads.add(worker);
                    worker.start();
                }
                long[] atBegin = windowBegin(board, service);
                if (!o.bounded()) {
                    sleepUntil(board.end());
                }
                long[] window = cost(service, atBegin); // the window, or bounded: until the last worker's end
                for (Thread t : threads) {
                    t.join();
                }
                if (o.bounded()) {
                    window = cost(service, atBegin);
                }
                stats.process(window[0], window[1]);
                System.out.println("result " + stats.encode());
                System.out.flush();
            }
        } catch (Throwable e) {
            fail(e);
        }
        System.exit(0);
    }

    /**
     * What the window costs this process, measured on this thread while the workers run: the
     * service's calls to its servers (-1 when its client does not count them) and the process's
     * CPU time at the window's begin ({@link #cost} takes the difference at its end).
     */
    private static long[] windowBegin(Board board, LockService service) {
        while (!board.opened()) {
            LockSupport.parkNanos(1_000_000);
        }
        sleepUntil(board.begin());
        return new long[] {service.calls(), CPU.getProcessCpuTime()};
    }

    private static long[] cost(LockService service, long[] atBegin) {
        return new long[] {atBegin[0] < 0 ? -1 : service.calls() - atBegin[0], CPU.getProcessCpuTime() - atBegin[1]};
    }

    private static void sleepUntil(long nanoTime) {
        for (long left; (left = nanoTime - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(left);
        }
    }

    /** One worker failed: the node's result would be wrong, so the process says why and ends. */
    private static void fail(Throwable e) {
        System.out.println("failed " + String.valueOf(e).replace('\n', ' '));
        System.out.flush();
        e.printStackTrace();
        Runtime.getRuntime().halt(1);
    }

    private static void endWithStdin() {
        try {
            while (System.in.read() >= 0) {
                // the bench keeps our stdin open while it runs
            }
        } catch (java.io.IOException e) {
            // the same: the bench is gone
        }
        Runtime.getRuntime().halt(3);
    }
}
