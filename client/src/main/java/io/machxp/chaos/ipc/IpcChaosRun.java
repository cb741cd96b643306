package io.machxp.chaos.ipc;

import io.machxp.chaos.ChaosOptions;
import io.machxp.chaos.ipc.IpcHistory.Kind;
import io.machxp.kernel.core.CoreOptions;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.KernelPlants;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.ipc.IpcCore;
import io.machxp.kernel.ipc.IpcPlants;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.task.MachTask;
import io.machxp.kernel.task.MachThread;
import io.machxp.sim.SimCluster;
import io.machxp.sim.SimIpc;
import io.machxp.sim.SimKernel;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One IPC chaos run: Mach IPC traffic between tasks on several kernels (the real kernel cores and
 * their IPC cores, joined by {@link SimIpc}) in the deterministic simulator, with faults injected
 * from the same seed ({@link IpcFaults}), recorded as an {@link IpcHistory} and judged by
 * {@link IpcChecker}.
 *
 * <h2>Overview</h2>
 * Each kernel runs one server task ({@link ChaosServer}: a service port in a port set, a thread
 * receiving on the set, a thread for its own sends) and {@code threadsPerKernel} client tasks
 * ({@link ChaosClient}). At the start every task gets a send right to every service port under
 * the name {@code PUBLISHED + port} (mach_port_insert_right, across kernels with the remote
 * insert), and each client asks for a dead-name notification on each. Clients then send one-way
 * messages and rpcs to random service ports, carrying now and then a send right to a token port
 * of their own (which has a no-senders request); servers receive, reply, hold and release those
 * rights and pass service ports (their receive rights) to one another. Faults: kernel crashes,
 * short process pauses, service ports destroyed or moved to another server, link jitter. After
 * the duration, the quiet period: no faults and no new messages; what is under way finishes.
 *
 * <p>The harness's record of a port's fate (held by which server, in transit, dead, or possibly
 * dead for some kernels when a kernel it passed through crashed, or until it arrives when its
 * path in transit crossed a renewing kernel; dead with every port in a cycle of receive rights in
 * transit) is its own, kept as it injects
 * faults and sees receive rights arrive; the verdict never rests on what a core says of itself.
 */
public final class IpcChaosRun {
    /** Names of the service ports' send rights in every task. */
    static final int PUBLISHED = 0x10000;
    /** Names of the send rights servers give clients after a renewal: GIVEN + (batch << 8) + port. */
    static final int GIVEN = 0x20000;
    static final int RCV_SIZE = 1 << 12;

    /** What a run found. */
    public record Result(long seed, List<String> violations, IpcHistory history, Map<String, Long> counts) {
        public boolean passed() {
            return violations.isEmpty();
        }
    }

    /** A task with one or two threads on a kernel, as the harness knows it. */
    static class Node {
        final String name;
        final SimKernel kernel;
        long task;
        int tid;
        boolean gone;
        /** Calls made and not yet answered. */
        final Set<String> pending = new LinkedHashSet<>();

        Node(String name, SimKernel kernel) {
            this.name = name;
            this.kernel = kernel;
        }
    }

    /** The harness's record of a service port. */
    static final class PortFate {
        final int number;
        ChaosServer holder;
        /** In transit inside a message to the port numbered so (-1: not in transit). */
        int transitVia = -1;
        ChaosServer movedFrom;
        boolean dead;
        /**
         * May be dead: a renewal's mark lasts until its receive right next arrives (the arrival shows it
         * and its queue lived; review late1 A1), a crash's for good ({@link #crashTouched}).
         */
        boolean mayBeDead;
        /** A crash touched it: proxies through the crashed kernel die whatever becomes of the port. */
        boolean crashTouched;
        /** Kernels its receive right has lived on. */
        final Set<SimKernel> visited = new LinkedHashSet<>();
        /** When its receive right last arrived at a server after a move (virtual ns; never moved: none). */
        long arrivedAt = Long.MIN_VALUE;
        /** Its stays, first the kernel it was made on: where its receive right lived and how it got there. */
        final List<Stay> stays = new ArrayList<>();
        /** While in transit: when its move began, and the kernels its carrying message may pass. */
        long moveBegun;
        Set<SimKernel> movePath = Set.of();
        /** Kernels that renewed their IPC session since its last arrival (IpcFaults records only the first). */
        final Set<SimKernel> renewedSinceArrival = new LinkedHashSet<>();

