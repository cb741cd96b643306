package io.machxp.kernel.ipc;

/**
 * Bugs planted in the IPC core's logic, to prove that the IPC chaos checker finds them; for tests
 * only (nothing outside tests sets one: the CLI and the runtime always run {@link #NONE}).
 *
 * <p>As {@code io.machxp.kernel.core.KernelPlants}: each method is one decision of the core,
 * called at the one place the core makes it, with the correct answer as its argument; {@link #NONE}
 * returns it unchanged. A test plants a bug by overriding one method.
 */
public interface IpcPlants {
    /** The correct core: every decision as computed. */
    IpcPlants NONE = new IpcPlants() { };

    /**
     * A message admitted to a port with messages already queued: whether it goes to the end of the
     * queue ({@code atTheEnd}). Planted: false - it jumps the queue (per-sender order broken).
     */
    default boolean queuedAtTheEnd(boolean atTheEnd) {
        return atTheEnd;
    }

    /**
     * A send right received into a name that already holds one: the name's user references after
     * the merge ({@code urefs}). Planted: unchanged - the right received is lost.
     */
    default int urefsAfterMerge(int urefs) {
        return urefs;
    }

    /**
     * A port died and a dead-name request's name is a dead name: whether DEAD_NAME is sent
     * ({@code notify}). Planted: false - the request's send-once right is destroyed instead.
     */
    default boolean deadNameSent(boolean notify) {
        return notify;
    }

    /**
     * A send-once right destroyed unused, its port alive: whether SEND_ONCE is sent to its port
     * ({@code notify}). Planted: false - an RPC whose request was destroyed never hears of it.
     */
    default boolean sendOnceSent(boolean notify) {
        return notify;
    }

    /**
     * A message arrived from another kernel: how many times it is queued here ({@code times}: 1).
     * Planted: 2 for a message without rights - delivered twice.
     */
    default int timesQueuedFromLink(int times) {
        return times;
    }

    /**
     * A message from another kernel was received or destroyed here: whether its sending kernel is
     * told ({@code answer}, a LinkConsumed). Planted: false - the sender's budget never gets the
     * bytes back (rule 8).
     */
    default boolean consumedAnswered(boolean answer) {
        return answer;
    }

    /**
     * A kernel renews its IPC session and looks at a record of a forgotten uid that is a death:
     * whether the record stays ({@code kept}: only for a port's own death, not for a proxy that
     * died because its kernel was declared dead here). Planted: true - the renewal's own kernel
     * deaths stay deaths, and a live port of another kernel arrives as a dead name afterwards.
     */
    default boolean deathKeptAtRenewal(boolean kept) {
        return kept;
    }

    /**
     * A uid of this kernel's origin: whether it counts as its own, a port it would know if it lived
     * ({@code sameSession}: the uid is of this IPC session; {@code earlierSession}: of an earlier
     * one). Planted: sameSession || earlierSession - a port made before a renewal whose receive
     * right moved to another kernel arrives as a dead name.
     */
    default boolean ownUid(boolean sameSession, boolean earlierSession) {
        return sameSession;
    }
}
