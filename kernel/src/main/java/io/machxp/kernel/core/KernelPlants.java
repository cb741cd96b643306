package io.machxp.kernel.core;

/**
 * Bugs planted in the kernel core's logic, to prove that the chaos checker finds them; for tests
 * only (nothing outside tests sets one: the CLI and the runtime always run {@link #NONE}).
 *
 * <p>Each method is one decision of the core, called at the one place the core makes it, with
 * the correct answer as its argument; {@link #NONE} returns it unchanged (a final, monomorphic
 * call the JIT inlines away). A test plants a bug by overriding one method to return a wrong
 * answer - the bug then lives inside the core's logic, not on the wire around it.
 */
public interface KernelPlants {
    /** The correct kernel: every decision as computed. */
    KernelPlants NONE = new KernelPlants() { };

    /** Bugs planted in the kernel's IPC core ({@link io.machxp.kernel.ipc.IpcPlants}); none by default. */
    default io.machxp.kernel.ipc.IpcPlants ipc() {
        return io.machxp.kernel.ipc.IpcPlants.NONE;
    }

    /**
     * When a task's call or a pager message runs: whether the lease has run out ({@code over}).
     * Planted: false - the lease is checked only by its timer, so what queued up in a pause runs.
     */
    default boolean leaseOverWhenRun(boolean over) {
        return over;
    }

    /**
     * A thread ended owning a futex: whether it passes on with OWNER_DIED ({@code ownerDied}).
     * Planted: false - the next owner is not told (robust futexes broken).
     */
    default boolean ownerDiedPassedOn(boolean ownerDied) {
        return ownerDied;
    }

    /**
     * An owner leaves a futex that local threads wait for: whether the next of them gets it
     * ({@code handOff}). Planted: false - the futex is left free and its waiters sleep on (a lost
     * wake-up).
     */
    default boolean handsOffLocally(boolean handOff) {
        return handOff;
    }

    /**
     * The priority an owner inherits from waiters on other kernels (what the pager sent with
     * relinquish_futex). Planted: 0 - priority inheritance stops at the kernel's edge.
     */
    default int inheritedFromOtherKernels(int priority) {
        return priority;
    }

    /**
     * The kernel stopped using a pager: whether it drops that pager's resident pages ({@code drop}).
     * Planted: false - a lost pager's pages are still read and written through the core (xp-spec A.24).
     */
    default boolean dropsLostPagersPages(boolean drop) {
        return drop;
    }

    /**
     * When the kernel's lease now ends (System.nanoTime), as computed from the keepalives answered.
     * Planted: never - the kernel goes on handing out cached futexes after its lease ran out.
     */
    default long leaseEnds(long nanos) {
        return nanos;
    }

    /**
     * A lock_request for a resident page: whether it takes write access away ({@code forbid}:
     * a flush, or a lock value with WRITE). Planted: false - the page stays writable.
     */
    default boolean writeForbiddenByLockRequest(boolean forbid) {
        return forbid;
    }

    /**
     * Whether the next owner among local waiters of equal priority is the first to have come
     * ({@code inOrder}). Planted: false - the last one comes first.
     */
    default boolean arrivalOrderAmongEquals(boolean inOrder) {
        return inOrder;
    }

    /**
     * The errno of a task call at an address outside every mapping of its task ({@code errno}:
     * EINVAL). Planted: another one.
     */
    default io.machxp.proto.task.Errno unmappedAddress(io.machxp.proto.task.Errno errno) {
        return errno;
    }

    /**
     * A page of a memory_object_lock_request's range: whether the request applies to it
     * ({@code applies}: every page). Planted: only the {@code first} page - the rest keep their access.
     */
    default boolean lockRangePage(boolean applies, boolean first) {
        return applies;
    }

    /**
     * A clean page the kernel drops on its own: whether it goes back with its data ({@code precious}).
     * Planted: false - precious pages are dropped silently.
     */
    default boolean preciousReturned(boolean precious) {
        return precious;
    }

    /**
     * Whether a welcome of no new session (a resume's, a reclaim's) keeps the list of objects in
     * dispute that pager gave ({@code keeps}; it adds what it lists, xp-spec 2.8). Planted: false -
     * the list goes at a resume, and the kernel maps a listed object again (dir2-review M1).
     */
    default boolean disputesKept(boolean keeps) {
        return keeps;
    }
}
