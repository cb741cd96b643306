package io.machxp.kernel.ipc;

/**
 * The hop bound on frames passed along proxies (the {@code hops} field of LinkMessage,
 * RefTransfer, RefRelease and PortFlush): a kernel passes on a frame another kernel made at most
 * {@link #bound} times in all, so that proxies pointing at one another in a ring (which a hostile
 * or broken kernel can set up: {@code receiver_kernel} may name a third kernel, so it is not
 * refused at import) cannot carry a frame round for ever. The maker of a frame sends 0; each
 * kernel that passes it on sends one more than it received; one that would send more than the
 * bound drops it instead ({@link IpcRemote}, {@link RemoteRefs}).
 *
 * <h2>Why 2 x kernels, and at least 64</h2>
 * At any moment the proxies of one port form a path to its receive right that visits each kernel
 * at most once (a kernel has one port per uid, pointing one way), so a frame that finds the path
 * still is passed on at most kernels - 1 times. A message can take more only by chasing a receive
 * right that moves on again while the message is on its way - every such move a task's act (it
 * received the right and sent it on), and a kernel the right left and came back to is visited
 * again. Twice the kernels lets a message in flight follow a right round the whole cluster once
 * more; the floor of 64 lets it follow a right that moves dozens of times in a small cluster. A
 * ring costs at most about 2 x bound^2 frames per looping message (each pass of a message makes a
 * RefTransfer and a RefRelease that loop too, each bounded), then stops.
 *
 * <p>A message queued on its receive right has arrived: if it then moves with the right (its
 * queue follows a migration) it starts again from 0 - that move is a task's act, not a forward.
 */
final class Hops {
    /** The least bound, whatever the size of the cluster. */
    static final int MIN_BOUND = 64;

    private Hops() {}

    /** The most times a frame may be passed on in a cluster of {@code kernels} kernels (this one included). */
    static int bound(int kernels) {
        return Math.max(MIN_BOUND, 2 * kernels);
    }

    /**
     * The hops to send when passing on a frame that arrived with {@code received} (a uint32 on the
     * wire: a value Java reads as negative is past any bound).
     */
    static long next(int received) {
        return Integer.toUnsignedLong(received) + 1;
    }

    /** Whether a frame may be sent on with {@code next} hops in a cluster of {@code kernels}. */
    static boolean within(long next, int kernels) {
        return next <= bound(kernels);
    }
}
