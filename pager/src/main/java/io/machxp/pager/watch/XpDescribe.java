package io.machxp.pager.watch;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.machxp.proto.admin.XpMessageTrace;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.function.IntFunction;

/**
 * An XP message in words, for {@link XpTrace}: its routine (the name of the field set in the
 * message's oneof), the object by name (the session's object id resolved), the offset, and every
 * other field that is set, as "name value" ("priority 40, try"); bytes and repeated fields by size.
 */
final class XpDescribe {
    /**
     * The most characters of one string a description keeps (a kernel's object name, a reason):
     * longer ones are kept by their start and length. A kernel's message may carry strings of up
     * to 4 MiB, and the trace keeps 4,096 descriptions while watched: whole, they could fill the
     * pager's heap, and one of them could not go to a watcher within gRPC's 4 MiB.
     */
    static final int MAX_CHARS = 512;

    /** Fields that are the trace's own columns, or that say nothing to a person watching. */
    private static final Set<String> NOT_DETAIL = Set.of("object_id", "offset", "name", "length");

    private XpDescribe() {}

    static XpMessageTrace.Builder of(IntFunction<String> objectNames, Message envelope) {
        FieldDescriptor routine = envelope.getOneofFieldDescriptor(envelope.getDescriptorForType().getOneofs().get(0));
        XpMessageTrace.Builder b = XpMessageTrace.newBuilder();
        if (routine == null) {
            return b.setRoutine("none");
        }
        b.setRoutine(routine.getName());
        Message body = (Message) envelope.getField(routine);
        StringJoiner detail = new StringJoiner(", ");
        for (Map.Entry<FieldDescriptor, Object> field : body.getAllFields().entrySet()) {
            String name = field.getKey().getName();
            Object value = field.getValue();
            switch (name) {
                case "object_id" -> {
                    String object = objectNames.apply(((Number) value).intValue());
                    b.setObject(object != null ? object : "#" + value);
                }
                case "name" -> b.setObject(cut(String.valueOf(value))); // memory_object_init names its object
                case "offset" -> b.setOffset((Long) value);
                default -> {
                    if (!NOT_DETAIL.contains(name)) {
                        detail.add(words(name, value));
                    }
                }
            }
        }
        return b.setDetail(detail.toString());
    }

    private static String words(String name, Object value) {
        String label = name.replace('_', ' ');
        if (value instanceof Boolean) {
            return label; // only set fields are listed, so a boolean here is true
        }
        if (value instanceof ByteString bytes) {
            return label + " " + bytes.size() + " bytes";
        }
        if (value instanceof List<?> list) {
            return label + " " + list.size();
        }
        if (value instanceof com.google.protobuf.Descriptors.EnumValueDescriptor e) {
            return label + " " + e.getName();
        }
        if (value instanceof String text) {
            return label + " " + cut(text);
        }
        if (value instanceof com.google.protobuf.Message m && m.getSerializedSize() > MAX_CHARS) {
            return label + " " + m.getSerializedSize() + " bytes"; // a reclaim: not its text, on the core thread
        }
        return label + " " + value;
    }

    /** {@code s}, or its first {@link #MAX_CHARS} characters and its length. */
    static String cut(String s) {
        return s.length() <= MAX_CHARS ? s : s.substring(0, MAX_CHARS) + "... (" + s.length() + " characters)";
    }
}
