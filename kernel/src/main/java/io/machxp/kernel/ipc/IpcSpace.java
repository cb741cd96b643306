package io.machxp.kernel.ipc;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A task's port name space: 32-bit names to rights. MACH_PORT_NULL (0) and MACH_PORT_DEAD (~0)
 * are never names; new names are handed out in increasing order, skipping those in use, so runs
 * are repeatable. A port has at most one name for its send and receive rights here
 * ({@link #nameOf}); each send-once right has a name of its own. Core thread only.
 *
 * <p>A name counts in the kernel's budget ({@link NameBudget}) to the task's owner; in a task
 * without one (in-process), a name made for a right another sent counts to that right's payer
 * ({@link Carried#payer}: the sending client, here or on another kernel, or the kernel whose link
 * brought it), until the name is freed, whichever way (deallocated, destroyed, moved or used, the
 * task's end): review late4 B2.
 *
 * <p>Dead names appear lazily, as in GNU Mach: an entry for a send or send-once right whose port
 * has died turns into a dead name when it is next looked up.
 */
final class IpcSpace {
    /**
     * Names one task may hold at once: a bound on what a task can make its kernel keep. Every way
     * a name is made holds it: allocate (KERN_NO_SPACE), insert_right and extract_right
     * (KERN_NO_SPACE), request_notification returning a previous right (KERN_NO_SPACE), a
     * received message (MACH_RCV_HEADER_ERROR / MACH_RCV_BODY_ERROR with MACH_MSG_IPC_SPACE).
     */
    static final int MAX_NAMES = 1 << 16;

    final long taskId;
    /** The names of every task of the kernel together ({@link NameBudget}). */
    private final NameBudget budget;
    /** The client whose part of the budget this task's names count in ({@link NameBudget}); null: the kernel's alone. */
    final Object owner;
    /**
     * The client peer the owner belongs to ({@link NameOwner#peer}; an owner that is not a NameOwner
     * is its own peer; null: none): what this task's queued message bytes count to ({@link QueuedShares}).
     */
    final Object peer;
    boolean active = true;
    /**
     * Bytes of messages this task sent that are queued on the kernel's ports now, or carried to
     * another kernel and not finished with there (its share of the budget; counted to {@link #peer} too).
     */
    long queuedBytes;
    private final Map<Integer, IpcEntry> entries = new TreeMap<>(Integer::compareUnsigned);
    private final Map<Port, IpcEntry> byPort = new HashMap<>();
    private int nextName = 0x100;

    IpcSpace(long taskId, NameBudget budget) {
        this(taskId, budget, null);
    }

    IpcSpace(long taskId, NameBudget budget, Object owner) {
        this.taskId = taskId;
        this.budget = budget;
        this.owner = owner;
        this.peer = owner instanceof NameOwner o ? o.peer() : owner;
    }

    /** The entry of {@code name}, a dead name if its port died; null if the name denotes nothing. */
    IpcEntry lookup(int name) {
        IpcEntry e = entries.get(name);
        if (e != null && (e.has(PortRight.SEND) || e.has(PortRight.SEND_ONCE)) && !e.has(PortRight.RECEIVE)
                && !e.port().active) {
            if (e.has(PortRight.SEND)) {
                byPort.remove(e.port());
            }
            e.becomeDead();
        }
        return e;
    }

    /** The entry holding this port's send or receive rights here, or null. */
    IpcEntry nameOf(Port port) {
        return byPort.get(port);
    }

    /** A new entry under an unused name, counted to the task's owner. */
    IpcEntry allocate() {
        return allocate(Mach.MACH_PORT_NULL, null);
    }

    /** A new entry under {@code name}, which must be unused, counted to the task's owner. */
    IpcEntry allocate(int name) {
        return allocate(name, null);
    }

    /**
     * A new entry under {@code name} (MACH_PORT_NULL: an unused one), counted to the task's owner,
     * or if it has none to {@code payer} ({@link #payerFor}).
     */
    IpcEntry allocate(int name, Object payer) {
        if (name == Mach.MACH_PORT_NULL) {
            while (nextName == Mach.MACH_PORT_NULL || nextName == Mach.MACH_PORT_DEAD || entries.containsKey(nextName)) {
                nextName++;
            }
            name = nextName++;
        }
        IpcEntry e = new IpcEntry(name, payerFor(payer));
        entries.put(name, e);
        budget.taken(e.chargedTo);
        return e;
    }

    /** Whom a name made here for a right paid by {@code payer} counts to: the owner, if the task has one. */
    Object payerFor(Object payer) {
        return owner != null ? owner : payer;
    }

    boolean inUse(int name) {
        return entries.containsKey(name);
    }

    /** Records that {@code e} now holds send or receive rights for {@code port}. */
    void bind(IpcEntry e, Port port) {
        e.object = port;
        byPort.put(port, e);
    }

    /** The entry no longer holds send or receive rights for its port. */
    void unbind(IpcEntry e) {
        if (e.port() != null && byPort.get(e.port()) == e) {
            byPort.remove(e.port());
        }
    }

    /**
     * mach_port_rename's step: the rights of {@code e} move to a new entry under {@code name}
     * (unused), and {@code e}'s name is freed; returns the new entry.
     */
    IpcEntry rename(IpcEntry e, int name) {
        IpcEntry n = allocate(name, e.chargedTo);
        n.object = e.object;
        n.type = e.type;
        n.urefs = e.urefs;
        n.donation = e.donation;
        entries.remove(e.name);
        budget.given(e.chargedTo);
        if (e.port() != null && byPort.get(e.port()) == e) {
            byPort.put(e.port(), n);
        }
        return n;
    }

    /** Frees the name. */
    void free(IpcEntry e) {
        e.endDonation();
        unbind(e);
        if (entries.remove(e.name) != null) {
            budget.given(e.chargedTo);
        }
    }

    /** Every entry, in name order (a copy). */
    java.util.List<IpcEntry> all() {
        return java.util.List.copyOf(entries.values());
    }

    int size() {
        return entries.size();
    }

    /**
     * Whether no new name can be made here: the space holds {@link #MAX_NAMES} names, or the
     * kernel's tasks together hold its budget, or the owner's tasks their part of it ({@link NameBudget}).
     */
    boolean full() {
        return fullFor(null);
    }

    /** As {@link #full}, for a name that would be made for carried right {@code c} (its payer's part, if the task has no owner). */
    boolean full(Carried c) {
        return fullFor(c == null ? null : c.payer());
    }

    /** As {@link #full}, for a name counted to {@code payerFor(payer)}. */
    boolean fullFor(Object payer) {
        return entries.size() >= MAX_NAMES || budget.exhausted(payerFor(payer));
    }

    /**
     * As {@link #fullFor}, for a call that frees {@code freed}'s name before it makes the new one:
     * the freed entry makes room in the space's bound and the kernel's, and in a share only if it
     * counted there ({@link NameBudget#exhaustedOnceGiven}).
     */
    boolean fullOnceFreed(Object payer, IpcEntry freed) {
        return entries.size() - 1 >= MAX_NAMES || budget.exhaustedOnceGiven(payerFor(payer), freed.chargedTo);
    }

    /**
     * What a call refused by {@link #fullOnceFreed} answers: the task's bound with the freed name
     * gone (KERN_NO_SPACE), or else the kernel's names or a share (KERN_RESOURCE_SHORTAGE).
     */
    KernReturn fullOnceFreedReturn() {
        return entries.size() - 1 >= MAX_NAMES ? KernReturn.KERN_NO_SPACE : KernReturn.KERN_RESOURCE_SHORTAGE;
    }

    /** What a call that would make a name here answers when {@link #full}: the task's bound, or the kernel's. */
    KernReturn fullReturn() {
        return entries.size() >= MAX_NAMES ? KernReturn.KERN_NO_SPACE : KernReturn.KERN_RESOURCE_SHORTAGE;
    }
}
