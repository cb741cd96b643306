package io.machxp.chaos.real;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The network of a real chaos run, made with {@code ip}: a namespace for the pager and one for
 * each kernel, every kernel joined to the pager's namespace by a veth link of its own (the XP
 * link, a /30 whose two ends are the only addresses on it) and to the harness's namespace by a
 * second veth (the task link its clients use). Cutting a kernel off from its pager takes the
 * pager's end of its XP link down; the clients still reach the kernel.
 *
 * <pre>
 *   harness (this namespace)          pager namespace
 *     hK 10.S.1K.1 ── cK 10.S.1K.2  [kernel K ns]  xK 10.S.K.2 ── pK 10.S.K.1
 * </pre>
 * Names carry this process's id, so runs on one machine do not meet. {@link #close} deletes
 * the namespaces (and with them every veth); it is also run by a shutdown hook.
 */
final class Netns implements AutoCloseable {
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

    String pagerNs() {
        return tag + "-p";
    }

    String kernelNs(String kernel) {
        return tag + "-" + kernel;
    }

    /** The pager's address on kernel {@code k}'s XP link (k from 1). */
    String pagerAddress(int k) {
        return "10." + net + "." + k + ".1";
    }

    /** Kernel {@code k}'s address on its task link, as its clients reach it. */
    String kernelAddress(int k) {
        return "10." + net + "." + (10 + k) + ".2";
    }

    /** The pager's end of kernel {@code k}'s XP link. */
    private String pagerEnd(String kernel) {
        return tag + "p" + kernel;
    }

    /** Makes the pager's namespace. */
    void createPager() throws IOException {
        addNamespace(pagerNs());
    }

    /** Makes kernel {@code k}'s namespace and its two links. */
    void createKernel(String kernel, int k) throws IOException {
        String ns = kernelNs(kernel);
        addNamespace(ns);
        String xp = tag + "x" + kernel;
        ip("link", "add", xp, "netns", ns, "type", "veth", "peer", "name", pagerEnd(kernel), "netns", pagerNs());
        ip("-n", ns, "addr", "add", "10." + net + "." + k + ".2/30", "dev", xp);
        ip("-n", ns, "link", "set", xp, "up");
        ip("-n", pagerNs(), "addr", "add", pagerAddress(k) + "/30", "dev", pagerEnd(kernel));
        ip("-n", pagerNs(), "link", "set", pagerEnd(kernel), "up");
        String task = tag + "c" + kernel;
        String harness = tag + "h" + kernel;
        ip("link", "add", task, "netns", ns, "type", "veth", "peer", "name", harness);
        ip("-n", ns, "addr", "add", kernelAddress(k) + "/30", "dev", task);
        ip("-n", ns, "link", "set", task, "up");
        ip("addr", "add", "10." + net + "." + (10 + k) + ".1/30", "dev", harness);
        ip("link", "set", harness, "up");
    }

    /** Takes kernel's XP link down (a partition) or up again. */
    void xpLink(String kernel, boolean up) throws IOException {
        ip("-n", pagerNs(), "link", "set", pagerEnd(kernel), up ? "up" : "down");
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
