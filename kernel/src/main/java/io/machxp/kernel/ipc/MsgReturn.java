package io.machxp.kernel.ipc;

/**
 * What mach_msg returns: the code and, for a receive, the message (on MACH_MSG_SUCCESS, and on
 * MACH_RCV_BODY_ERROR_IPC_SPACE with the rights that found no name as MACH_PORT_NULL; on
 * MACH_RCV_TOO_LARGE without MACH_RCV_LARGE and on MACH_RCV_HEADER_ERROR_IPC_SPACE, its header
 * with no reply right and no body). With MACH_RCV_LARGE a message too large stays queued and
 * {@code size} says how large it is. {@code detail}: a sentence on why, for a code whose cause a
 * caller cannot tell from the code alone (MACH_SEND_NO_BUFFER past a budget of queued bytes:
 * which one, whose share); null if none.
 */
public record MsgReturn(KernReturn code, MachMessage message, int size, String detail) {
    public MsgReturn(KernReturn code, MachMessage message, int size) {
        this(code, message, size, null);
    }

    public static MsgReturn of(KernReturn code) {
        return new MsgReturn(code, null, 0);
    }
}
