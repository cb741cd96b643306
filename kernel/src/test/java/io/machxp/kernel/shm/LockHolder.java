package io.machxp.kernel.shm;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A process that holds an exclusive lock on a file until its standard input ends, as a live
 * kernel holds its session's lock (a kernel of another process, perhaps another PID namespace).
 * Prints "locked" once it holds it. With a second argument {@code try}: tries once, prints
 * "locked" or "held" (another process holds it) and ends.
 */
public final class LockHolder {
    private LockHolder() {}

    public static void main(String[] args) throws Exception {
        try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.WRITE)) {
            if (args.length > 1 && args[1].equals("try")) {
                FileLock taken = ch.tryLock();
                System.out.println(taken == null ? "held" : "locked");
                return;
            }
            ch.lock();
            System.out.println("locked");
            System.out.flush();
            while (System.in.read() >= 0) {
                // until the test closes our input
            }
        }
    }
}