        PortFate(int number) {
            this.number = number;
        }

        /** The receive right arrived on {@code kernel} now, at {@code now}, by the move under way. */
        void arrived(SimKernel kernel, long now) {
            mayBeDead = crashTouched;
            visited.add(kernel);
            arrivedAt = now;
            stays.add(new Stay(kernel, moveBegun, movePath));
            renewedSinceArrival.clear();
        }

        /**
         * Since its receive right last left kernel {@code k} before its stay there now: when that move
         * away began (never on {@code k} before: Long.MIN_VALUE) and the kernels it lived on or its
         * moves may have passed since, {@code k} included: the path of a right to it held on {@code k}.
         */
        Remote remoteSince(SimKernel k) {
            Set<SimKernel> path = new LinkedHashSet<>();
            long since = Long.MIN_VALUE;
            boolean away = false;
            for (int i = stays.size() - 1; i >= 0; i--) {
                Stay s = stays.get(i);
                away |= s.kernel() != k;
                if (away && s.kernel() == k) {
                    break;
                }
                path.add(s.kernel());
                path.addAll(s.path());
                since = s.begun();
            }
            return new Remote(since, path);
        }
    }

    /** One stay of a port's receive right: on {@code kernel}, by a move begun at {@code begun} that may have passed {@code path}. */
    record Stay(SimKernel kernel, long begun, Set<SimKernel> path) {}

    /** A right held on a kernel was remote from {@code since} (Long.MIN_VALUE: always) on a path through {@code kernels}. */
    record Remote(long since, Set<SimKernel> kernels) {}

    final long seed;
    final ChaosOptions options;
    final SplittableRandom random;
    final SimCluster cluster;
    final SimIpc ipc;
    final IpcHistory history;
    final Map<String, Long> counts = new TreeMap<>();
    final List<SimKernel> kernels = new ArrayList<>();
    final List<ChaosServer> servers = new ArrayList<>();
    final List<ChaosClient> clients = new ArrayList<>();
    final List<PortFate> ports = new ArrayList<>();
    final Set<SimKernel> crashed = new LinkedHashSet<>();
    /** Kernels renewing their IPC session: until when a frame to or from them may be lost. */
    final Map<SimKernel, Long> renewingUntil = new java.util.HashMap<>();
    private IpcPlants plants = IpcPlants.NONE;
    boolean quiet;

    public IpcChaosRun(long seed, ChaosOptions options) {
        this.seed = seed;
        this.options = options;
        this.history = new IpcHistory(options.leaseNanos());
        // One stream per seed with a gamma of its own (see ChaosRun): neighbouring seeds share no values.
        this.random = new SplittableRandom(seed).split();
        this.cluster = new SimCluster(new SimCluster.Options(seed, options.latencyNanos(), options.jitterNanos(), 4096,
                options.leaseNanos()), Map.of("ipc", 4096L), (time, kernel, event, tid, detail) -> { });
        this.ipc = new SimIpc(cluster, options.latencyNanos(), options.jitterNanos(), seed);
    }

    /** Plants a bug in every kernel's IPC core (tests of the checker only). */
    public IpcChaosRun withPlants(IpcPlants plants) {
        this.plants = plants;
        return this;
    }

    /** The longest a server waits in one receive, and a client for its rpc's reply, in ms. */
    long leaseMs() {
        return Math.max(1, options.leaseNanos() / 1_000_000);
    }

    long quietNanos() {
        return 20 * options.leaseNanos();
    }

    void count(String what) {
        counts.merge(what, 1L, Long::sum);
    }

