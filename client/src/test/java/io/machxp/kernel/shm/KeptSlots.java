package io.machxp.kernel.shm;

/**
 * Tests only: the client's tests' way to {@link SharedMemory}'s package-private seam for how many
 * slots of pages handed away a page file keeps allocated (in the test sources, in the kernel's
 * package, as {@link RefusedSpace}).
 */
public final class KeptSlots {
    private KeptSlots() {}

    /** Page files made from now keep {@code slots} (0: a handed-away page's slot is punched at once). */
    public static void keep(int slots) {
        SharedMemory.keptSlots = slots;
    }

    /** Page files made from now keep the production bound. */
    public static void reset() {
        SharedMemory.keptSlots = SharedPages.KEPT_SLOTS;
    }
}
