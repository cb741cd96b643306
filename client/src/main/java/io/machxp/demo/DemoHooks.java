package io.machxp.demo;

import java.io.IOException;
import java.util.List;

/**
 * What runs around the demo's workload, with the cluster up: {@link #clusterUp} with the embedded
 * cluster, {@link #beforeRun} once the pager and
 * kernels answer (demo --view starts its live view there), {@link #afterRun} with the report while
 * they still run (demo --view keeps the view up until Ctrl-C).
 */
public interface DemoHooks {
    DemoHooks NONE = new DemoHooks() {};

    /** The embedded cluster is up (not called with --connect): demo --trace attaches its recorder here. */
    default void clusterUp(io.machxp.cluster.EmbeddedCluster cluster) {}

    /** The cluster is up: the pager's and kernels' addresses. */
    default void beforeRun(String pagerTarget, List<String> kernelTargets) throws IOException, InterruptedException {}

    /** The workload is done; the cluster is still up. */
    default void afterRun(DemoReport report) throws InterruptedException {}
}