    /** Sets up, runs the traffic and the faults, then the quiet period, and checks the history. */
    public Result run() {
        IpcPlants planted = plants;
        CoreOptions core = CoreOptions.DEFAULT.withPlants(new KernelPlants() {
            @Override
            public IpcPlants ipc() {
                return planted;
            }
        });
        for (int k = 0; k < options.kernels(); k++) {
            kernels.add(cluster.addKernel("k" + k, core));
        }
        cluster.runUntil(4 * (options.latencyNanos() + options.jitterNanos()) + 1); // the pager's welcomes
        for (SimKernel k : kernels) {
            ipc.join(k.name);
        }
        for (int k = 0; k < kernels.size(); k++) {
            PortFate p = new PortFate(k);
            ports.add(p);
            ChaosServer s = new ChaosServer(this, "s" + k, kernels.get(k), random.split());
            servers.add(s);
            p.holder = s;
            p.visited.add(s.kernel);
            p.stays.add(new Stay(s.kernel, Long.MIN_VALUE, Set.of(s.kernel)));
            for (int c = 0; c < options.threadsPerKernel(); c++) {
                clients.add(new ChaosClient(this, "c" + clients.size(), kernels.get(k), random.split()));
            }
        }
        servers.forEach(ChaosServer::setUp);
        clients.forEach(ChaosClient::setUp);
        settle();
        servers.forEach(ChaosServer::publish);
        settle();
        long start = cluster.now();
        new IpcFaults(this).start(start, start + options.durationNanos());
        servers.forEach(ChaosServer::start);
        clients.forEach(ChaosClient::start);
        cluster.runUntil(start + options.durationNanos());
        quiet = true;
        history.add(cluster.now(), Kind.QUIET, "", -1, quietNanos(), 0, "");
        cluster.runUntil(start + options.durationNanos() + quietNanos());
        clients.forEach(ChaosClient::drain);
        settle();
        for (List<? extends Node> group : List.of(servers, clients)) {
            for (Node n : group) {
                if (!n.gone) {
                    n.pending.stream().filter(what -> !what.startsWith("receive")).forEach(what ->
                            history.add(cluster.now(), Kind.UNANSWERED, n.name, -1, 0, 0, what));
                }
            }
        }
        List<String> violations = new ArrayList<>(IpcChecker.check(history));
        violations.addAll(everyByteBack());
        return new Result(seed, violations, history, counts);
    }

    /**
     * Rule 8, after the history is judged: every task still running ends, and then no kernel that
     * did not crash still counts a byte of queued messages (in all, or to a client peer: clients'
     * tasks have one) or a message carried to another kernel unanswered (docs/mach-ipc.md, "Queued bytes across kernels"): whatever the faults did, each
     * message was received, destroyed, or lost with a dead kernel, and its bytes came back.
     */
    private List<String> everyByteBack() {
        for (Node n : nodes()) {
            if (!n.gone && !crashed.contains(n.kernel)) {
                cluster.call(n.kernel.name, () -> n.kernel.core.taskTerminate(n.task, "the run is over",
                        Reply.ignore()));
            }
        }
        settle(); // the tasks end and their ports die: messages destroyed, rights and notifications sent
        settle(); // what those set off (answers back along forwarders, notifications destroyed) lands
        List<String> v = new ArrayList<>();
        for (SimKernel k : kernels) {
            if (crashed.contains(k)) {
                continue;
            }
            IpcCore core = k.core.ipcCore();
            if (core.queuedBytes() != 0 || core.inFlightMessages() != 0) {
                v.add(String.format(Locale.ROOT, "%s: %d bytes of its tasks' messages still charged and %d messages carried to other"
                        + " kernels unanswered after every task ended (rule 8)", k.name, core.queuedBytes(),
                        core.inFlightMessages()));
            }
            if (core.queuedBytesOfPeers() != 0) {
                v.add(String.format(Locale.ROOT, "%s: %d bytes of queued messages still counted to client peers after every task"
                        + " ended (rule 8)", k.name, core.queuedBytesOfPeers()));
            }
            if (core.namesInUse() != 0) {
                v.add(String.format(Locale.ROOT, "%s: %d port names still counted against its budget after every task ended (rule 8)",
                        k.name, core.namesInUse()));
            }
        }
        return v;
    }

