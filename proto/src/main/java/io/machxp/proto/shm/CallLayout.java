package io.machxp.proto.shm;

/**
 * The call file: task-interface calls from task processes on the kernel's host to the kernel,
 * through shared memory instead of gRPC (docs/shared-memory.md). One file per kernel session,
 * one call slot per slot of the kernel file (a thread's or a task's), each used by the one
 * process that owns that thread or task. The request and the answer are the same protobuf
 * messages gRPC carries; an error is the google.rpc.Status gRPC would send.
 *
 * <pre>
 *  header:  0 magic | 8 doorbell (int) | 12 the core asleep (int) | 16 closed (int)
 *           20 slots (int) | 24 the kernel's pid (long; for people: clients tell the kernel's end
 *                                   by their bell connection's end, not by a pid)
 *  slot i at 64 + SLOT_SIZE*i:
 *           0 state (int: call number &lt;&lt; 3 | phase) | 4 method (int) | 8 request length (int)
 *          12 answer kind (int: REPLY or STATUS)    | 16 answer length (int)
 *          64 request bytes, then (overwriting them) answer bytes, PAYLOAD at most
 * </pre>
 *
 * <h2>A call's phases (one slot; the state word is the futex both sides sleep on)</h2>
 * <pre>
 *   IDLE/ANSWERED/CANCELLED --client writes the request, n+1|POSTED, rings the doorbell--> POSTED
 *   POSTED    --kernel's reader: CAS to TAKEN, copies the request, dispatches--> TAKEN
 *   TAKEN     --the answer: CAS to ANSWERING, writes it, ANSWERED, FUTEX_WAKE the slot--> ANSWERED
 *   POSTED or TAKEN --client gives up (deadline, interrupt): CAS to CANCELLED, rings--> CANCELLED
 * </pre>
 * The CAS decides a race between an answer and a cancel exactly as gRPC's cancellation does: the
 * client gets the answer, or the kernel learns the call was cancelled (a lock granted meanwhile
 * is unlocked again). The call number makes a late answer to a call the client gave up on fail
 * its CAS once the slot carries the next call. Ringing: the client adds one to the doorbell and,
 * only if the kernel's core said it is asleep, writes a byte to the session's bell socket (a Unix
 * domain socket beside the file, {@link #bellFile}), which the core's event loop selects with its
 * other sockets; the core says so, then looks at the doorbell again before it blocks in its select
 * (both full fences: no lost wake-up). The core itself takes the posted calls, on its own thread:
 * no thread between the doorbell and the core.
 */
public final class CallLayout {
    public static final long MAGIC = 0x4d41434858504331L; // "MACHXPC1"
    public static final int HEADER = 64;
    public static final int DOORBELL = 8;
    public static final int ASLEEP = 12;
    public static final int CLOSED = 16;
    public static final int SLOTS = 20;
    public static final int KERNEL_PID = 24;

    public static final int SLOT_SIZE = 1024;
    public static final int METHOD = 4;
    public static final int REQUEST_LENGTH = 8;
    public static final int ANSWER_KIND = 12;
    public static final int ANSWER_LENGTH = 16;
    public static final int PAYLOAD_AT = 64;
    /** The largest request or answer a slot carries; a call that needs more goes over gRPC. */
    public static final int PAYLOAD = SLOT_SIZE - PAYLOAD_AT;

    public static final int IDLE = 0;
    public static final int POSTED = 1;
    public static final int TAKEN = 2;
    public static final int ANSWERING = 3;
    public static final int ANSWERED = 4;
    public static final int CANCELLED = 5;
    public static final int PHASE = 7;

    public static final int REPLY = 0;
    public static final int STATUS = 1;

    /** The task-interface methods a slot carries (every other one is gRPC only). */
    public static final int VM_LOCK_FUTEX = 1;
    public static final int VM_TRYLOCK_FUTEX = 2;
    public static final int VM_UNLOCK_FUTEX = 3;
    public static final int VM_FUTEX_CONSISTENT = 4;
    public static final int VM_READ = 5;
    public static final int VM_WRITE = 6;
    public static final int VM_COMPARE_AND_SWAP = 7;
    public static final int VM_FETCH_ADD = 8;

    private CallLayout() {}

    public static long fileSize(int slots) {
        return HEADER + (long) slots * SLOT_SIZE;
    }

    /**
     * The bell socket of call file {@code callFile}: the same name with "bell" for its last
     * "calls" (a Unix domain socket; a ring is one byte written to it).
     */
    public static String bellFile(String callFile) {
        return callFile.endsWith("calls") ? callFile.substring(0, callFile.length() - "calls".length()) + "bell" : callFile + "-bell";
    }

    public static int slot(int i) {
        return HEADER + i * SLOT_SIZE;
    }

    public static int state(int call, int phase) {
        return call << 3 | phase;
    }

    public static int call(int state) {
        return state >>> 3;
    }

    public static int phase(int state) {
        return state & PHASE;
    }
}
