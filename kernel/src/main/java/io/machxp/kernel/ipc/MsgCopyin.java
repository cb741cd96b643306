package io.machxp.kernel.ipc;

import java.util.List;

/**
 * Copyin of a message (GNU Mach's ipc_kmsg_copyin) written once: the header's rights (after
 * {@link MsgSend} checked them), then the body's items in order, each checked against what the
 * ones before it left of its name (two MOVE_SEND of a name with one user reference: the second is
 * MACH_SEND_INVALID_RIGHT) and each out-of-line region against the ones before it (a region moved
 * with deallocate, or sent twice that way: MACH_SEND_INVALID_MEMORY). What a step does is asked
 * of its {@link Effects}: {@link Live} changes the sender's space and the ports (the send),
 * {@link DryCopyin} tallies what would be left of each name and changes nothing (the payer check
 * of {@link UnpaidNames}, which must count on what the send's copyin would do). Core thread only.
 * <pre>
 *  item                                      copied in as
 *  inline data                               a copy of the bytes
 *  out-of-line region                        the message's view of it; moved away -> MACH_SEND_INVALID_MEMORY
 *  any other item without COMPLEX            -> MACH_SEND_INVALID_TYPE
 *  a right item without a disposition        -> MACH_SEND_INVALID_TYPE
 *  PORT_NAME, MACH_PORT_NULL                 the item itself (no right moves)
 *  MACH_PORT_DEAD (not MOVE_RECEIVE)         a dead right
 *  a name that allows the disposition        its carried right ({@link Rights#copyin})
 *  anything else                             -> MACH_SEND_INVALID_RIGHT
 * </pre>
 * On an error the items copied in so far stay in the caller's list (the send destroys them).
 */
final class MsgCopyin {
    private MsgCopyin() {}

    /** What copying in does, step by step, to one sender's space. */
    interface Effects {
        /** As {@link Rights#check} on what the steps before left of {@code name}. */
        KernReturn check(int name, MsgType d, boolean allowDead);

        /** Copies in a right {@link #check} accepted: its carried right. */
        Carried copyin(int name, MsgType d);

        /** The message's view of {@code ool}'s region, or null if it was moved away (by an earlier item too). */
        MsgItem.OutOfLine copy(MsgItem.OutOfLine ool);

        /** The message's copy of inline data. */
        MsgItem.Inline copy(MsgItem.Inline in);
    }

    /** The real copyin: rights leave {@code space} ({@link Rights#copyin}), data is copied. */
    record Live(Rights rights, IpcSpace space) implements Effects {
        @Override
        public KernReturn check(int name, MsgType d, boolean allowDead) {
            return rights.check(space, name, d, allowDead);
        }

        @Override
        public Carried copyin(int name, MsgType d) {
            return rights.copyin(space, name, d);
        }

        @Override
        public MsgItem.OutOfLine copy(MsgItem.OutOfLine ool) {
            try {
                return new MsgItem.OutOfLine(ool.region().copyForMessage(ool.deallocate()), false);
            } catch (IllegalStateException deallocated) {
                return null;
            }
        }

        @Override
        public MsgItem.Inline copy(MsgItem.Inline in) {
            return new MsgItem.Inline(in.data().clone());
        }
    }

    /**
     * Copies in the header's rights, which {@link MsgSend} checked: {destination, reply} (the
     * reply null if there is none, dead for MACH_PORT_DEAD); one name twice as {@link SameNameHeader}.
     */
    static Carried[] header(Effects fx, MachMessage msg) {
        if (SameNameHeader.applies(msg)) {
            return SameNameHeader.copyin(fx, msg);
        }
        Carried dest = fx.copyin(msg.remotePort(), msg.remoteType());
        int reply = msg.localPort();
        MsgType replyType = msg.localType();
        Carried replyRight = reply != Mach.MACH_PORT_NULL && reply != Mach.MACH_PORT_DEAD ? fx.copyin(reply, replyType)
                : reply == Mach.MACH_PORT_DEAD ? Carried.dead(replyType.delivered()) : null;
        return new Carried[] {dest, replyRight};
    }

    /** Copies in the body into {@code items}; on a bad item returns its error (what was copied in stays). */
    static KernReturn body(Effects fx, MachMessage msg, List<KMsg.Item> items) {
        for (MsgItem item : msg.body()) {
            if (item instanceof MsgItem.Inline in) {
                items.add(new KMsg.Data(fx.copy(in)));
                continue;
            }
            if (!msg.complex()) {
                return KernReturn.MACH_SEND_INVALID_TYPE;
            }
            if (item instanceof MsgItem.OutOfLine ool) {
                MsgItem.OutOfLine copy = fx.copy(ool);
                if (copy == null) {
                    return KernReturn.MACH_SEND_INVALID_MEMORY;
                }
                items.add(new KMsg.Data(copy));
                continue;
            }
            MsgItem.Port p = (MsgItem.Port) item;
            if (p.type() == null) {
                return KernReturn.MACH_SEND_INVALID_TYPE;
            }
            if (p.type() == MsgType.PORT_NAME || p.name() == Mach.MACH_PORT_NULL) {
                items.add(new KMsg.Data(p));
            } else if (p.name() == Mach.MACH_PORT_DEAD && p.type() != MsgType.MOVE_RECEIVE) {
                items.add(new KMsg.Right(Carried.dead(p.type().delivered())));
            } else if (p.name() != Mach.MACH_PORT_DEAD && fx.check(p.name(), p.type(), true).ok()) {
                items.add(new KMsg.Right(fx.copyin(p.name(), p.type())));
            } else {
                return KernReturn.MACH_SEND_INVALID_RIGHT;
            }
        }
        return null;
    }
}
