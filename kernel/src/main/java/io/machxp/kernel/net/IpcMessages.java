package io.machxp.kernel.net;

import com.google.protobuf.ByteString;
import io.machxp.kernel.ipc.KernReturn;
import io.machxp.kernel.ipc.Mach;
import io.machxp.kernel.ipc.MachMessage;
import io.machxp.kernel.ipc.MsgItem;
import io.machxp.kernel.ipc.MsgReturn;
import io.machxp.kernel.ipc.MsgType;
import io.machxp.kernel.ipc.OolRegion;
import io.machxp.proto.task.MachMsgItem;
import io.machxp.proto.task.MachMsgPort;
import io.machxp.proto.task.MachMsgReply;
import java.util.ArrayList;
import java.util.List;

/**
 * Mach messages between their task.proto form and the IPC core's ({@link MachMessage}). Out-of-line
 * memory crosses the wire as bytes: the receiver gets them as they were when sent, as in Mach.
 * Used by the kernel's service and by the client library.
 */
public final class IpcMessages {
    private IpcMessages() {}

    public static io.machxp.proto.task.MachMessage toProto(MachMessage m) {
        var b = io.machxp.proto.task.MachMessage.newBuilder().setBits(m.bits()).setRemotePort(m.remotePort())
                .setLocalPort(m.localPort()).setSeqno(m.seqno()).setId(m.id());
        for (MsgItem i : m.body()) {
            MachMsgItem.Builder item = MachMsgItem.newBuilder();
            if (i instanceof MsgItem.Inline in) {
                item.setInlineData(ByteString.copyFrom(in.data()));
            } else if (i instanceof MsgItem.Port p) {
                item.setPort(MachMsgPort.newBuilder().setName(p.name()).setType(p.type() == null ? 0 : p.type().value));
            } else {
                item.setOutOfLine(ByteString.copyFrom(((MsgItem.OutOfLine) i).region().read()));
            }
            b.addBody(item);
        }
        return b.build();
    }

    /**
     * The core's form; a port item of an unknown type keeps a null type, and an item with nothing
     * set becomes such a port item too: the send answers MACH_SEND_INVALID_TYPE rather than
     * delivering an empty item the client did not mean.
     */
    public static MachMessage fromProto(io.machxp.proto.task.MachMessage m) {
        List<MsgItem> body = new ArrayList<>(m.getBodyCount());
        for (MachMsgItem i : m.getBodyList()) {
            body.add(switch (i.getItemCase()) {
                case PORT -> new MsgItem.Port(i.getPort().getName(), MsgType.of(i.getPort().getType()));
                case OUT_OF_LINE -> new MsgItem.OutOfLine(OolRegion.of(i.getOutOfLine().toByteArray()), false);
                case INLINE_DATA -> new MsgItem.Inline(i.getInlineData().toByteArray());
                case ITEM_NOT_SET -> new MsgItem.Port(Mach.MACH_PORT_NULL, null);
            });
        }
        return new MachMessage(m.getBits(), m.getRemotePort(), m.getLocalPort(), m.getSeqno(), m.getId(), body);
    }

    public static MachMsgReply toProto(MsgReturn r) {
        MachMsgReply.Builder b = MachMsgReply.newBuilder().setKernReturn(r.code().code)
                .setKernReturnName(r.code().name()).setSize(r.size());
        if (r.message() != null) {
            b.setMsg(toProto(r.message()));
        }
        if (r.detail() != null) {
            b.setDetail(r.detail());
        }
        return b.build();
    }

    public static MsgReturn fromProto(MachMsgReply r) {
        return new MsgReturn(KernReturn.of(r.getKernReturn()), r.hasMsg() ? fromProto(r.getMsg()) : null, r.getSize(),
                r.getDetail().isEmpty() ? null : r.getDetail());
    }
}
