package io.machxp.kernel.shm;

import java.nio.file.Path;
import java.util.function.Predicate;

/**
 * Tests only: the client's tests' way to {@link SharedMemory}'s package-private seam for a
 * directory without room (review F11: it was a public static method of the kernel's production
 * code). In the test sources, in the kernel's package.
 */
public final class RefusedSpace {
    private RefusedSpace() {}

    /** From now on the files {@code refuse} accepts cannot be allocated (see the seam); null: none. */
    public static void refuse(Predicate<Path> refuse) {
        SharedMemory.refuseSpace = refuse;
    }
}
