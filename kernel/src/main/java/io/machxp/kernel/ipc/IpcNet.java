package io.machxp.kernel.ipc;

import io.machxp.proto.link.LinkFrame;

/**
 * What the IPC core needs to reach other kernels: its own kernel id and one-way frames to a
 * kernel or to all. Frames to one kernel arrive in the order given, each at most once, unless
 * that kernel dies ({@link IpcCore#kernelDied}). Called on the core thread; the link layer
 * ({@code io.machxp.kernel.ipc.link}) or a test's wire implements it.
 */
public interface IpcNet {
    /** This kernel's id, unique in the cluster. */
    int self();

    /**
     * This kernel's IPC session: 0 for the first, one more each time it rejoined after losing its
     * session with the pager. Part of the uids of the ports it exports, so that a rejoined kernel's
     * new ports are never taken for its old, dead ones.
     */
    default int session() {
        return 0;
    }

    /** Queues {@code frame} for {@code kernel} (its seq is the link's to set). */
    void send(int kernel, LinkFrame frame);

    /** Queues {@code frame} for every kernel this one knows, itself excluded. */
    void broadcast(LinkFrame frame);

    /** Whether {@code kernel} is known to have died. */
    boolean dead(int kernel);

    /**
     * How many kernels this one knows in its cluster, itself included: the hop bound of frames
     * passed along proxies is reckoned from it ({@link Hops}).
     */
    default int kernels() {
        return 1;
    }

    /**
     * A frame of {@code kind} (LinkMessage, RefTransfer, RefRelease, PortFlush) for {@code port},
     * which came from kernel {@code from}, was dropped instead of being passed on to kernel
     * {@code next}: it had been passed on {@code bound} times already (a loop of proxies). The
     * links count it and log it, rate-limited; called on the core thread.
     */
    default void hopBoundReached(String kind, String port, int from, int next, int bound) {}

    /** A single kernel with no links: rights never leave it. */
    IpcNet NONE = new IpcNet() {
        @Override
        public int self() {
            return 0;
        }

        @Override
        public void send(int kernel, LinkFrame frame) {
            throw new IllegalStateException("no IPC links: kernel " + kernel + " is unknown here");
        }

        @Override
        public void broadcast(LinkFrame frame) {}

        @Override
        public boolean dead(int kernel) {
            return true;
        }
    };
}
