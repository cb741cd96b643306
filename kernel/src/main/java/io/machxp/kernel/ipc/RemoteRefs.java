package io.machxp.kernel.ipc;

import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.RefRelease;
import io.machxp.proto.link.RefTransfer;
import java.util.HashMap;

/**
 * Distributed reference counting of send rights, for no-senders across kernels. Part of the IPC
 * core; core thread only.
 *
 * <h2>The algorithm (signed reference listing)</h2>
 * The kernel of the receive right (the port's <em>home</em>) keeps, per kernel K, a signed count
 * c[K] of registrations: +1 for every send right carried to K, -1 for every one K released. Its
 * own send rights are counted in the port's srights as on one kernel.
 * <ul>
 *   <li>The home carries a send right to K: c[K] += 1 at once.
 *   <li>Another kernel X carries a send right to K: before the message leaves, X sends
 *       RefTransfer(to K, sender X) towards the receive right; its own release of that right
 *       comes later on the same link, so the home always learns of the transfer before X's
 *       release. K, when the right arrives, sends the same registration from its side
 *       (RefTransfer(to K, sender X, by receiver)) before anything else about the port. The home
 *       counts c[K] += 1 for whichever half of the pair reaches it first and only settles the
 *       other ({@link Port#halves}: per (K, X), X's halves in minus K's). Why both: if X dies
 *       with its RefTransfer still on its link (lost), the right K received would otherwise never
 *       be registered while K's release of it still counts, leaving c[K] = -1 for good - and the
 *       next right carried to K would bring c[K] to 0 while K holds it: no-senders early (IPC
 *       chaos seed 445, a forwarder that crashed while passing a message on).
 *   <li>A send right arrives at a proxy on K: K's {@link Port#owed} += 1. When K's last local send
 *       right ends, K sends RefRelease(owed) and owed = 0. At the home it is c[K] -= owed.
 *   <li>A send right arrives at the home itself: c[home] -= 1 (the matching +1 is the sender's
 *       RefTransfer) and it is counted in srights.
 * </ul>
 * No-senders fires when srights = 0 and every c[K] = 0 - not when they merely sum to 0: a release
 * by K can reach the home before the transfer that registered K's right (different links), which
 * leaves c[K] = -1 until the transfer arrives. Why "all zero" is safe: a right anywhere was carried
 * along a chain of kernels starting at the home; the last kernel of that chain whose transfer the
 * home has processed has a count above 0 (its release comes after the transfer it sent on), or the
 * home's own srights count it.
 *
 * <p>A moving receive right takes its counts along ({@link RemoteRights}); the kernel it leaves
 * becomes a proxy that registers itself (c[it] += 1, owed = 1) if it still holds send rights.
 * RefTransfer and RefRelease reaching a proxy are passed on towards the receive right (each pass
 * one hop more; past the hop bound, {@link Hops}, a ref frame is dropped: only a loop of proxies
 * takes it that far). A dead
 * kernel's count is dropped and transfers to it are ignored: its rights died with it; so are
 * halves still owed by it (K's, or X's when X died: they will not come). Known limits: a right in
 * a message lost with a kernel that died after sending RefTransfer for it is never released, so
 * such a port gets no no-senders (late, never early); and a right that X passed to K just before
 * X died is covered by c[X] until K's half arrives, so if the home drops c[X] (a lease after the
 * death) before K's half is in - K's frame more than a lease on its way - no-senders can come
 * while K holds the right.
 */
final class RemoteRefs {
    private final IpcCore ipc;

    RemoteRefs(IpcCore ipc) {
        this.ipc = ipc;
    }

    private static void add(Port port, int kernel, long delta) {
        if (port.counts == null) {
            port.counts = new HashMap<>();
        }
        long v = port.counts.getOrDefault(kernel, 0L) + delta;
        if (v == 0) {
            port.counts.remove(kernel);
        } else {
            port.counts.put(kernel, v);
        }
    }

    /** Whether no kernel but this one may hold send rights. */
    static boolean noRemoteSenders(Port port) {
        return port.counts == null || port.counts.isEmpty();
    }

    /**
     * A send right for {@code port} leaves this kernel for {@code to}: register it (home) or send
     * the sender's half of its registration to the home.
     */
    void transfer(Port port, int to) {
        if (!port.proxy()) {
            add(port, to, 1);
        } else {
            ipc.net.send(port.remote, LinkFrame.newBuilder().setTransfer(RefTransfer.newBuilder()
                    .setPort(RemoteRights.uid(port.uid)).setTo(to).setSender(ipc.net.self())).build());
        }
    }

    /**
     * A send right for {@code port} arrived from kernel {@code sender}, not the home, which sent its
     * half of the registration: the home settles it here; a proxy sends the receiver's half.
     */
    void arrivedPassedOn(Port port, int sender) {
        port.srights++;
        if (port.proxy()) {
            port.owed++;
            ipc.net.send(port.remote, LinkFrame.newBuilder().setTransfer(RefTransfer.newBuilder()
                    .setPort(RemoteRights.uid(port.uid)).setTo(ipc.net.self()).setSender(sender).setByReceiver(true))
                    .build());
        } else {
            half(port, ipc.net.self(), sender, true);
            add(port, ipc.net.self(), -1);
        }
    }

