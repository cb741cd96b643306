package io.machxp.chaos.real;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The network of a real chaos run, made with {@code ip}: a hub namespace with a bridge, a
 * namespace for each pager process (the pager, or each replica of a replicated pager) and one for
 * each kernel. Every pager process and every kernel has a veth link into the hub's bridge (one
 * subnet, 10.S.0.0/24: pager processes at .1 up, kernels at .11 up); every kernel also has a
 * second veth to the harness's namespace (the task link its clients use).
 *
 * <pre>
 *   harness (this namespace)         kernel K ns                 hub ns                  pager ns P
 *     hK 10.S.1K.1 ── cK 10.S.1K.2  [kernel K]  xK 10.S.0.(10+K) ── bK ┐
 *                                                                       br ── bP ── xP 10.S.0.P [pager or replica P]
 * </pre>
 * Faults on the network: taking the hub's end of a kernel's link down cuts the kernel off from
 * every pager process (its clients still reach it); blackhole routes on both sides cut two groups
 * of namespaces off from each other and nothing else ({@link #cut}), e.g. one replica from the
 * other replicas, or the leader from the kernels. Names carry this process's id, so runs on one
 * machine do not meet. {@link #close} deletes the namespaces (and with them every veth); it is
 * also run by a shutdown hook.
 */
final class Netns implements AutoCloseable {
    /** A namespace on the hub and its address there. */
    record Node(String ns, String address) {}

    /** The hub's bridge (its own namespace: no other run's meets it). */
    private static final String BRIDGE = "hub";

    private final String tag;
    /** The second octet of every address of this run. */
    private final int net;
    private final List<String> namespaces = new ArrayList<>();
    private volatile boolean closed;

    Netns() {
        long pid = ProcessHandle.current().pid();
        this.tag = "mx" + pid;
        this.net = 100 + (int) (pid % 100);
    }

    /** Whether this machine can run it: root, and {@code ip} that can make a namespace. A sentence why not, or null. */
    static String unsupported() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "machxp chaos --real needs root (it makes network namespaces and veth links with ip)";
        }
        if (IP == null) {
            return "machxp chaos --real needs the ip command (iproute2) to make network namespaces";
        }
        return null;
    }

    /** The ip command: the first on PATH, else in the sbin directories root's PATH usually has; null if none. */
    private static final String IP = findIp();

    private static String findIp() {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (String dir : dirs) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "ip"))) {
                return Path.of(dir, "ip").toString();
            }
        }
        return null;
    }

    private String hubNs() {
        return tag + "-hub";
    }

    /** Pager process {@code p} (from 1): its namespace and address on the hub. */
    Node pager(int p) {
        return new Node(tag + "-p" + p, "10." + net + ".0." + p);
    }

    /** Kernel {@code k} (from 1) on the hub. */
    Node kernel(String name, int k) {
        return new Node(tag + "-" + name, "10." + net + ".0." + (10 + k));
    }

    /** Kernel {@code k}'s address on its task link, as its clients reach it. */
    String kernelTaskAddress(int k) {
        return "10." + net + "." + (10 + k) + ".2";
    }

    /** The hub's end of a link. */
    private String hubEnd(String name) {
        return tag + "b" + name;
    }

    /** Makes the hub: a namespace with a bridge. */
    void createHub() throws IOException {
        addNamespace(hubNs());
        ip("-n", hubNs(), "link", "add", "name", BRIDGE, "type", "bridge");
        ip("-n", hubNs(), "link", "set", BRIDGE, "up");
    }

    /** Makes pager process {@code p}'s namespace and its link to the hub. */
    void createPager(int p) throws IOException {
        Node n = pager(p);
        addNamespace(n.ns());
        joinHub(n, "p" + p);
    }

    /** Makes kernel {@code k}'s namespace, its link to the hub and its task link. */
    void createKernel(String kernel, int k) throws IOException {
        Node n = kernel(kernel, k);
        addNamespace(n.ns());
        joinHub(n, kernel);
        String task = tag + "c" + kernel;
        String harness = tag + "h" + kernel;
        ip("link", "add", task, "netns", n.ns(), "type", "veth", "peer", "name", harness);
        ip("-n", n.ns(), "addr", "add", kernelTaskAddress(k) + "/30", "dev", task);
        ip("-n", n.ns(), "link", "set", task, "up");
        ip("addr", "add", "10." + net + "." + (10 + k) + ".1/30", "dev", harness);
        ip("link", "set", harness, "up");
    }

    private void joinHub(Node n, String name) throws IOException {
        String own = tag + "x" + name;
        ip("link", "add", own, "netns", n.ns(), "type", "veth", "peer", "name", hubEnd(name), "netns", hubNs());
        ip("-n", n.ns(), "addr", "add", n.address() + "/24", "dev", own);
        ip("-n", n.ns(), "link", "set", own, "up");
        ip("-n", hubNs(), "link", "set", hubEnd(name), "master", BRIDGE);
        ip("-n", hubNs(), "link", "set", hubEnd(name), "up");
    }

    /** Takes kernel's link to the hub down (cut off from every pager process) or up again. */
    void xpLink(String kernel, boolean up) throws IOException {
        ip("-n", hubNs(), "link", "set", hubEnd(kernel), up ? "up" : "down");
    }

    /**
     * Cuts every node of {@code a} off from every node of {@code b} (blackhole routes on both
     * sides: packets between them are dropped, connections stay open), or joins them again.
     */
    void cut(List<Node> a, List<Node> b, boolean cut) throws IOException {
        for (Node from : a) {
            for (Node to : b) {
                route(from, to, cut);
                route(to, from, cut);
            }
        }
    }

    private void route(Node from, Node to, boolean blackhole) throws IOException {
        ip("-n", from.ns(), "route", blackhole ? "add" : "del", "blackhole", to.address() + "/32");
    }

    private void addNamespace(String ns) throws IOException {
        ip("netns", "add", ns);
        namespaces.add(ns);
        ip("-n", ns, "link", "set", "lo", "up");
    }

    /** The command that runs {@code command} in namespace {@code ns}. */
    static List<String> inNamespace(String ns, List<String> command) {
        List<String> all = new ArrayList<>(List.of(IP, "netns", "exec", ns));
        all.addAll(command);
        return all;
    }

    /** Deletes every namespace made (their veths go with them); idempotent, never throws. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (String ns : namespaces) {
            try {
                ip("netns", "del", ns);
            } catch (IOException e) {
                System.err.println("machxp chaos --real: could not delete namespace " + ns + ": " + e.getMessage());
            }
        }
    }

    static void ip(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(IP));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        try {
            if (p.waitFor() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
    }
}
