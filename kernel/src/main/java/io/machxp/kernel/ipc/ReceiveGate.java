package io.machxp.kernel.ipc;

/**
 * What the network layer tells the receive half of mach_msg about its caller, checked on the core
 * thread before a message is taken off its queue (review F3, F4): a message is dequeued only for a
 * caller still there, and only if the reply that carries it fits the caller's transport.
 * <pre>
 *  caller gone (cancelled, past its deadline)   MACH_RCV_INTERRUPTED; the message stays queued
 *  reply would exceed {@link #maxReplyBytes}
 *    with MACH_RCV_LARGE                         MACH_RCV_TOO_LARGE with the size; stays queued
 *    without                                     MACH_RCV_TOO_LARGE, header only; destroyed (as a
 *                                                message larger than rcv_size: GNU Mach)
 * </pre>
 * In-process callers pass {@link #NONE}.
 */
public interface ReceiveGate {
    /** No transport, a caller that never goes away. */
    ReceiveGate NONE = new ReceiveGate() {
        @Override
        public boolean callerGone() {
            return false;
        }

        @Override
        public long maxReplyBytes() {
            return Long.MAX_VALUE;
        }
    };

    /** Whether the call is over at its caller's end: a message taken now would be lost. Any thread. */
    boolean callerGone();

    /** The largest reply, in bytes on the wire, the caller's transport can take. */
    long maxReplyBytes();

    /**
     * An upper bound of the bytes of a reply carrying {@code m} on the wire (task.proto's
     * MachMsgReply): its fixed fields, then for each item its data and at most 24 bytes of tags,
     * lengths and varints (a port item's name and type included).
     */
    static long replyBytesBound(KMsg m) {
        long bytes = 256;
        for (KMsg.Item i : m.items) {
            bytes += 24;
            if (i instanceof KMsg.Data d) {
                if (d.item() instanceof MsgItem.Inline in) {
                    bytes += in.data().length;
                } else if (d.item() instanceof MsgItem.OutOfLine o) {
                    bytes += o.region().size();
                }
            }
        }
        return bytes;
    }
}
