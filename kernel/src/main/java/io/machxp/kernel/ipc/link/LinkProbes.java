package io.machxp.kernel.ipc.link;

import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.LinkHello;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The probes of {@link IpcLinks} (its overview: "probe", "refused"): how a kernel its links cut
 * off from IPC while it was alive finds out, and which of two kernels that declared each other
 * dead renews its IPC session ({@link IpcLinks#renew}).
 *
 * <h2>Overview</h2>
 * <pre>
 *  chain:    a kernel declared dead here gets one probe chain (at most one a kernel): every lease
 *            a connection with a probe hello of this session; the chain ends when the kernel is
 *            alive here again, at leave, renew or close, or after {@link #MAX_PROBES} probes
 *  probed:   the far side answers LinkRefused: dead_here (it declared this session of this process
 *            dead), silent (it heard nothing from it for a lease) and its incarnation, then closes
 *  gone:     an answer not dead_here from another process (its incarnation) than the one declared
 *            dead here ends the chain: that process is gone, a restarted kernel takes a new id
 *  refused:  an answer about this session from a kernel still dead here on its current chain:
 *            silent, or neither side silent and this kernel's id the higher -> renew (unless the
 *            {@link RenewBackoff} holds it back: the chain asks again; it counts there only once the
 *            renewal happens); otherwise the other renews
 *  stale:    an answer to a probe of an earlier session (renewed or left since), or of an ended
 *            chain, is ignored: one pause seen by several kernels renews once
 * </pre>
 * Everything here is guarded by the lock of its {@link IpcLinks}; probe connections are closed
 * at leave, renew and close ({@link #endAll}).
 */
final class LinkProbes {
    private static final Logger log = LoggerFactory.getLogger(IpcLinks.class);

    /**
     * The probe chain of each kernel dead here (at most one; see "probe"): a token its scheduled
     * probes carry; a chain whose token is gone ends. Cleared at leave, renew and close. Guarded by the links' lock.
     */
    private final Map<Integer, Object> probeChains = new java.util.HashMap<>();
    /** Probe connections open now: closed at leave, renew and close. */
    private final io.netty.channel.group.ChannelGroup probeChannels =
            new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
    /** Probes of one chain (one a lease) before a kernel that never takes this one back is given up for gone. */
    static final int MAX_PROBES = 100;
    /** How often this kernel may renew while alive (review F4). Guarded by the links' lock. */
    private final RenewBackoff backoff = new RenewBackoff();

    private final IpcLinks links;

    LinkProbes(IpcLinks links) {
        this.links = links;
    }

    /** Starts the probe chain of {@code kernel} unless it has one. Under the links' lock. */
    private void scheduleProbe(int kernel) {
        if (!probeChains.containsKey(kernel)) {
            Object chain = new Object();
            probeChains.put(kernel, chain);
            nextProbe(kernel, chain, 0);
        }
    }

    private void nextProbe(int kernel, Object chain, int done) {
        links.group.schedule(() -> probe(kernel, chain, done), links.leaseMillis, TimeUnit.MILLISECONDS);
    }

    /** Whether the chain {@code chain} of {@code kernel} goes on; it ends (and is forgotten) if not. Under the lock. */
    private boolean probing(int kernel, Object chain) {
        if (probeChains.get(kernel) != chain) {
            return false; // ended at a leave, renew or close; another chain may have started since
        }
        KernelDirectory d = links.directory;
        if (links.closing || links.left || links.renewing || !links.dead.contains(kernel) || d == null || !d.kernels().containsKey(kernel)) {
            probeChains.remove(kernel);
            return false;
        }
        return true;
    }

    /** Dials {@code kernel}, dead here, with a hello only: IpcLinks, "probe". */
    private void probe(int kernel, Object chain, int done) {
        LinkPeer p = new LinkPeer(kernel, true);
        synchronized (links) {
            if (!probing(kernel, chain)) {
                return;
            }
            if (done >= MAX_PROBES) {
                probeChains.remove(kernel);
                log.warn("kernel {}: kernel {} did not take this kernel back in {} probes: given up for gone", links.self,
                        kernel, done);
                return;
            }
            p.probeSession = links.session;
            p.probeChain = chain;
            p.probeAttempt = done + 1;
        }
        InetSocketAddress a = links.directory.address(kernel);
        LinkBootstrap.dialling(links, p, a)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, links.leaseMillis))
                .connect(a.getHostString(), a.getPort()).addListener((ChannelFuture f) -> {
                    if (!f.isSuccess()) {
                        probeEnded(p); // not listening: dead, or not back yet
                        return;
                    }
                    Channel ch = f.channel();
                    probeChannels.add(ch);
                    synchronized (links) {
                        if (probeChains.get(kernel) != chain) {
                            ch.close(); // the chain ended while it connected
                            return;
                        }
                    }
                    synchronized (p) {
                        p.channel = ch;
                    }
                    ch.writeAndFlush(LinkFrame.newBuilder().setHello(LinkHello.newBuilder().setKernel(links.self)
                            .setIncarnation(links.incarnation).setLeaseMillis(links.leaseMillis).setSession(p.probeSession)
                            .setProbe(true)).build());
                    ch.eventLoop().schedule(() -> ch.close(), links.leaseMillis, TimeUnit.MILLISECONDS); // no answer: again later
                });
    }

    /** A probe's connection ended (or never opened): its chain probes again after a lease, while the kernel is dead here. */
    void probeEnded(LinkPeer p) {
        synchronized (links) {
            if (probing(p.id, p.probeChain)) {
                nextProbe(p.id, p.probeChain, p.probeAttempt);
            }
        }
    }

    /** Kernel {@code p.id} refused a probe's hello: IpcLinks, "refused". */
    void refusedThere(LinkPeer p, io.machxp.proto.link.LinkRefused r) {
        if (!p.probe) {
            return; // a link is never refused after its hello was taken
        }
        Channel ch;
        synchronized (p) {
            ch = p.channel;
        }
        if (ch != null) {
            ch.close(); // one answer per probe
        }
        boolean quietHere;
        synchronized (links) {
            if (!r.getDeadHere() && r.getIncarnation() != 0 && links.hellos.otherProcess(p.id, r.getIncarnation())
                    && probing(p.id, p.probeChain)) {
                // the process declared dead here is gone and another holds its id: it never takes
                // this kernel back (a restarted kernel takes a new id), so its chain ends
                probeChains.remove(p.id);
                log.info("kernel {}: kernel {} answers from another process: the one declared dead here is gone; "
                        + "no more probes", links.self, p.id);
                return;
            }
            // only an answer about this session, while the refuser is dead here and this chain is
            // its chain: a late answer to a probe of an earlier session (renewed or left since) is stale
            if (!r.getDeadHere() || p.probeSession != links.session || !probing(p.id, p.probeChain)) {
                return;
            }
            quietHere = links.silentDeaths.contains(p.id);
            if ((r.getSilent() || !quietHere && links.self > p.id) && !mayRenew(System.nanoTime())) {
                log.warn("kernel {}: kernel {} refused it as dead; renewal {} of a streak held back for {} ms",
                        links.self, p.id, backoff.streak() + 1, TimeUnit.NANOSECONDS.toMillis(
                                backoff.waitNanos(TimeUnit.MILLISECONDS.toNanos(links.leaseMillis))));
                return; // the chain asks again a lease later
            }
        }
        if (r.getSilent() || !quietHere && links.self > p.id) {
            // counted in the backoff only if the renewal happens (renew checks it again when it decides)
            links.sessions.renew("kernel " + p.id + " declared this kernel's IPC session " + p.probeSession + " dead ("
                    + (r.getSilent() ? "it heard nothing from it for a lease" : "its link broke") + ")", true);
        } else {
            log.info("kernel {}: kernel {} refused it as dead; it is that kernel's turn to renew its IPC session", links.self, p.id);
        }
    }

    /** Whether the backoff lets a renewal go at {@code nowNanos}; nothing is counted. Under the links' lock. */
    boolean mayRenew(long nowNanos) {
        return backoff.mayRenew(nowNanos, TimeUnit.MILLISECONDS.toNanos(links.leaseMillis));
    }

    /** A renewal a refusal asked for, decided at {@code nowNanos}, happened: counted in the backoff. Under the links' lock. */
    void renewed(long nowNanos) {
        backoff.renewed(nowNanos, TimeUnit.MILLISECONDS.toNanos(links.leaseMillis));
    }

    /**
     * A probe's hello (IpcLinks, "probe"): answered with LinkRefused, dead_here if this kernel
     * declared that session of that process dead; never taken as a link (the caller closes it).
     */
    void probed(int kernel, long incarnation, int session, Channel ch) {
        synchronized (links) {
            answer(kernel, incarnation, session, ch);
        }
    }

    private void answer(int kernel, long incarnation, int session, Channel ch) {
        boolean deadHere = !links.closing && !links.left && links.dead.contains(kernel) && links.hellos.same(kernel, incarnation, session);
        boolean silent = links.silentDeaths.contains(kernel);
        log.debug("kernel {}: probed by kernel {} (session {}): {}", links.self, kernel, session,
                deadHere ? "dead here" + (silent ? " (nothing heard from it for a lease)" : " (its link broke)") : "not dead here");
        ch.writeAndFlush(LinkFrame.newBuilder().setRefused(io.machxp.proto.link.LinkRefused.newBuilder()
                .setDeadHere(deadHere).setSilent(deadHere && silent).setIncarnation(links.incarnation)).build());
    }

    /** The probe chain of {@code kernel} now, or null (tests). */
    Object chain(int kernel) {
        synchronized (links) {
            return probeChains.get(kernel);
        }
    }

    /** Probe chains going on now (tests: none once every kernel is alive here again). */
    int chains() {
        synchronized (links) {
            return probeChains.size();
        }
    }


    /** Starts the probe chain of {@code kernel}, declared dead here, unless it has one. Under the links' lock. */
    void start(int kernel) {
        scheduleProbe(kernel);
    }

    /** Ends every chain and closes the probe connections open now (leave, renew, close). */
    void endAll() {
        synchronized (links) {
            probeChains.clear();
        }
        probeChannels.close();
    }
}
