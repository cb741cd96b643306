package io.machxp.kernel.ipc;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What copying in a message's body would answer, worked out before anything is copied in: the
 * error {@code MsgSend.copyinBody} would return, or null. Copyin takes the header's rights first,
 * then the body's items in order, each checked against what the ones before it left of its name
 * (two MOVE_SEND of a name with one user reference: the second is MACH_SEND_INVALID_RIGHT) and
 * each out-of-line region against the ones before it (a region moved with deallocate, or one
 * sent twice that way: MACH_SEND_INVALID_MEMORY). So this follows the same steps on a tally of
 * what is left of each name, changing nothing. For {@link UnpaidNames}, whose
 * MACH_SEND_NO_BUFFER comes only when copyin would succeed (review late11 LOW-N4, late13 LOW-6:
 * checked item by item, such messages answered MACH_SEND_NO_BUFFER instead), and which counts
 * the payers' names on what the run found ({@link Result}): the names copyin would free and the
 * rights it would carry, with their payers (review linkpool LOW-1). Core thread only.
 */
final class DryCopyin {
    /** What is left of one of the sender's names as the copyin goes along. */
    private static final class Left {
        final IpcEntry entry;
        boolean receive;
        boolean send;
        boolean sendOnce;
        boolean dead;
        int urefs;
        boolean freed;

        Left(IpcEntry e) {
            entry = e;
            receive = e.has(PortRight.RECEIVE);
            send = e.has(PortRight.SEND);
            sendOnce = e.has(PortRight.SEND_ONCE);
            dead = e.has(PortRight.DEAD_NAME);
            urefs = e.urefs;
        }

        /** As {@link Rights#check} with dead names allowed. */
        boolean allows(MsgType d) {
            if (freed) {
                return false;
            }
            PortRight needed = needed(d);
            return switch (needed) {
                case RECEIVE -> receive;
                case SEND -> send || dead;
                default -> sendOnce || dead;
            };
        }

        /**
         * The right copying in {@code d} carries ({@link Rights#copyin}, whose payer is
         * {@link Rights#payerOf}): dead if the name is; asked before {@link #take}.
         */
        Carried carried(MsgType d, Object owner) {
            if (dead) {
                return Carried.dead(d.delivered());
            }
            boolean own = d == MsgType.MAKE_SEND || d == MsgType.MAKE_SEND_ONCE || d == MsgType.COPY_SEND;
            return new Carried(entry.port(), d.delivered(), own ? owner : entry.chargedTo);
        }

        /** What {@link Rights#copyin} does to the name. */
        void take(MsgType d) {
            if (dead) {
                if (d != MsgType.COPY_SEND && --urefs == 0) {
                    freed = true;
                }
                return;
            }
            switch (d) {
                case MOVE_RECEIVE -> {
                    receive = false;
                    freed = !send;
                }
                case MOVE_SEND -> {
                    if (--urefs == 0) {
                        send = false;
                        freed = !receive;
                    }
                }
                case MOVE_SEND_ONCE -> freed = true;
                default -> {} // MAKE_SEND, MAKE_SEND_ONCE, COPY_SEND leave the name as it was
            }
        }

        private static PortRight needed(MsgType d) {
            return switch (d) {
                case MOVE_RECEIVE, MAKE_SEND, MAKE_SEND_ONCE -> PortRight.RECEIVE;
                case MOVE_SEND, COPY_SEND -> PortRight.SEND;
                default -> PortRight.SEND_ONCE;
            };
        }
    }

    /**
     * What a dry run found: copyin's error (null: it would succeed); if none, the rights the
     * message would carry that copyout gives names, in copyout's order (the reply, then the body's
     * items; dead ones left out), and the sender's names copyin would free.
     */
    record Result(KernReturn error, List<Carried> carried, List<IpcEntry> freed) {}

    private final IpcSpace space;
    private final Map<Integer, Left> names = new HashMap<>();
    private final Set<OolRegion> moved = Collections.newSetFromMap(new IdentityHashMap<>());
    private final List<Carried> carried = new ArrayList<>();

    private DryCopyin(IpcSpace space) {
        this.space = space;
    }

    /**
     * The error copying in {@code msg}'s body from {@code sender} would answer once its header's
     * rights (which {@code MsgSend} checked) were taken, or null if it would succeed.
     */
    static KernReturn bodyError(IpcSpace sender, MachMessage msg) {
        return run(sender, msg).error();
    }

    /** Copying in {@code msg} from {@code sender}, once its header's rights were checked, worked out. */
    static Result run(IpcSpace sender, MachMessage msg) {
        DryCopyin dry = new DryCopyin(sender);
        dry.header(msg);
        KernReturn error = dry.body(msg);
        if (error != null) {
            return new Result(error, List.of(), List.of());
        }
        List<IpcEntry> freed = new ArrayList<>();
        for (Left left : dry.names.values()) {
            if (left.freed) {
                freed.add(left.entry);
            }
        }
        return new Result(null, dry.carried, freed);
    }

    private void header(MachMessage msg) {
        takeChecked(msg.remotePort(), msg.remoteType(), false);
        int reply = msg.localPort();
        if (msg.localType() != null && reply != Mach.MACH_PORT_NULL && reply != Mach.MACH_PORT_DEAD) {
            takeChecked(reply, msg.localType(), true);
        }
    }

    /**
     * A right the caller checked: what taking it leaves, and the reply's carried right (taken
     * after the destination: a copy of what the destination moved, as {@link SameNameHeader}).
     */
    private void takeChecked(int name, MsgType d, boolean reply) {
        Left left = left(name);
        if (left != null) {
            if (reply) {
                carry(left.carried(d, space.owner));
            }
            left.take(d);
        }
    }

    private void carry(Carried c) {
        if (!c.dead()) {
            carried.add(c);
        }
    }

    private KernReturn body(MachMessage msg) {
        for (MsgItem item : msg.body()) {
            if (item instanceof MsgItem.Inline) {
                continue;
            }
            if (!msg.complex()) {
                return KernReturn.MACH_SEND_INVALID_TYPE;
            }
            if (item instanceof MsgItem.OutOfLine ool) {
                if (ool.region().deallocated() || moved.contains(ool.region())) {
                    return KernReturn.MACH_SEND_INVALID_MEMORY;
                }
                if (ool.deallocate()) {
                    moved.add(ool.region());
                }
                continue;
            }
            MsgItem.Port p = (MsgItem.Port) item;
            if (p.type() == null) {
                return KernReturn.MACH_SEND_INVALID_TYPE;
            }
            if (p.type() == MsgType.PORT_NAME || p.name() == Mach.MACH_PORT_NULL
                    || (p.name() == Mach.MACH_PORT_DEAD && p.type() != MsgType.MOVE_RECEIVE)) {
                continue;
            }
            Left left = p.name() == Mach.MACH_PORT_DEAD ? null : left(p.name());
            if (left == null || !left.allows(p.type())) {
                return KernReturn.MACH_SEND_INVALID_RIGHT;
            }
            carry(left.carried(p.type(), space.owner));
            left.take(p.type());
        }
        return null;
    }

    /** The tally of {@code name}, from its entry when first met; null if it names nothing. */
    private Left left(int name) {
        Left left = names.get(name);
        if (left == null) {
            IpcEntry e = space.lookup(name);
            if (e == null) {
                return null;
            }
            left = new Left(e);
            names.put(name, left);
        }
        return left;
    }
}