    /**
     * One half of the registration of a right {@code sender} passed to {@code to}: counted if it is
     * the first of its pair. A dead (or unknown) sender's pairs are not kept: its halves will not
     * come, and a peer cannot make this kernel keep a pair for every sender it names.
     */
    private void half(Port port, int to, int sender, boolean byReceiver) {
        long key = halfKey(to, sender);
        long balance = port.halves == null ? 0 : port.halves.getOrDefault(key, 0L);
        if (byReceiver ? balance <= 0 : balance >= 0) {
            add(port, to, 1);
        }
        long next = balance + (byReceiver ? -1 : 1);
        setHalf(port, to, sender, ipc.deadHere(sender) && (next < 0 || balance == 0) ? 0 : next);
    }

    static void setHalf(Port port, int to, int sender, long balance) {
        if (balance == 0) {
            if (port.halves != null) {
                port.halves.remove(halfKey(to, sender));
            }
            return;
        }
        if (port.halves == null) {
            port.halves = new HashMap<>();
        }
        port.halves.put(halfKey(to, sender), balance);
    }

    private static long halfKey(int to, int sender) {
        return (long) to << 32 | (sender & 0xFFFFFFFFL);
    }

    static int halfTo(long key) {
        return (int) (key >>> 32);
    }

    static int halfSender(long key) {
        return (int) key;
    }

    /** A send right for {@code port} arrived here: counted in srights, registered as owed (proxy) or settled (home). */
    void arrived(Port port) {
        port.srights++;
        if (port.proxy()) {
            port.owed++;
        } else {
            add(port, ipc.net.self(), -1);
        }
    }

    /**
     * A send right arrived straight from a proxy that sent no RefTransfer for it: the home counts
     * it in srights only; a proxy here registers itself towards the receive right first.
     */
    void arrivedUnregistered(Port port) {
        port.srights++;
        if (port.proxy()) {
            port.owed++;
            ipc.net.send(port.remote, LinkFrame.newBuilder().setTransfer(RefTransfer.newBuilder()
                    .setPort(RemoteRights.uid(port.uid)).setTo(ipc.net.self())).build());
        }
    }

    /** A proxy's last send right here ended: release what this kernel holds. */
    void lastLocalRightGone(Port port) {
        if (port.owed == 0 || !port.active) {
            return;
        }
        long owed = port.owed;
        port.owed = 0;
        ipc.net.send(port.remote, LinkFrame.newBuilder().setRelease(RefRelease.newBuilder()
                .setPort(RemoteRights.uid(port.uid)).setFrom(ipc.net.self()).setCount(owed)).build());
    }

    /** A RefTransfer from kernel {@code from}: counted here (home), or passed on towards the receive right within the hop bound. */
    void onTransfer(int from, Port port, RefTransfer t) {
        if (t.getSendOnce() && !port.proxy()) {
            ipc.soRefs.onTransfer(port, t);
        } else if (port.proxy()) {
            long hops = Hops.next(t.getHops());
            if (ipc.remote.mayPassOn("RefTransfer", port, from, hops)) {
                ipc.net.send(port.remote, LinkFrame.newBuilder().setTransfer(t.toBuilder().setHops((int) hops)).build());
            }
        } else if (port.active && !ipc.deadHere(t.getTo())) {
            if (t.getSender() == 0) {
                add(port, t.getTo(), 1);
            } else {
                half(port, t.getTo(), t.getSender(), t.getByReceiver());
            }
        }
    }

    /** A RefRelease from kernel {@code from}: counted here (home), or passed on towards the receive right within the hop bound. */
    void onRelease(int from, Port port, RefRelease r) {
        if (port.proxy()) {
            long hops = Hops.next(r.getHops());
            if (ipc.remote.mayPassOn("RefRelease", port, from, hops)) {
                ipc.net.send(port.remote, LinkFrame.newBuilder().setRelease(r.toBuilder().setHops((int) hops)).build());
            }
        } else if (port.active) {
            add(port, r.getFrom(), -r.getCount());
            ipc.rights.checkNoSenders(port);
        }
    }

    /** The receive right leaves for {@code to}: this kernel registers the send rights it keeps. */
    void leaving(Port port) {
        if (port.srights > 0) {
            add(port, ipc.net.self(), 1);
            port.owed = 1;
        }
    }

    /** The receive right arrived here as {@code port} (maybe a proxy until now) with the counts it carried. */
    void arriving(Port port) {
        if (port.owed != 0) {
            add(port, ipc.net.self(), -port.owed);
            port.owed = 0;
        }
    }

    /** A kernel died: its registrations go, which may leave no senders, and so do the halves it still owed. */
    void kernelDied(Port port, int kernel) {
        if (port.halves != null) {
            port.halves.entrySet().removeIf(h -> halfTo(h.getKey()) == kernel
                    || halfSender(h.getKey()) == kernel && h.getValue() < 0);
        }
        if (port.counts != null && port.counts.remove(kernel) != null) {
            ipc.rights.checkNoSenders(port);
        }
    }
}
