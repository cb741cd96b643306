package io.machxp.bench.process;

import io.machxp.cluster.StartedProcesses;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker processes of one {@code bench --api process} run, and what ends them at the JVM's exit
 * (Ctrl-C, SIGTERM: {@link io.machxp.cluster.CloseAtExit}) so that none outlives the bench.
 * <pre>
 *   add:     a started worker joins the group; one started after the kill is killed at once
 *            ({@link StartedProcesses}, shared with chaos --real's cluster)
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

    private final StartedProcesses<WorkerProcess> workers = new StartedProcesses<>(WorkerProcess::kill,
            WorkerProcess::awaitEnd);

    void add(WorkerProcess worker) {
        workers.add(worker);
    }

    WorkerProcess get(int node) {
        return workers.all().get(node);
    }

    List<WorkerProcess> all() {
        return workers.all();
    }

    /** The run ended: each worker told to end, and waited for. */
    void stop() throws InterruptedException {
        for (WorkerProcess w : workers.all()) {
            w.stop();
        }
    }

    /** At exit: every worker killed and waited for, within {@link #KILL_WAIT_SECONDS}. */
    void kill() {
        LOG.info("killing {} bench worker process(es)", workers.all().size());
        workers.killAll();
        int gone = workers.awaitAll(Duration.ofSeconds(KILL_WAIT_SECONDS));
        LOG.info("{} of {} bench worker process(es) gone", gone, workers.all().size());
    }
}
