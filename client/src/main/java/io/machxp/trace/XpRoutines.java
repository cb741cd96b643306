package io.machxp.trace;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.Message;
import java.util.List;
import java.util.Map;

/**
 * Names an XP message for a trace: its routine (the set field of the envelope's {@code routine}
 * oneof, without "memory_object_"), the offset it names, the pages it carries and its other set
 * scalar fields. Reads the messages through protobuf's descriptors, so every routine of xp.proto,
 * present or future, is described the same way.
 */
public final class XpRoutines {
    private static final String PREFIX = "memory_object_";

    /** What a trace keeps of one message. */
    public record Described(String routine, long offset, int pages, String detail) {}

    private XpRoutines() {}

    public static Described describe(Message envelope) {
        if (envelope instanceof io.machxp.proto.xp.FutexForward f) { // kernel to kernel: no routine envelope
            return new Described("futex_forward", f.getOffset(), f.getReleased().getPagesCount(),
                    "fencing_token=" + f.getFencingToken() + " to_kernel=" + f.getToKernel());
        }
        OneofDescriptor oneof = envelope.getDescriptorForType().getOneofs().get(0);
        FieldDescriptor set = envelope.getOneofFieldDescriptor(oneof);
        if (set == null) {
            return new Described("(empty)", -1, 0, "");
        }
        String routine = set.getName().startsWith(PREFIX) ? set.getName().substring(PREFIX.length()) : set.getName();
        Message body = (Message) envelope.getField(set);
        FieldDescriptor offsetField = body.getDescriptorForType().findFieldByName("offset");
        long offset = offsetField == null ? -1 : ((Number) body.getField(offsetField)).longValue();
        int pages = 0;
        StringBuilder detail = new StringBuilder();
        for (Map.Entry<FieldDescriptor, Object> f : body.getAllFields().entrySet()) {
            String name = f.getKey().getName();
            Object value = f.getValue();
            if (name.equals("offset")) {
                continue;
            }
            if (name.equals("pages") && value instanceof List<?> l) {
                pages += l.size();
            } else if (name.equals("data")) {
                pages += 1;
            } else if (f.getKey().getJavaType() != FieldDescriptor.JavaType.MESSAGE
                    && f.getKey().getJavaType() != FieldDescriptor.JavaType.BYTE_STRING && !f.getKey().isRepeated()) {
                detail.append(detail.isEmpty() ? "" : " ").append(name).append('=').append(shown(value));
            }
        }
        if (pages == 0 && (routine.equals("data_supply") || routine.equals("data_return"))) {
            pages = 1;
        }
        return new Described(routine, offset, pages, detail.toString());
    }

    private static String shown(Object value) {
        return value instanceof com.google.protobuf.ProtocolMessageEnum e ? e.getValueDescriptor().getName()
                : String.valueOf(value);
    }
}