    /** Every task of the run: servers, then clients. */
    List<Node> nodes() {
        List<Node> all = new ArrayList<>(servers);
        all.addAll(clients);
        return all;
    }

    /** Runs what the queue holds now (a lease of virtual time at most). */
    private void settle() {
        cluster.runUntil(cluster.now() + options.leaseNanos());
    }

    // ---- calls into the kernels ---------------------------------------------------------------

    /** task_create and thread_create(s) at setup; {@code done} gets the task and its threads' tids. */
    void createTask(Node n, int threads, Consumer<int[]> done) {
        // a client's task is a remote client's (its own peer), so its names and queued bytes count to
        // that peer and rule 8 sees them back; servers are in-process tasks
        Object owner = n instanceof ChaosClient ? "peer of " + n.name : null;
        cluster.call(n.kernel.name, () -> n.kernel.core.taskCreate(n.name, owner, reply(n, "task_create", (MachTask t) -> {
            n.task = t.id;
            int[] tids = new int[threads];
            thread(n, tids, 0, done);
        })));
    }

    private void thread(Node n, int[] tids, int i, Consumer<int[]> done) {
        if (i == tids.length) {
            n.tid = tids[0];
            done.accept(tids);
            return;
        }
        cluster.call(n.kernel.name, () -> n.kernel.core.threadCreate(n.task, reply(n, "thread_create", (MachThread t) -> {
            tids[i] = t.tid;
            thread(n, tids, i + 1, done);
        })));
    }

    /** A mach_port_* routine of the node's task; {@code then} runs in an event of its own. */
    <T> void port(Node n, String what, Function<IpcCore, T> routine, Consumer<T> then) {
        if (n.gone) {
            return;
        }
        cluster.call(n.kernel.name, () -> n.kernel.core.ipc().port(n.task, routine, reply(n, what, then)));
    }

    /** mach_msg by thread {@code tid} of the node's task; {@code then} runs in an event of its own. */
    void machMsg(Node n, int tid, String what, MachMessage m, int option, int rcvName, long timeoutMs,
            Consumer<MsgReturn> atAnswer, Consumer<MsgReturn> then) {
        machMsg(n, tid, what, m, option, rcvName, timeoutMs, () -> { }, atAnswer, then);
    }

    /**
     * mach_msg by thread {@code tid} of the node's task. {@code before} runs in the kernel's process
     * just before the call, {@code atAnswer} the moment the kernel answers (the harness's own
     * record, kept in step with the core's state: it must not call the kernel); {@code then} runs
     * in an event of its own.
     */
    void machMsg(Node n, int tid, String what, MachMessage m, int option, int rcvName, long timeoutMs,
            Runnable before, Consumer<MsgReturn> atAnswer, Consumer<MsgReturn> then) {
        if (n.gone) {
            return;
        }
        cluster.call(n.kernel.name, () -> {
            before.run();
            n.kernel.core.ipc().machMsg(n.task, tid, m, option, RCV_SIZE, rcvName, timeoutMs,
                    reply(n, what, atAnswer, then));
        });
    }

    private <T> Reply<T> reply(Node n, String what, Consumer<T> then) {
        return reply(n, what, v -> { }, then);
    }

    private <T> Reply<T> reply(Node n, String what, Consumer<T> atAnswer, Consumer<T> then) {
        String call = what + " #" + counts.merge("calls", 1L, Long::sum);
        n.pending.add(call);
        return new Reply<>() {
            @Override
            public void complete(T value) {
                n.pending.remove(call);
                if (!n.gone) {
                    atAnswer.accept(value);
                }
                cluster.at(cluster.now(), () -> {
                    if (!n.gone) {
                        then.accept(value);
                    }
                });
            }

            @Override
            public void fail(KernelError error) {
                n.pending.remove(call);
                if (!n.gone) {
                    unexpected(n, what + " failed: " + error.errno() + " " + error.message());
                }
            }
        };
    }

    void unexpected(Node n, String what) {
        history.add(cluster.now(), Kind.UNEXPECTED, n.name, -1, 0, 0, what);
    }

