package io.machxp.bench.pagerload;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Which CPUs the pager process and the load (this process: the kernels and their workers) may run
 * on, as Linux's CPU lists ("0", "1", "0-1", "0,2"); null: not pinned. Pinning the pager to one
 * CPU and the load to the other keeps them from taking each other's CPU, so that the pager's share
 * of its CPU shows whether the load saturates it (other processes on the machine still share both).
 * Done with util-linux's {@code taskset}: the pager is started under it, and this process's threads
 * are moved with {@code taskset -a -p} (threads started later inherit their starter's CPUs).
 */
public record Pinning(String pagerCpus, String loadCpus) {
    public static final Pinning NONE = new Pinning(null, null);

    public Pinning {
        check("--pager-cpus", pagerCpus);
        check("--load-cpus", loadCpus);
    }

    private static void check(String option, String cpus) {
        if (cpus != null && !cpus.matches("\\d+(-\\d+)?(,\\d+(-\\d+)?)*")) {
            throw new IllegalArgumentException(option + " " + cpus
                    + ": write a CPU list as taskset takes it, such as 0, 1, 0-1 or 0,2");
        }
    }

    /** What goes before the pager's java command: taskset with its CPUs, or nothing. */
    List<String> pagerPrefix() {
        return pagerCpus == null ? List.of() : List.of("taskset", "-c", pagerCpus);
    }

    /** Moves every thread of this process to the load's CPUs, if any are named. */
    void pinThisProcess() throws IOException, InterruptedException {
        if (loadCpus == null) {
            return;
        }
        List<String> command = new ArrayList<>(List.of("taskset", "-a", "-p", "-c", loadCpus,
                Long.toString(ProcessHandle.current().pid())));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("--load-cpus " + loadCpus + ": " + String.join(" ", command)
                    + " failed: " + output + "; name CPUs this machine has (nproc), or leave the option out");
        }
    }
}
