package io.machxp.kernel.ipc;

/**
 * One item of a message body, as a GNU Mach typed item ({@code mach_msg_type_t} then its data):
 * inline bytes, a port right (or a bare name), or out-of-line memory. The size each takes in the
 * message is what {@link #size} says (a 4-byte type word, then the data padded to 4 bytes; a
 * pointer for out-of-line memory).
 */
public sealed interface MsgItem {
    /** Bytes carried in the message. */
    record Inline(byte[] data) implements MsgItem {
        @Override
        public int size() {
            return 4 + ((data.length + 3) & ~3);
        }
    }

    /**
     * A right: sent, {@code name} in the sender's space with a disposition; received, the name in
     * the receiver's space (or MACH_PORT_DEAD / MACH_PORT_NULL) with PORT_RECEIVE / PORT_SEND /
     * PORT_SEND_ONCE. PORT_NAME carries the name itself, no right.
     */
    record Port(int name, MsgType type) implements MsgItem {
        @Override
        public int size() {
            return 8;
        }
    }

    /** Out-of-line memory: the receiver gets a copy as it was at send time ({@link OolRegion}). */
    record OutOfLine(OolRegion region, boolean deallocate) implements MsgItem {
        @Override
        public int size() {
            return 12;
        }
    }

    /** Bytes this item takes in the message. */
    int size();
}