    void record(Kind kind, String who, int port, long a, long b, String note) {
        history.add(cluster.now(), kind, who, port, a, b, note);
    }

    /** The server holding the port now, by the harness's record (null: in transit or dead). */
    ChaosServer holder(int port) {
        PortFate p = ports.get(port);
        return p.dead || p.transitVia >= 0 ? null : p.holder;
    }

    /** The harness's record: the port dies now (and every port in transit inside a message to it). */
    void portDies(int port, String why) {
        PortFate p = ports.get(port);
        if (p.dead) {
            return;
        }
        p.dead = true;
        if (p.holder != null) {
            p.holder.ports.remove(port);
        }
        record(Kind.PORT_DEAD, "p" + port, port, 0, 0, why);
        count("ports dead");
        for (PortFate q : ports) {
            if (q.transitVia == port) {
                portDies(q.number, "in a message to p" + port + ", which died");
            }
        }
    }

    /** Whether kernel {@code k} is within a renewal now: what its links carry may be lost. */
    boolean renewing(SimKernel k) {
        return renewingUntil.getOrDefault(k, Long.MIN_VALUE) > cluster.now();
    }

    /** The harness's record: the client's right to the port under {@code name} may have died (a renewal; the port lives on). */
    void rightMayBeDead(ChaosClient c, int port, int name, long until, String why) {
        record(Kind.RIGHT_MAY_BE_DEAD, c.name, port, name, until, why);
    }

    /**
     * The harness's record: what the client sent to the port over {@code name} from {@code since}
     * (the port's last move away from the client's kernel began) until {@code before} (its receive
     * right's arrival there) may be lost with a renewed kernel's links; the right lives on (a local
     * right).
     */
    void inFlightMayBeLost(ChaosClient c, int port, int name, long since, long before, String why) {
        history.add(cluster.now(), Kind.IN_FLIGHT_MAY_BE_LOST, c.name, port, name, before, since, why);
    }

    /** Whether the port, now in transit, is in transit (through ports queued in one another) inside itself. */
    boolean closesCycle(int port) {
        int q = ports.get(port).transitVia;
        for (int steps = 0; q >= 0 && steps <= ports.size(); steps++) {
            if (q == port) {
                return true;
            }
            q = ports.get(q).transitVia;
        }
        return false;
    }

    /** The ports in transit inside the port: in messages queued on it, or on a port in transit inside it, and so on. */
    List<PortFate> carriedIn(int port) {
        List<PortFate> inside = new ArrayList<>();
        Set<Integer> seen = new LinkedHashSet<>(List.of(port));
        for (int i = -1; i < inside.size(); i++) {
            int carrier = i < 0 ? port : inside.get(i).number;
            for (PortFate q : ports) {
                if (q.transitVia == carrier && seen.add(q.number)) {
                    inside.add(q);
                }
            }
        }
        return inside;
    }

    /**
     * The harness's record: the port may be dead, for some kernels or all. By a crash
     * ({@code byCrash}): for good, as proxies through the crashed kernel die whatever becomes of
     * the port (PORT_MAY_BE_DEAD b = 1). By a renewal: while it is in transit, from the start of
     * its move (a = that time) until its receive right next arrives, which shows that it and its
     * queue lived (review late1 A1); the renewal's own marks of the rights it may have killed
     * ({@code RIGHT_MAY_BE_DEAD}) stand for itself. A port in transit inside it may die with it too.
     */
    void portMayBeDead(int port, boolean byCrash, String why) {
        PortFate p = ports.get(port);
        if (p.dead || p.crashTouched || (p.mayBeDead && !byCrash)) {
            return;
        }
        p.mayBeDead = true;
        p.crashTouched = byCrash;
        record(Kind.PORT_MAY_BE_DEAD, "p" + port, port, p.transitVia >= 0 ? p.moveBegun : Long.MIN_VALUE, byCrash ? 1 : 0,
                why);
        for (PortFate q : ports) {
            if (q.transitVia == port) {
                // its receive right is queued on that port: it dies with it (as in portDies)
                portMayBeDead(q.number, byCrash, "in a message to p" + port + ", which may be dead");
            }
        }
    }
}
