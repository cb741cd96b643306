package io.machxp.kernel.ipc;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * mach_msg's check, before copyin, that the names a message would make in an in-process
 * receiver are paid for. A name made in a task without an owner for a right another sent counts
 * to that right's payer ({@link Carried#payer}: the sending client, or the client whose right an
 * in-process task moves on; a copy an in-process task makes is its own, review late11 MED-N1), so
 * that no client fills the reserve of in-process tasks, or their names, through them (review
 * late4 B2). A send whose destination's receive right is in such a task on this kernel fails with
 * MACH_SEND_NO_BUFFER (GNU Mach's answer when the kernel lacks the resources for a message),
 * nothing done, if the names it would make there do not fit their payers' shares of the kernel's
 * names ({@link NameBudget#exhausted}) once copyin has freed what it frees: the message's names
 * together, not one right at a time (review linkpool LOW-1: two send-once rights with one name
 * left passed, and the receiver lost one; two moves of a two-reference name, which free it, were
 * refused at the share). Worked out on {@link DryCopyin}'s run: the sender's names it frees are
 * given back to whoever they counted to, then each name copyout would make - one per send-once
 * right, one per port whose send or receive rights the receiver does not name yet (or names
 * under a name the copyin frees, when it is the sender), counted to the first right's payer - is
 * taken in copyout's order (the reply, then the items), the check refusing if one for a payer
 * finds its share exhausted; everything is then undone. A message copyin would refuse answers
 * copyin's error, as it would without this check.
 *
 * <p>So the receiver never chose such a message: it would receive it with those rights destroyed
 * ({@link Delivery}: MACH_RCV_BODY_ERROR / MACH_RCV_HEADER_ERROR with MACH_MSG_IPC_SPACE), as
 * it still does for a message queued before its payer's share ran out, one from another kernel,
 * or names that other tasks took between the send and the receive. The dry run is work on the
 * core thread every task shares, so it runs only when a cheaper bound - every right needing a
 * name, nothing freed - finds a payer without room; when that bound fits, so does the exact count
 * (giving names back and taking fewer never exhausts a share). Core thread only.
 */
final class UnpaidNames {
    private UnpaidNames() {}

    /** Whether {@code msg} from {@code sender} to {@code dest} would make names whose payer has no room. */
    static boolean refused(NameBudget names, IpcSpace sender, Port dest, MachMessage msg) {
        IpcSpace receiver = dest == null || dest.proxy() ? null : dest.receiver;
        if (receiver == null || receiver.owner != null) {
            return false; // on another kernel, in transit, or a task that pays for its names itself
        }
        if (!boundRefuses(names, sender, receiver, msg)) {
            return false;
        }
        DryCopyin.Result dry = DryCopyin.run(sender, msg);
        if (dry.error() != null) {
            return false; // copyin answers the body's error first, as GNU would (review late11 LOW-N4, late13 LOW-6)
        }
        return !fits(names, sender, receiver, dry);
    }

    /**
     * The cheap bound: every live right the message names needs a name in the receiver (unless it
     * is a send or receive right whose port another task's receiver names already), nothing is
     * freed; whether some payer then finds no room.
     */
    private static boolean boundRefuses(NameBudget names, IpcSpace sender, IpcSpace receiver, MachMessage msg) {
        List<Object> taken = new ArrayList<>();
        try {
            for (MsgItem.Port p : rights(msg)) {
                IpcEntry e = sender.lookup(p.name());
                if (e == null || e.port() == null || e.has(PortRight.DEAD_NAME)) {
                    continue; // carried dead (no name), or copyin's error
                }
                if (p.type().delivered() != MsgType.PORT_SEND_ONCE && receiver != sender
                        && receiver.nameOf(e.port()) != null) {
                    continue;
                }
                Object payer = receiver.payerFor(Rights.payerOf(sender, p.name(), p.type()));
                if (payer != null && names.exhausted(payer)) {
                    return true;
                }
                names.taken(payer);
                taken.add(payer);
            }
            return false;
        } finally {
            taken.forEach(names::given);
        }
    }

    /** Whether the names {@code dry}'s rights make in {@code receiver} fit their payers, once its frees are given back. */
    private static boolean fits(NameBudget names, IpcSpace sender, IpcSpace receiver, DryCopyin.Result dry) {
        List<Object> given = new ArrayList<>();
        List<Object> taken = new ArrayList<>();
        try {
            for (IpcEntry e : dry.freed()) {
                names.given(e.chargedTo);
                given.add(e.chargedTo);
            }
            Set<Port> named = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Carried c : dry.carried()) {
                if (!makesName(sender, receiver, dry, c, named)) {
                    continue;
                }
                Object payer = receiver.payerFor(c.payer());
                if (payer != null && names.exhausted(payer)) {
                    return false;
                }
                names.taken(payer);
                taken.add(payer);
            }
            return true;
        } finally {
            taken.forEach(names::given);
            given.forEach(names::taken);
        }
    }

    /**
     * Whether copying {@code c} out into {@code receiver} makes a name: a send-once right always;
     * a send or receive right if the port has no name there once the sender's copyin is done, nor
     * one an earlier right of the message makes ({@code named}).
     */
    private static boolean makesName(IpcSpace sender, IpcSpace receiver, DryCopyin.Result dry, Carried c,
            Set<Port> named) {
        if (c.type() == MsgType.PORT_SEND_ONCE) {
            return true;
        }
        if (!named.add(c.port())) {
            return false;
        }
        IpcEntry there = receiver.nameOf(c.port());
        return there == null || receiver == sender && dry.freed().contains(there);
    }

    /** The reply right and the body's right items (by the sender's names; unchecked). */
    private static List<MsgItem.Port> rights(MachMessage msg) {
        List<MsgItem.Port> out = new ArrayList<>();
        MsgType replyType = msg.localType();
        if (replyType != null && msg.localPort() != Mach.MACH_PORT_NULL && msg.localPort() != Mach.MACH_PORT_DEAD) {
            out.add(new MsgItem.Port(msg.localPort(), replyType));
        }
        for (MsgItem i : msg.body()) {
            if (i instanceof MsgItem.Port p && p.type() != null && p.type() != MsgType.PORT_NAME
                    && p.name() != Mach.MACH_PORT_NULL && p.name() != Mach.MACH_PORT_DEAD) {
                out.add(p);
            }
        }
        return out;
    }
}
