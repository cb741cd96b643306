package io.machxp.kernel.ipc;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * A message as a task sees it: the header ({@code mach_msg_header_t}) and the body's items. Sent,
 * {@code remotePort} is the destination and {@code localPort} the reply port, each named in the
 * sender's space with the disposition in {@code bits}. Received, the header is reversed:
 * {@code localPort} names the receive right it came through (its bits say how the sender
 * addressed it: PORT_SEND or PORT_SEND_ONCE) and {@code remotePort} the reply right now in the
 * receiver's space; {@code seqno} is the port's sequence number of the message.
 */
public record MachMessage(int bits, int remotePort, int localPort, int seqno, int id, List<MsgItem> body) {
    /** sizeof(mach_msg_header_t) in GNU Mach: bits, size, remote, local, seqno, id. */
    public static final int HEADER_SIZE = 24;

    public MachMessage {
        body = List.copyOf(body);
    }

    /** A message to {@code dest} (with its disposition), no reply port, no body. */
    public static MachMessage to(int dest, MsgType disposition, int id) {
        return new MachMessage(Mach.msghBits(disposition, null), dest, Mach.MACH_PORT_NULL, 0, id, List.of());
    }

    /** The same message with a reply port and its disposition. */
    public MachMessage withReply(int reply, MsgType disposition) {
        return new MachMessage((bits & ~Mach.MACH_MSGH_BITS_LOCAL_MASK) | (disposition.value << 8), remotePort,
                reply, seqno, id, body);
    }

    /** The same message with these items (COMPLEX set when one carries a right or memory). */
    public MachMessage withBody(MsgItem... items) {
        boolean complex = false;
        for (MsgItem i : items) {
            complex |= !(i instanceof MsgItem.Inline);
        }
        int b = complex ? bits | Mach.MACH_MSGH_BITS_COMPLEX : bits & ~Mach.MACH_MSGH_BITS_COMPLEX;
        return new MachMessage(b, remotePort, localPort, seqno, id, List.of(items));
    }

    /** MACH_MSGH_BITS_REMOTE: the disposition (sent) or type (received) of remotePort; null if 0 or unknown. */
    public MsgType remoteType() {
        return MsgType.of(bits & Mach.MACH_MSGH_BITS_REMOTE_MASK);
    }

    /** MACH_MSGH_BITS_LOCAL. */
    public MsgType localType() {
        return MsgType.of((bits & Mach.MACH_MSGH_BITS_LOCAL_MASK) >>> 8);
    }

    public boolean complex() {
        return (bits & Mach.MACH_MSGH_BITS_COMPLEX) != 0;
    }

    /** msgh_size: the header and every item. */
    public int size() {
        int size = HEADER_SIZE;
        for (MsgItem i : body) {
            size += i.size();
        }
        return size;
    }

    /** The 32-bit integer an inline item of 4 bytes carries (little-endian, as on x86 Mach). */
    public int intItem(int index) {
        return ByteBuffer.wrap(((MsgItem.Inline) body.get(index)).data()).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    /** An inline item holding one 32-bit integer (MACH_MSG_TYPE_INTEGER_32). */
    public static MsgItem.Inline int32(int value) {
        return new MsgItem.Inline(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
    }
}
