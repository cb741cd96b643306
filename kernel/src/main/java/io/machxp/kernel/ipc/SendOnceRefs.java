package io.machxp.kernel.ipc;

import io.machxp.proto.link.KernelCount;
import io.machxp.proto.link.LinkFrame;
import io.machxp.proto.link.PortMigration;
import io.machxp.proto.link.RefTransfer;
import java.util.HashMap;

/**
 * Where a port's send-once rights are, by kernel, so that a kernel's death ends the ones it held as
 * Mach ends a send-once right destroyed unused: with a MACH_NOTIFY_SEND_ONCE to the port. Part of
 * the IPC core; core thread only.
 *
 * <h2>Overview</h2>
 * The home (the kernel of the receive right) counts every send-once right in {@link Port#sorights};
 * here it also keeps, per other kernel K, how many of them K holds ({@link Port#soCounts}: held by
 * K's tasks, queued there, or in messages K sent that have not arrived). Every hop of a right is
 * counted once, by the kernel that learns of it first:
 * <pre>
 *  the home carries one to K            soCounts[K] += 1
 *  one arrives at the home from K       soCounts[K] -= 1   (the link peer: a message, a SEND_ONCE
 *                                                         notification K made, an insert)
 *  one arrives at Y from X (X not the   Y reports RefTransfer(send_once, to Y, sender X) towards the
 *    home: LinkRight.receiver_kernel    receive right: soCounts[X] -= 1, soCounts[Y] += 1
 *    is not X)
 *  kernel K dies                        one MACH_NOTIFY_SEND_ONCE per soCounts[K] > 0, queued here
 * </pre>
 * Deaths are judged by the core's own view ({@link IpcCore#deadHere}), in order with the frames:
 * a frame processed before the core hears of its sender's death is counted as from a live kernel,
 * and the death then notifies only what is still counted. Counts are by kernel, and a kernel that
 * rejoined counts anew; so a report or a moving right's count names the IPC sessions it is about
 * (as the reporter heard them, in order with the frames), and one of a session earlier than the
 * core heard of ({@link IpcCore#earlierSession}) is settled as a dead kernel's: before, a late
 * report of a right passed on by the earlier session took one off the later session's count, and
 * that session's right was never notified at its death (review late1 A3).
 * A right lost in a message on a dead kernel's link was still counted at that kernel: it is
 * notified as destroyed unused. Counts are signed (a report can arrive after the right came home
 * through another link). Known limits: if X dies after passing a right to Y and before Y's report
 * is in, X's death notifies that right while Y holds it (Y's later use then reaches the port too:
 * one message more); if Y dies before its report leaves, the right stays counted at X (no
 * notification, as before). A moving receive right takes the counts along ({@link #migrating}),
 * with the rights the old home still holds counted at it.
 */
final class SendOnceRefs {
    private final IpcCore ipc;

    SendOnceRefs(IpcCore ipc) {
        this.ipc = ipc;
    }

    private static void add(Port port, int kernel, long delta) {
        if (port.soCounts == null) {
            port.soCounts = new HashMap<>();
        }
        long v = port.soCounts.getOrDefault(kernel, 0L) + delta;
        if (v == 0) {
            port.soCounts.remove(kernel);
        } else {
            port.soCounts.put(kernel, v);
        }
    }

    /** A send-once right for {@code port} leaves this kernel for {@code to}: counted there if this is its home. */
    void leaving(Port port, int to) {
        if (!port.proxy()) {
            add(port, to, 1);
        }
    }

    /**
     * A send-once right for {@code port} arrived from kernel {@code from}, which named
     * {@code receiverKernel} as the receive right's place: the home counts it back; another kernel
     * reports the hop unless the home itself sent it (then it is counted already).
     */
    void arrived(Port port, int from, int receiverKernel) {
        if (!port.proxy()) {
            if (!ipc.deadHere(from)) {
                add(port, from, -1);
            }
        } else if (receiverKernel != from) {
            RefTransfer.Builder t = RefTransfer.newBuilder().setPort(RemoteRights.uid(port.uid)).setTo(ipc.net.self())
                    .setSender(from).setSendOnce(true).setToSession(ipc.net.session());
            Integer fromSession = ipc.sessionOfFrom(from); // the session of the frame that brought it
            if (fromSession != null) {
                t.setSenderSession(fromSession);
            }
            ipc.net.send(port.remote, LinkFrame.newBuilder().setTransfer(t).build());
        }
    }

    /** At the home: a report that kernel {@code t.sender} passed a send-once right to {@code t.to}. */
    void onTransfer(Port port, RefTransfer t) {
        int sender = t.getSender();
        if (!port.active || sender == ipc.net.self()) {
            return; // carried from here: counted when it left
        }
        boolean senderDead = ipc.deadHere(sender)
                || t.hasSenderSession() && ipc.earlierSession(sender, t.getSenderSession());
        if (!senderDead) {
            add(port, sender, -1);
        }
        if (!ipc.deadHere(t.getTo()) && !(t.hasToSession() && ipc.earlierSession(t.getTo(), t.getToSession()))) {
            add(port, t.getTo(), 1);
        } else if (!senderDead) {
            notify(port, 1); // it died with the kernel it went to, and no death counted it yet
        }
    }

    /** Kernel {@code kernel} died: the send-once rights it held end unused. */
    void kernelDied(Port port, int kernel) {
        Long n = port.soCounts == null ? null : port.soCounts.remove(kernel);
        if (n != null && n > 0) {
            notify(port, n);
        }
    }

    private void notify(Port port, long n) {
        for (long i = 0; i < n && port.active; i++) {
            ipc.notifications.sendOnce(new Carried(port, MsgType.PORT_SEND_ONCE));
        }
    }

    /**
     * The receive right leaves for {@code to}: the counts go with it, and the send-once rights this
     * kernel still holds (all it counts, less the other kernels') are counted at this kernel.
     */
    void migrating(Port port, PortMigration.Builder m) {
        long elsewhere = 0;
        if (port.soCounts != null) {
            for (long n : port.soCounts.values()) {
                elsewhere += n;
            }
        }
        add(port, ipc.net.self(), Math.max(0, port.sorights - elsewhere));
        port.soCounts.forEach((k, n) -> {
            KernelCount.Builder c = KernelCount.newBuilder().setKernel(k).setCount(n);
            Integer session = k == ipc.net.self() ? Integer.valueOf(ipc.net.session()) : ipc.sessionHeard(k);
            if (session != null) {
                c.setSession(session);
            }
            m.addSendOnceCounts(c);
        });
        port.soCounts = null;
    }

    /**
     * The receive right arrived here with the counts it carried: what this kernel holds is local
     * now. The rights of a kernel whose death this kernel has already processed (or of a session
     * of it earlier than one this kernel heard of) end unused here:
     * the old home counted them after it sent the right, so no death there notifies them.
     */
    void arriving(Port port, PortMigration m) {
        port.soCounts = null;
        for (KernelCount k : m.getSendOnceCountsList()) {
            if (k.getKernel() == ipc.net.self()) {
                continue;
            }
            if (!ipc.deadHere(k.getKernel()) && !(k.hasSession() && ipc.earlierSession(k.getKernel(), k.getSession()))) {
                add(port, k.getKernel(), k.getCount());
            } else if (k.getCount() > 0) {
                notify(port, k.getCount());
            }
        }
    }
}
