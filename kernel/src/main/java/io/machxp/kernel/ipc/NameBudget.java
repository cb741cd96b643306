package io.machxp.kernel.ipc;

/**
 * The port names of every task of one kernel together, bounded: each name holds an entry, and a
 * receive right or port set a port object with its queue, so names are what a client's tasks make
 * the kernel keep. One task may hold {@link IpcSpace#MAX_NAMES}; without a bound for the kernel,
 * a client that made 65,536 tasks of 65,536 names each could ask for four billion, far past any
 * heap, and every other client of the kernel would fail with it. At the bound a call that would
 * make a name fails with KERN_RESOURCE_SHORTAGE (GNU Mach's answer when a kernel zone is
 * exhausted) and a right arriving in a message that needs one is destroyed as in a full space
 * (MACH_MSG_IPC_SPACE); names freed anywhere make room. Core thread only.
 */
final class NameBudget {
    /** Names of all tasks together, by default: about 300 MB of entries and ports at the bound. */
    static final int DEFAULT_MAX = 1 << 20;

    private int max = DEFAULT_MAX;
    private int used;

    void limit(int names) {
        if (names < 1) {
            throw new IllegalArgumentException("a kernel's budget of port names is 1 or more, not " + names);
        }
        max = names;
    }

    boolean exhausted() {
        return used >= max;
    }

    void taken() {
        used++;
    }

    void given() {
        used--;
    }

    int used() {
        return used;
    }

    int max() {
        return max;
    }
}
