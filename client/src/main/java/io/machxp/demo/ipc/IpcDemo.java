package io.machxp.demo.ipc;

import io.machxp.client.KernelClient;
import io.machxp.cluster.CloseAtExit;
import io.machxp.cluster.EmbeddedCluster;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.proto.transport.Transport;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The Mach IPC demo ({@code machxp demo --ipc}): a name server and an RPC server (the adder) on the
 * first kernel, a client task on each other kernel. Every step goes through the kernels' task
 * interface over gRPC, so the embedded cluster (a pager and linked kernels in this JVM) and running
 * kernel processes ({@code --connect}) run the same program.
 * <pre>
 *  1 bootstrap   a send right to the name server into each task (across kernels: MachPortInsertRemote)
 *  2 register    the adder sends the name server a send right to its port (MAKE_SEND, in a message)
 *  3 lookup      each client asks the name server; the answer carries a copy of that right to its kernel
 *  4 rpc         each client calls ADD --calls times (mach_msg send+receive, reply via send-once right)
 *  5 kill        the adder's task is terminated: its port dies; every client's right becomes a dead
 *                name, its dead-name notification arrives, and a call is MACH_SEND_INVALID_DEST
 * </pre>
 */
public final class IpcDemo {
    /** The name of the name server's send right in every task: the task's bootstrap port. */
    static final int BOOTSTRAP = 0x1000;
    static final Duration WAIT = Duration.ofSeconds(20);

    private final PrintStream out;
    private final long start = System.nanoTime();

    private IpcDemo(PrintStream out) {
        this.out = out;
    }

    /** What the demo saw. {@code ok}: every RPC answered right, and every client saw the server's death. */
    public record Report(int kernels, int clients, int callsPerClient, long rpcsAnswered, long rpcsWrong,
            double rpcsPerSecond, int rightsLookedUp, int deadNameNotifications, int deadNames, int invalidDestAfterKill,
            boolean ok) {}

    /**
     * Runs the demo on {@code kernels} embedded kernels, or on the running ones of {@code connect}
     * (their task interfaces; the first hosts the servers) reached with {@code transport}.
     */
    public static Report run(int kernels, int calls, List<String> connect, Transport transport, PrintStream out)
            throws IOException, InterruptedException {
        if (!connect.isEmpty()) {
            return new IpcDemo(out).run(connect, calls, transport);
        }
        // registered before the start: a SIGTERM while the kernels start waits for the start (not
        // interrupted: see Demo.closeAtExit), then closes them
        try (CloseAtExit.Starting<EmbeddedCluster> atExit = CloseAtExit.beforeStart("the IPC demo's cluster",
                        CloseAtExit.DEFAULT_BOUND);
                EmbeddedCluster cluster = atExit.start(() -> EmbeddedCluster.startLinked(kernels,
                        Map.of("ipc-demo", 4096L)))) {
            return new IpcDemo(out).run(cluster.kernelTargets(), calls, Transport.LOOPBACK_PLAINTEXT);
        }
    }

    void log(String line) {
        synchronized (out) {
            out.printf(Locale.ROOT, "[%6d ms] %s%n", (System.nanoTime() - start) / 1_000_000, line);
        }
    }

    private Report run(List<String> targets, int calls, Transport transport) throws InterruptedException {
        if (targets.size() < 2) {
            throw new IllegalArgumentException("the IPC demo needs 2 kernels or more: servers on the first, clients on the others");
        }
        List<KernelClient> kernels = new ArrayList<>();
        ExecutorService pool = Executors.newCachedThreadPool();
        try {
            for (String t : targets) {
                KernelClient k = KernelClient.connect(t, transport, WAIT.multipliedBy(2), KernelClient.Memory.GRPC_ONLY);
                kernels.add(k);
                var stats = k.statistics();
                if (stats.getIpcKernel() == 0) {
                    throw new IllegalArgumentException("kernel " + stats.getKernelName() + " at " + t + " has no IPC links:"
                            + " start it with --ipc-id N --ipc-listen HOST:PORT and an --ipc-peer ID=HOST:PORT for each other"
                            + " kernel (docs/mach-ipc.md)");
                }
                log(String.format(Locale.ROOT, "kernel %s at %s: IPC id %d, links on %s", stats.getKernelName(), t,
                        stats.getIpcKernel(), stats.getIpcAddress()));
            }
            return demo(kernels, calls, pool);
        } finally {
            pool.shutdownNow();
            kernels.forEach(KernelClient::close);
        }
    }

