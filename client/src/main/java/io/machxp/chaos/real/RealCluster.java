package io.machxp.chaos.real;

import io.machxp.cluster.StartedProcesses;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The processes of a real chaos run: a pager (with a store, so that it can be killed and
 * restarted), or the replicas of a replicated pager (each with a store for its Raft log), and
 * kernels, each a JVM in its own namespace of {@link Netns}, plaintext on addresses of those
 * namespaces only. A process killed is started again with the same arguments. Closed (the run's
 * end, or Ctrl-C): every process started SIGKILLed at once ({@link StartedProcesses}: also one
 * starting then), the namespaces deleted, then the processes waited for; a start the close cut
 * says so rather than that its process did not start in time.
 *
 * <p>Which replica leads is read from the replicas' own words ("replica X leads its group now
 * (term T)"): the claim of the highest term. It only chooses the target of a leader fault and
 * whose stalls count as the pager's; what the run judges comes from the history.
 */
final class RealCluster implements AutoCloseable {
    static final String PAGER = io.machxp.chaos.Starvation.PAGER;
    static final int PAGER_PORT = 7070;
    static final int KERNEL_PORT = 7071;
    private static final long START_SECONDS = 90;
    private static final Pattern LEADS = Pattern.compile("replica (\\w+) leads its group now \\(term (\\d+)\\)");

    /** A replica's claim to lead, from its log: when it was read (nanoTime), who, in which term. */
    record Claim(long at, String replica, long term) {}

    private final Netns net;
    private final StallMonitor stalls;
    private final Path dir;
    private final long leaseMillis;
    private final int futexes;
    private final List<String> kernelNames;
    /** "pager" alone, or the replica ids a, b, c, ... */
    private final List<String> pagerIds;
    private final Map<String, NodeProcess> pagers = new LinkedHashMap<>();
    private final Map<String, NodeProcess> kernels = new LinkedHashMap<>();
    private final List<Claim> claims = new ArrayList<>();
    /**
     * Every process started, restarted ones too: {@link #close} kills them without the monitor, which
     * a start holds while it waits (up to {@link #START_SECONDS}) for its process to listen; one
     * started after the close is killed at once.
     */
    private final StartedProcesses<NodeProcess> started = new StartedProcesses<>(NodeProcess::killNow,
            NodeProcess::awaitEnd);
    /** The replicas' shortest election timeout; 0: Ratis's default. */
    private final long electionTimeoutMillis;

    RealCluster(Netns net, StallMonitor stalls, Path dir, long leaseMillis, int futexes, List<String> kernelNames,
            int replicas, long electionTimeoutMillis) {
        this.electionTimeoutMillis = electionTimeoutMillis;
        this.net = net;
        this.stalls = stalls;
        this.dir = dir;
        this.leaseMillis = leaseMillis;
        this.futexes = futexes;
        this.kernelNames = kernelNames;
        this.pagerIds = replicas == 1 ? List.of(PAGER) : replicaIds(replicas);
    }

    static List<String> replicaIds(int replicas) {
        List<String> ids = new ArrayList<>();
        for (int r = 0; r < replicas; r++) {
            ids.add(String.valueOf((char) ('a' + r)));
        }
        return ids;
    }

    /** The probe (and log) name of each pager process: "pager", or "pager-a", "pager-b", ... */
    static List<String> pagerProcessNames(int replicas) {
        return replicas == 1 ? List.of(PAGER) : replicaIds(replicas).stream().map(id -> PAGER + "-" + id).toList();
    }

    private String processName(String id) {
        return replicated() ? PAGER + "-" + id : PAGER;
    }

    /** Each pager process's log, by replica id ("pager" alone when not replicated). */
    Map<String, Path> pagerLogs() {
        Map<String, Path> out = new LinkedHashMap<>();
        pagerIds.forEach(id -> out.put(id, dir.resolve(processName(id) + ".log")));
        return out;
    }

    /** Kernel {@code name}'s log. */
    Path kernelLog(String name) {
        return dir.resolve("kernel-" + name + ".log");
    }

    boolean replicated() {
        return pagerIds.size() > 1;
    }

    /** Makes the network and starts the pager (or its replicas), then the kernels. */
    void start() throws IOException {
        net.createHub();
        for (int p = 0; p < pagerIds.size(); p++) {
            net.createPager(p + 1);
        }
        for (int k = 0; k < kernelNames.size(); k++) {
            net.createKernel(kernelNames.get(k), k + 1);
        }
        for (String id : pagerIds) {
            startPager(id, replicated());
        }
        for (String k : kernelNames) {
            startKernel(k);
        }
    }

    List<String> kernelNames() {
        return kernelNames;
    }

    List<String> pagerIds() {
        return pagerIds;
    }

    /** Where the clients reach kernel {@code name}. */
    String kernelTarget(String name) {
        return net.kernelTaskAddress(kernelNames.indexOf(name) + 1) + ":" + KERNEL_PORT;
    }

    Netns.Node pagerNode(String id) {
        return net.pager(pagerIds.indexOf(id) + 1);
    }

    Netns.Node kernelNode(String name) {
        return net.kernel(name, kernelNames.indexOf(name) + 1);
    }

