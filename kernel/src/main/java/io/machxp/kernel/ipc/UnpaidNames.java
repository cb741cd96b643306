package io.machxp.kernel.ipc;

import java.util.ArrayList;
import java.util.List;

/**
 * mach_msg's check, before copyin, that the names a message would make in an in-process
 * receiver are paid for. A name made in a task without an owner for a right another sent counts
 * to that right's payer ({@link Carried#payer}: the sending client, or the client whose right an
 * in-process task moves on; a copy an in-process task makes is its own, review late11 MED-N1), so
 * that no client fills the reserve of in-process tasks, or their names, through them (review
 * late4 B2). A send whose destination's receive right is in such a
 * task on this kernel, carrying a right that would need a new name there for a payer whose share
 * of the kernel's names is used up ({@link NameBudget#exhausted}) - unless the right is moved out
 * of its last name, which frees one of the payer's names - fails with
 * MACH_SEND_NO_BUFFER (GNU Mach's answer when the kernel lacks the resources for a message),
 * nothing done; but a message copyin would refuse answers copyin's error, as it would without
 * this check ({@link DryCopyin}: every item against what the header and the items before it
 * left). The receiver never chose such a message: it would receive it with those rights
 * destroyed ({@link Delivery}: MACH_RCV_BODY_ERROR / MACH_RCV_HEADER_ERROR with
 * MACH_MSG_IPC_SPACE), as it still does for a message queued before its payer's share ran out,
 * or one that comes from another kernel. Core thread only.
 */
final class UnpaidNames {
    private UnpaidNames() {}

    /** Whether {@code msg} from {@code sender} to {@code dest} would make names whose payer has no room. */
    static boolean refused(NameBudget names, IpcSpace sender, Port dest, MachMessage msg) {
        IpcSpace receiver = dest == null || dest.proxy() ? null : dest.receiver;
        if (receiver == null || receiver.owner != null) {
            return false; // on another kernel, in transit, or a task that pays for its names itself
        }
        if (DryCopyin.bodyError(sender, msg) != null) {
            return false; // copyin answers the body's error first, as GNU would (review late11 LOW-N4, late13 LOW-6)
        }
        for (MsgItem.Port p : rights(msg)) {
            Object payer = Rights.payerOf(sender, p.name(), p.type());
            IpcEntry e = sender.lookup(p.name());
            if (payer != null && e != null && e.port() != null && !freesItsName(e, p.type()) && names.exhausted(payer)
                    && Rights.needsName(receiver, e.port(), p.type().delivered())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether copying in {@code d} from {@code e} frees its name, for the same payer as the new one
     * ({@link Rights#payerOf}): a right moved out of its last name costs its payer nothing more.
     */
    private static boolean freesItsName(IpcEntry e, MsgType d) {
        return switch (d) {
            case MOVE_SEND_ONCE -> true;
            case MOVE_RECEIVE -> !e.has(PortRight.SEND);
            case MOVE_SEND -> e.urefs == 1 && !e.has(PortRight.RECEIVE);
            default -> false;
        };
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
