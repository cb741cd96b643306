package io.machxp.kernel.ipc.link;

import io.machxp.proto.link.LinkFrame;

/** What the links deliver to a kernel's IPC core, on the core's executor. */
public interface LinkListener {
    /** A frame from IPC session {@code session} of kernel {@code from}, in the order that kernel sent them. */
    void frame(int from, int session, LinkFrame frame);

    /** Kernel {@code kernel} died: its link broke or was silent for a lease. Once per session of that kernel (see {@link IpcLinks}). */
    void kernelDied(int kernel);

    /**
     * This kernel renewed its IPC session while alive ({@link IpcLinks}, "renew"): every other kernel
     * has been declared dead to the core first (in order, before this), and from now on the links
     * speak for the next session. The core forgets its old remote state ({@code IpcCore.renewSession})
     * and takes {@link IpcLinks#forSession()} again.
     */
    default void renewed() {}

    /**
     * Kernel {@code kernel}, declared dead ({@link #kernelDied}), rejoined with a later session and
     * is alive again, as IPC session {@code session}: on the core's executor, after its death and
     * before any frame of its new session.
     */
    default void revived(int kernel, int session) {}
}
