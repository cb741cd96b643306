package io.machxp.kernel.shm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a kernel may share memory in a directory ({@code --shm-dir}), checked once at startup
 * (review N1): it must be owned by root or by the kernel's own user, and if its group or others
 * can write it, it must be sticky ({@code /dev/shm} and {@code /tmp} are {@code rwxrwxrwt}, owned
 * by root). Otherwise another user could rename the kernel's session directory away and put a
 * symlink (or a FIFO) in its place. A directory that fails the check is not used: the kernel's
 * task processes make their calls over gRPC.
 */
final class SharedDirectoryCheck {
    private static final int STICKY = 01000;
    private static final int GROUP_OR_OTHERS_WRITE = 0022;

    private SharedDirectoryCheck() {}

    /** Null if {@code dir} may be used; else why not and what to do (one sentence). */
    static String refusal(Path dir) {
        int owner;
        int mode;
        int self;
        try {
            owner = (Integer) Files.getAttribute(dir, "unix:uid");
            mode = (Integer) Files.getAttribute(dir, "unix:mode");
            self = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | RuntimeException e) {
            return "cannot check the shared memory directory " + dir + " (" + e + "); task processes make their calls "
                    + "over gRPC: give a directory of your own or of root with --shm-dir, or --shm-dir none";
        }
        if (owner != 0 && owner != self) {
            return "the shared memory directory " + dir + " belongs to uid " + owner + ", neither root nor this "
                    + "kernel's user (uid " + self + "), who could swap the kernel's files for links; task processes "
                    + "make their calls over gRPC: give a directory of your own or of root with --shm-dir (such as /dev/shm)";
        }
        if ((mode & GROUP_OR_OTHERS_WRITE) != 0 && (mode & STICKY) == 0) {
            return "the shared memory directory " + dir + " can be written by others but is not sticky (mode "
                    + String.format("%04o", mode & 07777) + "), so they could swap the kernel's files for links; task "
                    + "processes make their calls over gRPC: chmod +t " + dir + ", or give another --shm-dir (such as /dev/shm)";
        }
        return null;
    }
}
