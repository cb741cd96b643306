package io.machxp.kernel.shm;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Another kernel's process removing dead kernels' directories from a shared directory
 * ({@code args[0]}), as a kernel starting beside another does; prints "removed" when done.
 */
public final class StaleRemover {
    private StaleRemover() {}

    public static void main(String[] args) throws Exception {
        Path shared = Path.of(args[0]);
        SessionDirectory.removeStale(shared, Files.getOwner(shared));
        System.out.println("removed");
    }
}
