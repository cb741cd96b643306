package io.machxp.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * machxp cluster up | down: a pager and N kernels as child processes on loopback, for trying the
 * shell tools (status, lock, demo --connect). {@code up} stays in the foreground, prints the
 * addresses and the commands to use them, and stops every child (kernels first, so that they
 * return their pages) on Ctrl-C, SIGTERM, or {@code cluster down}, which signals it through the
 * process id in its state file. The kernels are stopped all at once within one 15 s bound, then
 * the pager within another (before, one after the other: 15 s each at worst).
 */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        header = "Start a pager and N kernels as child processes (up), or stop them (down).",
        subcommands = {ClusterCommand.Up.class, ClusterCommand.Down.class})
final class ClusterCommand implements Runnable {
    static final Path DEFAULT_STATE = temporaryDirectory(System.getenv()).resolve("machxp-cluster.pid");

    /**
     * $TMPDIR when it names a directory, else java.io.tmpdir (which is /tmp on Linux whatever
     * $TMPDIR says): the pid file and the logs go where the user's own temporary files do, so two
     * users of one host (or two sessions with their own $TMPDIR) do not stop each other's cluster.
     */
    static Path temporaryDirectory(java.util.Map<String, String> env) {
        String dir = env.get("TMPDIR");
        if (dir != null && !dir.isBlank() && Files.isDirectory(Path.of(dir))) {
            return Path.of(dir);
        }
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "say 'cluster up' or 'cluster down'");
    }

    /** The process id in a state file; a usage error naming the file if it holds none. */
    static long pid(Path state) throws java.io.IOException {
        String text = Files.readString(state).trim();
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(state + " holds no process id ('" + text + "'); it is not a state file "
                    + "of 'machxp cluster up': delete it, or give the right --state");
        }
    }

    /**
     * The live 'machxp cluster up' whose id the state file holds, if any. A file left by one that
     * was killed outright (SIGKILL) may hold the id of a program started since: that one is not
     * signalled. A process whose command line cannot be read is taken at its word.
     */
    static Optional<ProcessHandle> clusterUp(Path state) throws java.io.IOException {
        if (!Files.exists(state)) {
            return Optional.empty();
        }
        return ProcessHandle.of(pid(state)).filter(ProcessHandle::isAlive).filter(p -> p.info().arguments()
                .map(args -> java.util.Arrays.asList(args).containsAll(List.of("cluster", "up"))).orElse(true));
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            header = "Start a pager and N kernels; Ctrl-C or 'machxp cluster down' stops them all.")
    static final class Up implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--kernels", defaultValue = "3", description = "kernels to start, named A, B, ... (default ${DEFAULT-VALUE})")
        int kernels;

        @Option(names = "--store", paramLabel = "DIR", description = "the pager keeps pages in files under DIR (default: in memory)")
        Path store;

        @Option(names = "--port", defaultValue = "7070",
                description = "the pager's port; kernels take the next ones (default ${DEFAULT-VALUE}; 0: any free ports)")
        int port;

        @Option(names = "--object", paramLabel = "NAME=SIZE", defaultValue = "shared=1m",
                description = "the memory object the pager serves (default ${DEFAULT-VALUE})")
        String object;

        @Option(names = "--ipc-port", paramLabel = "BASE", description = "link the kernels for Mach IPC"
                + " (docs/mach-ipc.md): kernel k (0, 1, ...) gets IPC id k + 1 and listens on BASE + k, e.g. 7401")
        Integer ipcPort;

        @Option(names = "--logs", paramLabel = "DIR", description = "where the processes' logs go (default: a new directory in $TMPDIR)")
        Path logs;

        @Option(names = "--state", paramLabel = "FILE", description = "this command's process id, for 'cluster down' (default: "
                + "$TMPDIR/machxp-cluster.pid)")
        Path state = DEFAULT_STATE;

        @Option(names = "--view", paramLabel = "PORT", description = "serve the live view (docs/view.md) of the cluster on "
                + "http://127.0.0.1:PORT/ (0: any free port)")
        Integer viewPort;

        /** --verbose: the stack trace of an error. */
        @picocli.CommandLine.Mixin
        VerboseOption verboseOption;

        /** Kernel {@code k}'s IPC options: its id and address, and every other kernel's; none without --ipc-port. */
        private List<String> ipcArgs(int k) {
            if (ipcPort == null) {
                return List.of();
            }
            List<String> args = new ArrayList<>(List.of("--ipc-id", Integer.toString(k + 1), "--ipc-listen",
                    "127.0.0.1:" + (ipcPort + k)));
            for (int other = 0; other < kernels; other++) {
                if (other != k) {
                    args.addAll(List.of("--ipc-peer", (other + 1) + "=127.0.0.1:" + (ipcPort + other)));
                }
            }
            return args;
        }

        @Override
        public Integer call() throws Exception {
            if (kernels < 1 || kernels > 26) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--kernels must be 1 to 26");
            }
            if (ipcPort != null && (ipcPort < 1 || ipcPort + kernels > 65536)) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "--ipc-port " + ipcPort + ": give a port with room for " + kernels + " after it, e.g. 7401");
            }
            Optional<ProcessHandle> running = clusterUp(state);
            if (running.isPresent()) {
                throw new IllegalArgumentException("a cluster is already up (process " + running.get().pid()
                        + ", " + state + "); stop it with 'machxp cluster down', or give another --state");
            }
            Path logDir = logs != null ? Files.createDirectories(logs) : Files.createTempDirectory(DEFAULT_STATE.getParent(), "machxp-cluster-");
            // the main thread adds, the shutdown hook reads
            List<ChildProcess> children = new java.util.concurrent.CopyOnWriteArrayList<>();
            CountDownLatch stopped = new CountDownLatch(1);
            java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicReference<io.machxp.view.LiveView> view =
                    new java.util.concurrent.atomic.AtomicReference<>();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stopping.set(true);
                if (view.get() != null) {
                    view.get().close();
                }
                // the kernels first, all at once within one bound (each returns its pages to the
                // pager, which must still run), then the pager within its own: at most the two, whatever N
                // the live list, read again after each stop: a kernel the main thread added meanwhile
                // (it adds, then reads stopping) is stopped too, by the hook or by the main thread
                int from = 1;
                while (from < children.size()) {
                    int to = children.size();
                    ChildProcess.stopAll(children.subList(from, to).stream().map(c -> c.process).toList(),
                            ChildProcess.STOP_BOUND);
                    from = to;
                }
                if (!children.isEmpty()) {
                    children.get(0).stop(ChildProcess.PAGER_STOP_BOUND); // the pager: its close may wait for its store
                }
                try {
                    Files.deleteIfExists(state);
                } catch (java.io.IOException ignored) {
                    // a stale file is checked for a live process next time
                }
                stopped.countDown();
            }, "machxp-cluster-down"));
            PrintWriter out = spec.commandLine().getOut();
            List<String> pagerArgs = new ArrayList<>(List.of("pager", "--port", Integer.toString(port), "--object",
                    object));
            if (store != null) {
                pagerArgs.addAll(List.of("--store", store.toString()));
            }
            ChildProcess pager = ChildProcess.start("pager", logDir.resolve("pager.log"), pagerArgs);
            children.add(pager);
            if (stopping.get()) {
                // the hook began: it may have read the list before the pager joined
                pager.stop(ChildProcess.PAGER_STOP_BOUND);
                return 1;
            }
            String pagerAddress = pager.address(120);
            List<String> kernelAddresses = new ArrayList<>();
            for (int k = 0; k < kernels; k++) {
                String name = String.valueOf((char) ('A' + k));
                List<String> kernelArgs = new ArrayList<>(List.of("kernel", "--name", name, "--pager", pagerAddress,
                        "--connect-timeout", "60", "--port", Integer.toString(port == 0 ? 0 : port + 1 + k)));
                kernelArgs.addAll(ipcArgs(k));
                ChildProcess kernel = ChildProcess.start("kernel " + name, logDir.resolve("kernel-" + name + ".log"),
                        kernelArgs);
                children.add(kernel);
                if (stopping.get()) {
                    // the hook began: it may have read the list before this kernel joined
                    kernel.stop();
                    return 1;
                }
            }
            for (ChildProcess kernel : children.subList(1, children.size())) {
                kernelAddresses.add(kernel.address(120));
            }
            if (viewPort != null) {
                view.set(io.machxp.view.LiveView.start(viewPort, pagerAddress, kernelAddresses,
                        io.machxp.proto.transport.Transport.LOOPBACK_PLAINTEXT));
            }
            Files.writeString(state, ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8);
            String objectName = object.substring(0, Math.max(0, object.indexOf('=')));
            out.printf(Locale.ROOT, "machxp cluster up: pager %s, kernels %s%n", pagerAddress, String.join(" ", kernelAddresses));
            out.printf(Locale.ROOT, "  logs in %s%n", logDir);
            if (view.get() != null) {
                out.printf(Locale.ROOT, "  live view: %s%n", view.get().url());
            }
            out.println("  try:");
            out.printf(Locale.ROOT, "    machxp status --pager %s%n", pagerAddress);
            out.printf(Locale.ROOT, "    machxp lock --kernel %s %s:0 -- sh -c 'echo holding it with token $MACHXP_FENCING_TOKEN'%n",
                    kernelAddresses.get(0), objectName);
            out.printf(Locale.ROOT, "    machxp demo --connect %s --pager %s --object %s%n", String.join(",", kernelAddresses),
                    pagerAddress, objectName);
            if (ipcPort != null) {
                out.printf(Locale.ROOT, "    machxp demo --ipc --connect %s%n", String.join(",", kernelAddresses));
            }
            out.println("  stop with Ctrl-C here, or: machxp cluster down"
                    + (state.equals(DEFAULT_STATE) ? "" : " --state " + state));
            out.flush();
            for (ChildProcess c : children) {
                c.process.onExit().thenRun(() -> {
                    if (!stopping.get()) {
                        System.err.printf(Locale.ROOT, "machxp cluster: %s exited (%d); see %s%n", c.name, c.process.exitValue(),
                                c.log);
                    }
                });
            }
            stopped.await();
            return ExitCodes.OK;
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
            header = "Stop the cluster that 'machxp cluster up' started.")
    static final class Down implements Callable<Integer> {

        /** --verbose: the stack trace of an error. */
        @picocli.CommandLine.Mixin
        VerboseOption verboseOption;
        @Spec
        CommandSpec spec;

        @Option(names = "--state", paramLabel = "FILE", description = "as given to 'cluster up'")
        Path state = DEFAULT_STATE;

        @Override
        public Integer call() throws Exception {
            if (!Files.exists(state)) {
                throw new IllegalArgumentException("no cluster is up: " + state + " does not exist");
            }
            long pid = pid(state);
            Optional<ProcessHandle> up = clusterUp(state);
            if (up.isEmpty()) {
                Files.deleteIfExists(state);
                throw new IllegalArgumentException("no cluster is up: process " + pid + " (" + state + ") has ended"
                        + (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
                                ? " (that number is now another program's, left alone)" : ""));
            }
            up.get().destroy(); // SIGTERM: its shutdown hook stops the kernels, then the pager
            up.get().onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
            spec.commandLine().getOut().println("machxp cluster: stopped (process " + pid + ")");
            spec.commandLine().getOut().flush();
            return ExitCodes.OK;
        }
    }
}
