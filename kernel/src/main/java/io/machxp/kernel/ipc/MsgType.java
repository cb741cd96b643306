package io.machxp.kernel.ipc;

/**
 * {@code mach_msg_type_name_t} for rights: what a sender asks the kernel to do with a right it
 * names (a disposition) and what the receiver gets (MOVE_RECEIVE, MOVE_SEND and MOVE_SEND_ONCE
 * double as PORT_RECEIVE, PORT_SEND and PORT_SEND_ONCE). Values from {@code mach/message.h}.
 *
 * <pre>
 *  disposition      sender needs            sender after     receiver gets
 *  MOVE_RECEIVE 16  receive                 loses it         PORT_RECEIVE
 *  MOVE_SEND 17     send or dead name       urefs - 1        PORT_SEND
 *  MOVE_SEND_ONCE 18 send-once or dead name loses it         PORT_SEND_ONCE
 *  COPY_SEND 19     send or dead name       unchanged        PORT_SEND
 *  MAKE_SEND 20     receive                 mscount + 1      PORT_SEND
 *  MAKE_SEND_ONCE 21 receive                unchanged        PORT_SEND_ONCE
 *  PORT_NAME 15     nothing: a bare name, no right moves
 * </pre>
 */
public enum MsgType {
    PORT_NAME(15),
    MOVE_RECEIVE(16),
    MOVE_SEND(17),
    MOVE_SEND_ONCE(18),
    COPY_SEND(19),
    MAKE_SEND(20),
    MAKE_SEND_ONCE(21);

    /** What a receiver finds for a received receive right. */
    public static final MsgType PORT_RECEIVE = MOVE_RECEIVE;
    /** What a receiver finds for a received send right. */
    public static final MsgType PORT_SEND = MOVE_SEND;
    /** What a receiver finds for a received send-once right. */
    public static final MsgType PORT_SEND_ONCE = MOVE_SEND_ONCE;

    public final int value;

    MsgType(int value) {
        this.value = value;
    }

    /** The type with this value, or null. */
    public static MsgType of(int value) {
        int i = value - PORT_NAME.value;
        return i >= 0 && i < BY_VALUE.length ? BY_VALUE[i] : null;
    }

    /** By value - 15 (the values are 15-21 in order): looked up for every right in every message. */
    private static final MsgType[] BY_VALUE = values();

    /** MACH_MSG_TYPE_PORT_ANY_SEND: the dispositions allowed in a header (17-21). */
    public boolean anySend() {
        return value >= MOVE_SEND.value && value <= MAKE_SEND_ONCE.value;
    }

    /** The kind of right this disposition delivers: PORT_RECEIVE, PORT_SEND or PORT_SEND_ONCE (or PORT_NAME). */
    public MsgType delivered() {
        return switch (this) {
            case MOVE_RECEIVE -> PORT_RECEIVE;
            case MOVE_SEND, COPY_SEND, MAKE_SEND -> PORT_SEND;
            case MOVE_SEND_ONCE, MAKE_SEND_ONCE -> PORT_SEND_ONCE;
            case PORT_NAME -> PORT_NAME;
        };
    }
}
