package io.machxp.kernel.ipc.link;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.TreeMap;

/**
 * How kernels find one another for IPC: configuration. Every kernel is given the same table of
 * kernel id to link address (the command line's {@code --ipc-peer ID=HOST:PORT}, or what the
 * embedded cluster builds); a kernel listens on its own entry and dials the others.
 *
 * <p>Why configuration and not the pager as a directory: the pager is the one party every kernel
 * already reaches, but IPC must keep working while the pager restarts (ports are not memory
 * objects), and a table fixed at start makes "which kernel is K" a fact rather than a lookup that
 * can race a kernel's death. A kernel id is never reused in a cluster's life: a restarted kernel
 * takes a new id (a dead id stays dead, see {@link IpcLinks}).
 */
public record KernelDirectory(Map<Integer, InetSocketAddress> kernels) {
    public KernelDirectory {
        kernels = java.util.Collections.unmodifiableMap(new TreeMap<>(kernels));
    }

    /** Parses {@code ID=HOST:PORT}. */
    public static Map.Entry<Integer, InetSocketAddress> parse(String entry) {
        int eq = entry.indexOf('=');
        int colon = entry.lastIndexOf(':');
        if (eq <= 0 || colon < eq) {
            throw new IllegalArgumentException("IPC peer '" + entry + "': write ID=HOST:PORT, e.g. 2=127.0.0.1:7402");
        }
        try {
            int id = Integer.parseInt(entry.substring(0, eq));
            int port = Integer.parseInt(entry.substring(colon + 1));
            return Map.entry(id, InetSocketAddress.createUnresolved(entry.substring(eq + 1, colon), port));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("IPC peer '" + entry + "': the id and port must be numbers (ID=HOST:PORT)");
        }
    }

    public InetSocketAddress address(int kernel) {
        InetSocketAddress a = kernels.get(kernel);
        if (a == null) {
            throw new IllegalArgumentException("kernel " + kernel + " is not in the IPC directory " + kernels.keySet());
        }
        return a;
    }
}
