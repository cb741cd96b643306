package io.machxp.kernel.ipc.link;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.TreeMap;

/**
 * How a kernel joins the IPC links of its cluster ({@code machxp kernel --ipc-id N --ipc-listen
 * HOST:PORT --ipc-peer ID=HOST:PORT ...}): its IPC id, where it listens for the other kernels,
 * and where each of them listens (see {@link KernelDirectory} for why configuration).
 *
 * @param id this kernel's IPC id, unique in the cluster and never reused (1 or more)
 * @param listen where to listen (port 0: any free one)
 * @param peers the other kernels by IPC id
 * @param leaseMillis how long a link may be silent before its kernel is dead
 */
public record LinkConfig(int id, InetSocketAddress listen, Map<Integer, InetSocketAddress> peers, long leaseMillis) {
    /**
     * The default lease of a link: a kernel silent this long is dead for IPC. Longer than the
     * pager's default session lease (5 s, {@code machxp pager --lease-ms}) by a margin of 2 s, and
     * raised over a longer pager lease at the welcome ({@link #leaseOver}): a pause that the pager
     * forgives must not end the kernel's IPC, whichever side checks first (an equal lease left a
     * pause just past 5 s to the order of the checks). Before, 3 s: a pause of 3 to 5 s cut a live
     * kernel off IPC.
     */
    public static final long DEFAULT_LEASE_MILLIS = 7_000;

    /** How much longer than its pager's lease a kernel's links' lease is at least ({@link #leaseOver}). */
    public static final long PAGER_LEASE_MARGIN_MILLIS = 2_000;

    /**
     * The rule between the two leases: a kernel welcomed with a pager lease of {@code pagerLeaseMillis}
     * (0: none) runs its links with the configured lease, or the pager's lease plus
     * {@link #PAGER_LEASE_MARGIN_MILLIS} if that is longer. The lease a kernel names in its hello is
     * how long the others wait for a frame from it, so a kernel paused for less than its pager's
     * lease is not declared dead by the others' links. (They take at most ten times their own lease.)
     */
    public static long leaseOver(long configuredLeaseMillis, long pagerLeaseMillis) {
        if (pagerLeaseMillis <= 0) {
            return configuredLeaseMillis;
        }
        return Math.max(configuredLeaseMillis, pagerLeaseMillis + PAGER_LEASE_MARGIN_MILLIS);
    }

    public LinkConfig {
        if (id < 1) {
            throw new IllegalArgumentException("IPC id " + id + ": give --ipc-id 1 or more, unique among the kernels");
        }
        if (peers.containsKey(id)) {
            throw new IllegalArgumentException("IPC id " + id + " is this kernel's own: --ipc-peer names the others");
        }
        if (leaseMillis < 1) {
            throw new IllegalArgumentException("IPC lease of " + leaseMillis + " ms: give 1 or more");
        }
        peers = java.util.Collections.unmodifiableMap(new TreeMap<>(peers));
    }

    /** From the command line's words: {@code HOST:PORT} and each {@code ID=HOST:PORT}. */
    public static LinkConfig parse(int id, String listen, java.util.List<String> peers) {
        Map<Integer, InetSocketAddress> table = new TreeMap<>();
        for (String p : peers) {
            Map.Entry<Integer, InetSocketAddress> e = KernelDirectory.parse(p);
            if (table.put(e.getKey(), e.getValue()) != null) {
                throw new IllegalArgumentException("IPC peer " + e.getKey() + " is given twice; give each kernel once");
            }
        }
        return new LinkConfig(id, address(listen), table, DEFAULT_LEASE_MILLIS);
    }

    private static InetSocketAddress address(String listen) {
        int colon = listen.lastIndexOf(':');
        try {
            if (colon > 0) {
                return InetSocketAddress.createUnresolved(listen.substring(0, colon),
                        Integer.parseInt(listen.substring(colon + 1)));
            }
        } catch (IllegalArgumentException e) {
            // the sentence below
        }
        throw new IllegalArgumentException("--ipc-listen " + listen + ": write HOST:PORT, e.g. 127.0.0.1:7401 (port 0: any)");
    }

    /** The directory once this kernel listens at {@code bound}. */
    public KernelDirectory directory(InetSocketAddress bound) {
        Map<Integer, InetSocketAddress> all = new TreeMap<>(peers);
        all.put(id, bound);
        return new KernelDirectory(all);
    }
}
