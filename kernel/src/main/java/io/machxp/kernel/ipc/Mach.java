package io.machxp.kernel.ipc;

/** Mach's IPC constants (GNU Mach {@code mach/port.h}, {@code mach/message.h}, {@code mach/notify.h}, {@code ipc/port.h}). */
public final class Mach {
    private Mach() {}

    public static final int MACH_PORT_NULL = 0;
    /** ~0: what a right whose port died arrives as. */
    public static final int MACH_PORT_DEAD = ~0;
    /** The most user references a send right or dead name can have (kernel-private {@code ipc/port.h}). */
    public static final int MACH_PORT_UREFS_MAX = 0xFFFF;
    /**
     * The most user references a send right can have: one fewer than a dead name's, so that the
     * dead name it becomes when its port dies can still take the reference a dead-name
     * notification adds (GNU Mach {@code ipc/ipc_right.c}: "maximum urefs for send is
     * MACH_PORT_UREFS_MAX-1", in mod_refs, insert_right and the merge of a received right).
     */
    public static final int SEND_UREFS_MAX = MACH_PORT_UREFS_MAX - 1;
    public static final int MACH_PORT_QLIMIT_DEFAULT = 5;
    /** mach_port_type's bit for a name with a dead-name request registered ({@code mach/port.h}). */
    public static final int MACH_PORT_TYPE_DNREQUEST = 0x80000000;
    public static final int MACH_PORT_QLIMIT_MAX = 16;

    // mach_msg options
    public static final int MACH_SEND_MSG = 0x1;
    public static final int MACH_RCV_MSG = 0x2;
    public static final int MACH_SEND_TIMEOUT = 0x10;
    public static final int MACH_RCV_TIMEOUT = 0x100;
    public static final int MACH_RCV_LARGE = 0x800;
    /** mach_msg's timeout when no *_TIMEOUT option is given. */
    public static final int MACH_MSG_TIMEOUT_NONE = 0;

    // header bits
    public static final int MACH_MSGH_BITS_REMOTE_MASK = 0xff;
    public static final int MACH_MSGH_BITS_LOCAL_MASK = 0xff00;
    public static final int MACH_MSGH_BITS_COMPLEX = 0x80000000;

    // notifications (octal in notify.h)
    public static final int MACH_NOTIFY_FIRST = 0100;
    public static final int MACH_NOTIFY_PORT_DELETED = 0101;
    public static final int MACH_NOTIFY_PORT_DESTROYED = 0105;
    public static final int MACH_NOTIFY_NO_SENDERS = 0106;
    public static final int MACH_NOTIFY_SEND_ONCE = 0107;
    public static final int MACH_NOTIFY_DEAD_NAME = 0110;

    // mach_port_get/set_attributes flavors (XNU's names; GNU has set_qlimit/get_receive_status)
    public static final int MACH_PORT_LIMITS_INFO = 1;
    public static final int MACH_PORT_RECEIVE_STATUS = 2;

    /** MACH_MSGH_BITS(remote, local). */
    public static int msghBits(MsgType remote, MsgType local) {
        return (remote == null ? 0 : remote.value) | (local == null ? 0 : local.value << 8);
    }
}
