package io.machxp.bench.process;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker processes of one {@code bench --api process} run, and what ends them at the JVM's exit
 * (Ctrl-C, SIGTERM: {@link io.machxp.cluster.CloseAtExit}) so that none outlives the bench.
 * <pre>
 *   add:     a started worker joins the group; one started after the kill is killed at once
 *   stop:    the run ended: each worker is told to end (its stdin closed), killed if it does not
 *   kill:    at exit: every worker SIGKILLed, then waited for, all within {@link #KILL_WAIT_SECONDS}
 * </pre>
 * A worker would also end by itself once it sees its stdin closed, but on a loaded machine it may
 * run on for seconds after the bench's JVM is gone, still a client of the servers.
 */
final class WorkerGroup {
    /** How long the kill at exit waits for the workers to be gone. */
    static final long KILL_WAIT_SECONDS = 10;
    private static final Logger LOG = LoggerFactory.getLogger(WorkerGroup.class);

    private final List<WorkerProcess> workers = new CopyOnWriteArrayList<>();
    private volatile boolean killed;

    void add(WorkerProcess worker) {
        workers.add(worker);
        if (killed) {
            worker.kill();
        }
    }

    WorkerProcess get(int node) {
        return workers.get(node);
    }

    List<WorkerProcess> all() {
        return workers;
    }

    /** The run ended: each worker told to end, and waited for. */
    void stop() throws InterruptedException {
        for (WorkerProcess w : workers) {
            w.stop();
        }
    }

    /** At exit: every worker killed and waited for, within {@link #KILL_WAIT_SECONDS}. */
    void kill() throws InterruptedException {
        killed = true;
        LOG.info("killing {} bench worker process(es)", workers.size());
        workers.forEach(WorkerProcess::kill);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(KILL_WAIT_SECONDS);
        int gone = 0;
        for (WorkerProcess w : workers) {
            gone += w.awaitEnd(Math.max(0, deadline - System.nanoTime())) ? 1 : 0;
        }
        LOG.info("{} of {} bench worker process(es) gone", gone, workers.size());
    }
}
