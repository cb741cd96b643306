package io.machxp.kernel.ipc;

/**
 * {@code mach_port_right_t}: the kinds of right a name can denote, with their values and the
 * {@code MACH_PORT_TYPE_*} bit of each ({@code 1 << (right + 16)}), as in {@code mach/port.h}.
 */
public enum PortRight {
    SEND(0),
    RECEIVE(1),
    SEND_ONCE(2),
    PORT_SET(3),
    DEAD_NAME(4);

    public final int value;

    PortRight(int value) {
        this.value = value;
    }

    /** MACH_PORT_TYPE_SEND 0x10000 .. MACH_PORT_TYPE_DEAD_NAME 0x100000. */
    public int typeBit() {
        return 1 << (value + 16);
    }

    /** The right with this value, or null (a bad value is KERN_INVALID_VALUE to the caller). */
    public static PortRight of(int value) {
        return value >= 0 && value < ALL.length ? ALL[value] : null;
    }

    private static final PortRight[] ALL = values();
}
