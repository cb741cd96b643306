package io.machxp.kernel.ipc.link;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This kernel's IPC sessions on its {@link IpcLinks}: leave, rejoin and renew.
 *
 * <h2>Overview</h2>
 * <pre>
 *  live --leave (this kernel lost its pager session)--> left: every link closes (the others
 *           declare it dead), probes end, frames are dropped until it rejoins
 *  left --rejoin (its next pager session)--> live as session + 1 (in every hello, and in the uids
 *           of the ports it exports from now on): nobody is dead here, every kernel dialled again
 *  live --renew (alive, cut off from IPC: IpcLinks, "refused")--> renewing: every kernel not dead
 *           here yet is declared dead, then on the core's executor (after those deaths) it
 *           leaves, goes to session + 1, nobody is dead here, the core forgets its old remote
 *           state ({@link LinkListener#renewed}) and every kernel is dialled again; one a
 *           refusal asked for counts in the {@link RenewBackoff} now, when it happened
 *  renewing --a leave, close, or a rejoin meanwhile--> the renewal is dropped (and not counted):
 *           the session that began meanwhile is the fresh one
 * </pre>
 * The others take a renewed kernel's hello as a rejoin ({@link LinkAdmissions}). State changes
 * here are made under the lock of its {@link IpcLinks}.
 */
final class LinkSessions {
    private static final Logger log = LoggerFactory.getLogger(IpcLinks.class);

    private final IpcLinks links;

    LinkSessions(IpcLinks links) {
        this.links = links;
    }

    /** Renewals of the IPC session while alive since these links started. */
    private final java.util.concurrent.atomic.AtomicInteger renewals = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * This kernel is alive but cut off from IPC: it comes back as its next IPC session, keeping its
     * tasks and its pager session. See "renew" above and IpcLinks, "renew"; its old rights across kernels are dead on
     * both sides (docs/mach-ipc.md, "Rejoining while alive").
     */
    public void renew(String why) {
        renew(why, false);
    }

    /**
     * As {@link #renew(String)}; {@code refused}: a refusal asks for it ({@link LinkProbes}), so
     * the renewal backoff may hold it back when it is decided, and counts it once it happened -
     * not if it is dropped on the way (review 2 N5: a renewal counted and dropped held the next
     * real one back for two leases or more).
     */
    void renew(String why, boolean refused) {
        int at;
        long decided = System.nanoTime();
        synchronized (links) {
            if (links.closing || links.left || links.renewing) {
                return;
            }
            if (refused && !links.probes.mayRenew(decided)) {
                log.warn("kernel {}: a renewal of its IPC session held back by its backoff ({})", links.self, why);
                return; // the probe chain asks again a lease later
            }
            links.renewing = true;
            at = links.session;
            links.probes.endAll();
            log.warn("kernel {}: renews its IPC session ({} -> {}) while alive: {}", links.self, links.session, links.session + 1, why);
            KernelDirectory d = links.directory;
            if (d != null) {
                for (int k : d.kernels().keySet()) {
                    if (k != links.self) {
                        links.deaths.died(k, "this kernel renews its IPC session");
                    }
                }
            }
        }
        links.core.execute(() -> { // after the core heard of every death above
            synchronized (links) {
                // the pager session ended meanwhile (its rejoin starts the next session), or ended
                // and rejoined already (a task queued before this one): that session is the fresh one
                if (links.left || links.closing || links.session != at) {
                    links.renewing = false;
                    return;
                }
            }
            leave();
            synchronized (links) {
                links.session++;
                links.dead.clear();
                links.silentDeaths.clear();
                links.left = false;
                links.renewing = false;
                if (refused) {
                    links.probes.renewed(decided);
                }
            }
            renewals.incrementAndGet();
            links.listener.renewed();
            KernelDirectory d = links.directory;
            if (d != null) {
                links.dials.connect(d, links.firstContactMillis);
            }
        });
    }

    /** Times these links renewed their IPC session while alive. */
    public int renewals() {
        return renewals.get();
    }

    /**
     * This kernel's session is over: every link closes, so the other kernels declare it dead, and
     * nothing reaches the core until {@link #rejoin}. Keeps listening.
     */
    public void leave() {
        java.util.List<LinkPeer> all;
        synchronized (links) {
            links.left = true;
            links.deaths.reviving.clear();
            links.probes.endAll();
            links.admissions.inbound.clear();
            all = java.util.List.copyOf(links.peers.values());
            links.peers.clear();
        }
        for (LinkPeer p : all) {
            synchronized (p) {
                p.waiting.clear();
                if (p.channel != null) {
                    p.channel.close();
                }
            }
        }
        links.accepted.close();
    }

    /** The next session after {@link #leave}: a session number one higher, and the other kernels dialled again. */
    public void rejoin() {
        synchronized (links) {
            links.session++;
            links.left = false;
            // the new session owes nothing to the earlier one's view: every kernel is dialled again
            // (one gone for good is declared dead again by its dial), none is left unprobed
            links.dead.clear();
            links.silentDeaths.clear();
        }
        KernelDirectory d = links.directory;
        if (d != null) {
            links.dials.connect(d, links.firstContactMillis);
        }
    }
}