    private String pagerAddress(String id) {
        return pagerNode(id).address() + ":" + PAGER_PORT;
    }

    /**
     * Starts pager process {@code id} on its store (again after a kill: a pager finds its pages
     * and takes reclaims; a replica finds its Raft log, term and vote, and catches up).
     */
    synchronized void startPager(String id) throws IOException {
        startPager(id, false);
    }

    /**
     * {@code fresh}: the replicas' first start. A new group (an empty Raft log) is told that no
     * earlier pager had kernels: without {@code --fresh-start} its genesis has a start-up wait and
     * every futex's first grant says OWNER_DIED (an in-memory pager that may follow one that ran
     * before has lost its pages), which no fault of the run explains. A single pager starts on an
     * empty store, which says the same by itself.
     */
    private void startPager(String id, boolean fresh) throws IOException {
        List<String> args = new ArrayList<>(List.of("pager", "--bind", "0.0.0.0", "--port", String.valueOf(PAGER_PORT),
                "--plaintext", "--object", RealChaos.OBJECT + "=" + futexes * Worker.PAGE,
                "--store", dir.resolve(replicated() ? "store-" + id : "store").toString(),
                "--lease-ms", String.valueOf(leaseMillis)));
        if (fresh) {
            args.add("--fresh-start");
        }
        if (replicated()) {
            List<String> group = pagerIds.stream().map(r -> r + "=" + pagerAddress(r)).toList();
            args.addAll(List.of("--replicas", String.join(",", group), "--replica", id));
            if (electionTimeoutMillis > 0) {
                args.addAll(List.of("--election-timeout-ms", String.valueOf(electionTimeoutMillis)));
            }
        }
        String name = processName(id);
        NodeProcess p = started(NodeProcess.start(name, pagerNode(id).ns(), args, stalls.probeFile(name),
                dir.resolve(name + ".log"), this::onPagerLine));
        pagers.put(id, p);
        if (!p.awaitListening(START_SECONDS)) {
            throw notStarted(name, dir.resolve(name + ".log"));
        }
    }

    private void onPagerLine(String line) {
        Matcher m = LEADS.matcher(line);
        if (m.find()) {
            synchronized (claims) {
                claims.add(new Claim(System.nanoTime(), m.group(1), Long.parseLong(m.group(2))));
            }
        }
    }

    /** Starts kernel {@code name}; it waits out the lease of a killed predecessor of its name. */
    synchronized void startKernel(String name) throws IOException {
        String target = String.join("+", pagerIds.stream().map(this::pagerAddress).toList());
        NodeProcess p = started(NodeProcess.start("kernel " + name, kernelNode(name).ns(), List.of("kernel", "--name",
                name, "--pager", target, "--bind", "0.0.0.0", "--port", String.valueOf(KERNEL_PORT), "--plaintext",
                "--connect-timeout", String.valueOf(Math.max(30, 4 * leaseMillis / 1000))), stalls.probeFile(name),
                kernelLog(name), line -> { }));
        kernels.put(name, p);
        if (!p.awaitListening(START_SECONDS)) {
            throw notStarted("kernel " + name, dir.resolve("kernel-" + name + ".log"));
        }
    }

    /** Why {@code name} does not listen: the cluster was closed meanwhile (Ctrl-C, the run's end), or it did not start. */
    private IOException notStarted(String name, Path log) {
        return new IOException(started.killed() ? name + " was killed while it started: the run was closed"
                : name + " did not start within " + START_SECONDS + " s; see " + log);
    }

    /** The pager process {@code id} ("pager" when not replicated). */
    synchronized NodeProcess pager(String id) {
        return pagers.get(id);
    }

    /** The replica that claimed to lead in the highest term, or null if none has yet. */
    String leader() {
        synchronized (claims) {
            return claims.stream().max(java.util.Comparator.comparingLong(Claim::term).thenComparingLong(Claim::at))
                    .map(Claim::replica).orElse(null);
        }
    }

    /** Every claim to lead so far, in the order read. */
    List<Claim> claims() {
        synchronized (claims) {
            return List.copyOf(claims);
        }
    }

    synchronized NodeProcess kernel(String name) {
        return kernels.get(name);
    }

    Netns net() {
        return net;
    }

    StallMonitor stalls() {
        return stalls;
    }

    /** {@code p} recorded for {@link #close}; killed at once if the cluster is closed already (a restart racing the end). */
    private NodeProcess started(NodeProcess p) {
        return started.add(p);
    }

    /**
     * Kills every process started (also stopped ones, and one still starting), deletes the network
     * namespaces right after (that needs no process gone: a wait first would spend the close at
     * exit's bound), then waits for the processes within {@link #KILL_WAIT_SECONDS}; idempotent, and
     * may run on two threads at once (the run's end and its close at exit). Not synchronized: a
     * shutdown hook calls it while the main thread may hold the monitor for a start.
     */
    @Override
    public void close() {
        started.killAll();
        net.close();
        started.awaitAll(java.time.Duration.ofSeconds(KILL_WAIT_SECONDS));
    }

    /** How long {@link #close} waits for the killed processes to be gone. */
    static final long KILL_WAIT_SECONDS = 10;
}