    private Report demo(List<KernelClient> kernels, int calls, ExecutorService pool) throws InterruptedException {
        String home = kernels.get(0).statistics().getKernelName();
        NameServer names = new NameServer(kernels.get(0), this::log);
        names.start();
        AdderServer adder = new AdderServer(kernels.get(0), this::log);
        adder.task.machPortInsertRight(BOOTSTRAP, names.task, names.port, MsgType.MAKE_SEND);
        adder.start();
        log(String.format(Locale.ROOT, "kernel %s: name-server (port 0x%x) and adder (port 0x%x) serving", home, names.port, adder.port));
        adder.sender.machMsg(NameServer.register(BOOTSTRAP, "adder", adder.port, MsgType.MAKE_SEND),
                Mach.MACH_SEND_MSG, 0, 0, 0);
        log("adder: sent REGISTER 'adder' with a send right to its port (MAKE_SEND) to the name server");

        List<Client> clients = new ArrayList<>();
        for (KernelClient k : kernels.subList(1, kernels.size())) {
            clients.add(new Client(this, k, names));
        }
        long t0 = System.nanoTime();
        List<Future<long[]>> results = new ArrayList<>();
        for (Client c : clients) {
            results.add(pool.submit(() -> c.call(calls)));
        }
        long answered = 0;
        long wrong = 0;
        for (Future<long[]> f : results) {
            try {
                long[] r = f.get();
                answered += r[0];
                wrong += r[1];
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("a client failed: " + e.getCause().getMessage(), e.getCause());
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        log(String.format(Locale.ROOT, "%d RPCs answered by the adder across kernels (%d wrong), %.0f RPC/s", answered, wrong,
                answered / seconds));

        adder.task.terminate();
        log("adder: task terminated (the server is killed): its receive right dies with it, on kernel " + home);
        int notified = 0;
        int dead = 0;
        int invalid = 0;
        for (Client c : clients) {
            notified += c.awaitDeadName() ? 1 : 0;
            dead += c.holdsDeadName() ? 1 : 0;
            invalid += c.callAfterDeath() == KernReturn.MACH_SEND_INVALID_DEST ? 1 : 0;
        }
        log("adder stopped serving: " + adder.awaitEnd());
        names.task.terminate();
        log("name-server stopped serving: " + names.awaitEnd() + " (" + names.served() + " requests)");
        clients.forEach(Client::terminate);
        boolean ok = wrong == 0 && answered == (long) calls * clients.size() && notified == clients.size()
                && dead == clients.size() && invalid == clients.size();
        return new Report(kernels.size(), clients.size(), calls, answered, wrong, answered / seconds, clients.size(),
                notified, dead, invalid, ok);
    }

    /** Prints the report as a table. */
    public static void print(Report r, PrintStream out) {
        out.printf(Locale.ROOT, "%n%-44s %s%n", "kernels (servers on the first)", r.kernels());
        out.printf(Locale.ROOT, "%-44s %d x %d calls%n", "clients on other kernels", r.clients(), r.callsPerClient());
        out.printf(Locale.ROOT, "%-44s %d (%d wrong), %.0f RPC/s%n", "RPCs answered", r.rpcsAnswered(), r.rpcsWrong(), r.rpcsPerSecond());
        out.printf(Locale.ROOT, "%-44s %d%n", "send rights moved via the name server", r.rightsLookedUp());
        out.printf(Locale.ROOT, "%-44s %d of %d%n", "dead-name notifications after the kill", r.deadNameNotifications(), r.clients());
        out.printf(Locale.ROOT, "%-44s %d of %d%n", "clients holding a dead name", r.deadNames(), r.clients());
        out.printf(Locale.ROOT, "%-44s %d of %d%n", "calls then MACH_SEND_INVALID_DEST", r.invalidDestAfterKill(), r.clients());
        out.printf(Locale.ROOT, "%-44s %s%n", "result", r.ok() ? "OK" : "UNEXPECTED (see above)");
    }
}
