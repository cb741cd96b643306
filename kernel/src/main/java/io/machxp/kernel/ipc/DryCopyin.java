package io.machxp.kernel.ipc;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The send's copyin ({@link MsgCopyin}) run dry: the same steps in the same order, on a tally of
 * what is left of each of the sender's names ({@link NameRights}, the rule {@link Rights#copyin}
 * writes into the entries) and of the out-of-line regions moved so far, changing nothing. For
 * {@link UnpaidNames}, whose MACH_SEND_NO_BUFFER comes only when copyin would succeed (review
 * late11 LOW-N4, late13 LOW-6: checked item by item, such messages answered MACH_SEND_NO_BUFFER
 * instead), and which counts the payers' names on what the run found ({@link Result}): the names
 * copyin would free and the rights it would carry, with their payers (review linkpool LOW-1).
 * Runs after {@link MsgSend} checked the header. Core thread only.
 */
final class DryCopyin implements MsgCopyin.Effects {
    /** One of the sender's names as the copyin goes along: its entry, and what is left of it. */
    private static final class Tally {
        final IpcEntry entry;
        NameRights left;

        Tally(IpcEntry entry) {
            this.entry = entry;
            left = NameRights.of(entry);
        }
    }

    /**
     * What a dry run found: copyin's error (null: it would succeed); if none, the rights the
     * message would carry that copyout gives names, in copyout's order (the reply, then the body's
     * items; dead ones left out), and the sender's names copyin would free.
     */
    record Result(KernReturn error, List<Carried> carried, List<IpcEntry> freed) {}

    private final IpcSpace space;
    private final Map<Integer, Tally> names = new LinkedHashMap<>();
    private final Set<OolRegion> moved = Collections.newSetFromMap(new IdentityHashMap<>());

    private DryCopyin(IpcSpace space) {
        this.space = space;
    }

    /** Copying in {@code msg} from {@code sender}, once its header's rights were checked, worked out. */
    static Result run(IpcSpace sender, MachMessage msg) {
        DryCopyin dry = new DryCopyin(sender);
        Carried reply = MsgCopyin.header(dry, msg)[1];
        List<KMsg.Item> items = new ArrayList<>(msg.body().size());
        KernReturn error = MsgCopyin.body(dry, msg, items);
        if (error != null) {
            return new Result(error, List.of(), List.of());
        }
        List<Carried> carried = new ArrayList<>();
        if (reply != null && !reply.dead()) {
            carried.add(reply);
        }
        for (KMsg.Item i : items) {
            if (i instanceof KMsg.Right r && !r.right().dead()) {
                carried.add(r.right());
            }
        }
        List<IpcEntry> freed = new ArrayList<>();
        for (Tally t : dry.names.values()) {
            if (t.left.freed()) {
                freed.add(t.entry);
            }
        }
        return new Result(null, carried, freed);
    }

    @Override
    public KernReturn check(int name, MsgType d, boolean allowDead) {
        Tally t = tally(name);
        return t == null || t.left.freed() ? KernReturn.KERN_INVALID_NAME : t.left.check(d, allowDead);
    }

    @Override
    public Carried copyin(int name, MsgType d) {
        Tally t = tally(name);
        Carried c = Rights.carried(space, t.entry, d);
        t.left = t.left.after(d);
        return c;
    }

    /** A region moved (deallocate) stays with the sender here: later items of it are refused all the same. */
    @Override
    public MsgItem.OutOfLine copy(MsgItem.OutOfLine ool) {
        if (ool.region().deallocated() || moved.contains(ool.region())) {
            return null;
        }
        if (ool.deallocate()) {
            moved.add(ool.region());
        }
        return ool;
    }

    /** Inline data is not copied: nothing reads it. */
    @Override
    public MsgItem.Inline copy(MsgItem.Inline in) {
        return in;
    }

    /** The tally of {@code name}, from its entry when first met; null if it names nothing. */
    private Tally tally(int name) {
        Tally t = names.get(name);
        if (t == null) {
            IpcEntry e = space.lookup(name);
            if (e == null) {
                return null;
            }
            t = new Tally(e);
            names.put(name, t);
        }
        return t;
    }
}
