package io.machxp.kernel.ipc.link;

import io.netty.channel.Channel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deaths of other kernels as {@link IpcLinks} declares them, and their revival at a rejoin.
 *
 * <h2>Overview</h2>
 * <pre>
 *  alive --its accepted link closes, goes silent for a lease (silent) or breaks the sequence
 *          ({@code diedIn}: only if it is that kernel's current session, admitted in this
 *          kernel's current session)--> dead
 *  alive --its dialled link closes, is not reached within the first contact, or leaves more
 *          than the limit unread (silent) ({@code diedOut}: only the current peer, and not one
 *          its kernel died on already: that death closed it)--> dead
 *  alive --a new process claims its id, or this kernel renews--> dead
 *  dead:   once per session of that kernel: both its connections close, what waited for it is
 *          dropped, its probe chain starts ({@link LinkProbes}; not while renewing), and the core
 *          hears {@link LinkListener#kernelDied} on its executor
 *  dead/reviving --its hello with a later session ({@link LinkAdmissions})--> reviving: dead
 *          first (the core hears it), then, on the core's executor, alive again and dialled anew
 *          ({@code revive}); a reviving kernel that dies again is dead once more
 * </pre>
 * Nothing dies while this kernel is closing or has left; {@code silentDeaths} remembers which
 * kernels died silent, for the answer to their probes. Everything here is guarded by the lock of
 * its {@link IpcLinks}.
 */
final class LinkDeaths {
    private static final Logger log = LoggerFactory.getLogger(IpcLinks.class);

    private final IpcLinks links;

    LinkDeaths(IpcLinks links) {
        this.links = links;
    }

    /** Kernels that said hello with a later session, waiting to be alive again (after the core heard of the death). */
    final Map<Integer, Integer> reviving = new ConcurrentHashMap<>(); // kernel -> the session that rejoined

    /** Core thread, after the core heard of the death of its earlier session: the peer is alive and dialled anew. */
    void revive(int kernel, int session) {
        LinkPeer fresh;
        synchronized (links) {
            if (!reviving.remove(kernel, session) || links.closing || links.left) {
                // its new session died first (a later one may be rejoining: its own revive follows
                // that session's death on the core; review late3 A3: this one revived the core in
                // that session's name, and the death queued before it then left the core with the
                // kernel dead for good), or this kernel left meanwhile
                return;
            }
            links.dead.remove(kernel);
            LinkPeer old = links.peers.remove(kernel);
            if (old != null) {
                synchronized (old) {
                    if (old.channel != null) {
                        old.channel.close();
                    }
                }
            }
            fresh = links.dials.peer(kernel);
        }
        log.info("kernel {}: kernel {} rejoined IPC", links.self, kernel);
        links.listener.revived(kernel, session);
        if (links.directory != null && links.directory.kernels().containsKey(kernel)) {
            links.dials.dial(fresh);
        }
    }

    /** The connection of session {@code session} of {@code kernel} broke or went silent: dead, if that is its current session. */
    void diedIn(int kernel, int session, String why) {
        synchronized (links) {
            diedIn(kernel, session, why, false);
        }
    }

    /** As {@link #diedIn(int, int, String)}; {@code silent}: nothing heard from it for a lease. */
    void diedIn(int kernel, int session, String why, boolean silent) {
        synchronized (links) {
            diedIn(kernel, session, links.session, why, silent);
        }
    }

    /**
     * As {@link #diedIn(int, int, String, boolean)}, for a connection admitted in this kernel's
     * session {@code ownSession}: one of an earlier session (left or renewed since) whose close
     * is seen only after the rejoin declares nobody dead in the new session.
     */
    void diedIn(int kernel, int session, int ownSession, String why) {
        synchronized (links) {
            diedIn(kernel, session, ownSession, why, false);
        }
    }

    void diedIn(int kernel, int session, int ownSession, String why, boolean silent) {
        synchronized (links) {
            if (ownSession == links.session && links.hellos.current(kernel, session)) {
                died(kernel, why, silent);
            }
        }
    }

    /**
     * The link dialled to {@code p} broke: dead, unless a rejoin replaced that peer meanwhile or its
     * kernel was declared dead while it was the link ({@link LinkPeer#ended}: that death closed it;
     * review late4 B1: its close, seen after the kernel's hello with a later session, declared the
     * rejoining kernel dead again, closed its new link and skipped its revival).
     */
    void diedOut(LinkPeer p, String why) {
        synchronized (links) {
            diedOut(p, why, false);
        }
    }

    /** As {@link #diedOut(LinkPeer, String)}; {@code silent}: it was the quiet one (see "refused"). */
    void diedOut(LinkPeer p, String why, boolean silent) {
        synchronized (links) {
            if (links.peers.get(p.id) == p && !p.ended) {
                died(p.id, why, silent);
            }
        }
    }

    /** Kernel {@code kernel} is dead: its links close and the core hears of it, once per session. */
    void died(int kernel, String why) {
        synchronized (links) {
            died(kernel, why, false);
        }
    }

    void died(int kernel, String why, boolean silent) {
        synchronized (links) {
            boolean wasReviving = reviving.remove(kernel) != null; // its new session died before it was alive here
            if (links.closing || links.left || !links.dead.add(kernel) && !wasReviving) {
                return;
            }
            if (silent) {
                links.silentDeaths.add(kernel);
            } else {
                links.silentDeaths.remove(kernel);
            }
            Channel in = links.admissions.inbound.remove(kernel);
            if (in != null) {
                in.close(); // nothing more of it reaches the core (deliver)
            }
            if (!links.renewing) {
                links.probes.start(kernel);
            }
            log.info("kernel {}: kernel {} is dead for IPC: {}", links.self, kernel, why);
            LinkPeer p = links.peers.get(kernel);
            if (p != null) {
                synchronized (p) {
                    p.ended = true; // its close, seen later, is this death's (diedOut)
                    p.waiting.clear();
                    if (p.channel != null) {
                        p.channel.close();
                    }
                }
            }
            links.core.execute(() -> links.listener.kernelDied(kernel));
        }
    }
}
