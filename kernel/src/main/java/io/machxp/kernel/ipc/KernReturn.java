package io.machxp.kernel.ipc;

/**
 * What a Mach IPC routine returns: {@code kern_return_t} for the mach_port_* calls and
 * {@code mach_msg_return_t} for mach_msg, with GNU Mach's names and numeric values
 * ({@code include/mach/kern_return.h}, {@code include/mach/message.h}). Hot paths return these
 * codes rather than throw; the in-process API throws {@link KernReturnException} for a failed
 * mach_port_* call.
 */
public enum KernReturn {
    KERN_SUCCESS(0),
    KERN_NO_SPACE(3),
    KERN_INVALID_ARGUMENT(4),
    KERN_RESOURCE_SHORTAGE(6),
    KERN_NOT_IN_SET(12),
    KERN_NAME_EXISTS(13),
    KERN_INVALID_NAME(15),
    KERN_INVALID_TASK(16),
    KERN_INVALID_RIGHT(17),
    KERN_INVALID_VALUE(18),
    KERN_UREFS_OVERFLOW(19),
    KERN_INVALID_CAPABILITY(20),
    KERN_RIGHT_EXISTS(21),

    MACH_SEND_INVALID_DATA(0x10000002),
    MACH_SEND_INVALID_DEST(0x10000003),
    MACH_SEND_TIMED_OUT(0x10000004),
    /** {@code MACH_SEND_TIMED_OUT | MACH_MSG_IPC_SPACE}: timed out, and rights that needed new names in the sender's full space were destroyed. */
    MACH_SEND_TIMED_OUT_IPC_SPACE(0x10002004),
    MACH_SEND_INTERRUPTED(0x10000007),
    /** {@code MACH_SEND_INTERRUPTED | MACH_MSG_IPC_SPACE}: as TIMED_OUT_IPC_SPACE, interrupted. */
    MACH_SEND_INTERRUPTED_IPC_SPACE(0x10002007),
    MACH_SEND_MSG_TOO_SMALL(0x10000008),
    MACH_SEND_INVALID_REPLY(0x10000009),
    MACH_SEND_INVALID_RIGHT(0x1000000a),
    MACH_SEND_INVALID_NOTIFY(0x1000000b),
    MACH_SEND_INVALID_MEMORY(0x1000000c),
    /** The kernel holds as many queued message bytes as it may ({@link IpcCore#DEFAULT_QUEUED_BYTES}); nothing happened. */
    MACH_SEND_NO_BUFFER(0x1000000d),
    MACH_SEND_INVALID_TYPE(0x1000000f),
    MACH_SEND_INVALID_HEADER(0x10000010),

    MACH_RCV_INVALID_NAME(0x10004002),
    MACH_RCV_TIMED_OUT(0x10004003),
    MACH_RCV_TOO_LARGE(0x10004004),
    MACH_RCV_INTERRUPTED(0x10004005),
    MACH_RCV_PORT_CHANGED(0x10004006),
    MACH_RCV_PORT_DIED(0x10004009),
    MACH_RCV_IN_SET(0x1000400a),
    /**
     * {@code MACH_RCV_HEADER_ERROR | MACH_MSG_IPC_SPACE}: the receiver's name space is full and the
     * reply right needs a name; the message was dequeued and destroyed, its header returned (reply NULL).
     */
    MACH_RCV_HEADER_ERROR_IPC_SPACE(0x1000600b),
    /**
     * {@code MACH_RCV_BODY_ERROR | MACH_MSG_IPC_SPACE}: the message was received, but the
     * receiver's name space is full: body rights that needed a new name were destroyed and arrive as MACH_PORT_NULL.
     */
    MACH_RCV_BODY_ERROR_IPC_SPACE(0x1000600c);

    /** The numeric value a Mach program sees. */
    public final int code;

    KernReturn(int code) {
        this.code = code;
    }

    public boolean ok() {
        return this == KERN_SUCCESS;
    }

    /** MACH_MSG_SUCCESS is KERN_SUCCESS (0). */
    public static final KernReturn MACH_MSG_SUCCESS = KERN_SUCCESS;

    /** The return with this numeric value; IllegalArgumentException if machxp has none. */
    public static KernReturn of(int code) {
        for (KernReturn r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        throw new IllegalArgumentException("no Mach return code 0x" + Integer.toHexString(code) + " in machxp");
    }
}
