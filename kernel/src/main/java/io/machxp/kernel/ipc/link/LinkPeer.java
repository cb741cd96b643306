package io.machxp.kernel.ipc.link;

import io.netty.channel.Channel;
import java.util.ArrayDeque;
import java.util.ArrayList;

/**
 * The sending side of one link of {@link IpcLinks}: frames waiting for the connection, then
 * numbered and written in batches. A rejoin of the kernel at the other end replaces it with a new
 * one (a new connection, seq from 1). Guarded by itself.
 */
final class LinkPeer {
    final int id;
    Channel channel;
    final ArrayDeque<SeqFrame> waiting = new ArrayDeque<>();
    /** Frames numbered for the open channel, not yet written: one event-loop task writes them all, one flush. */
    ArrayList<SeqFrame> outbox = new ArrayList<>();
    boolean drainScheduled;
    long seq;
    long firstAttempt;
    /**
     * Its kernel was declared dead while this was its link ({@link LinkDeaths#died}): what this
     * link reports afterwards (its close, a dial that fails) is no new death - the close that death
     * caused may be seen only after a rejoin of the kernel (review late4 B1). A revival replaces it.
     * Set under the links' lock and this one's.
     */
    boolean ended;
    /** A probe of a kernel declared dead (IpcLinks, "renew"): a hello only, never in {@code peers}. */
    final boolean probe;
    /** A probe's: the IPC session of this kernel it was sent in (a refusal about an earlier one is stale). */
    int probeSession;
    /** A probe's: the chain it belongs to (IpcLinks keeps at most one per kernel) and its number in it. */
    Object probeChain;
    int probeAttempt;

    LinkPeer(int id) {
        this(id, false);
    }

    LinkPeer(int id, boolean probe) {
        this.id = id;
        this.probe = probe;
    }
}
