package io.machxp.kernel.core;

import io.machxp.kernel.ipc.NameOwner;
import io.machxp.kernel.share.PeerShares;
import io.machxp.kernel.task.Tids;
import io.machxp.proto.task.Errno;

/**
 * What the tasks clients create over gRPC may make a kernel keep besides port names: live
 * tasks, live threads and mappings, each shared among the clients' peers by the port names' rule
 * ({@link PeerShares}: a remote pool of 7/8 of the kernel's bound, a peer at most an eighth of
 * it and no more than is still free to peers; the last eighth only for in-process tasks). A task
 * counts to the peer of the connection that created it, its threads and mappings to the task's
 * peer, until they end (review kreview HIGH-1: before, one client took all 65,536 tasks and kept
 * them after it disconnected, and nobody else could create one until the kernel restarted).
 * A thread's id counts to its peer while the thread lives and while its number rests after it
 * ended ({@code ThreadNumbers}; review rv58 LOW-1: resting numbers counted to nobody, so one peer's
 * churn could keep them all resting when the lease, and so the rest, is long).
 *
 * <p>States per kind: a peer below its share (takes one more: {@link PeerShares#taken}), at it
 * (EAGAIN naming its share: {@link #refusal}); ends ({@link PeerShares#given}) move it back.
 * Core thread only.
 */
final class ClientShares {
    /**
     * Mappings of all tasks together: about 128 MB of the kernel's heap at 122 bytes each; 65,536
     * tasks of 4,096 mappings each would be 32 GB.
     */
    static final int MAX_MAPPINGS = 1 << 20;

    final PeerShares tasks = new PeerShares(KernelCore.MAX_TASKS);
    /** Thread ids: live threads and resting numbers of ended ones (given back when the rest is over). */
    final PeerShares threads = new PeerShares(Tids.MAX_THREAD_NUMBER);
    final PeerShares mappings = new PeerShares(MAX_MAPPINGS);
    private final String kernel;

    ClientShares(String kernel) {
        this.kernel = kernel;
    }

    /** The peer a task of {@code owner} (a gRPC connection; null: in process) counts to. */
    static Object peerOf(Object owner) {
        return owner instanceof NameOwner o ? o.peer() : owner;
    }

    /**
     * Null if {@code peer} (null: none) may take one more of {@code shares}, as far as its share
     * goes (the kernel's bound is the caller's); else EAGAIN with a sentence naming its share.
     */
    KernelError refusal(PeerShares shares, Object peer, String what, String advice) {
        if (!shares.atShare(peer)) {
            return null;
        }
        return KernelError.of(Errno.EAGAIN, "client peer %s (all its connections together) holds %d %s on kernel %s, "
                + "its share: a peer holds at most an eighth of the %d %s clients may hold together (%d), and no more "
                + "than are still free to them (%d); %s", peer, shares.usedBy(peer), what, kernel, shares.pool(), what,
                shares.peerMax(), shares.remoteFree(), advice);
    }
}
