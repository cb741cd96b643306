package io.machxp.conform;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;

/** What a gRPC error says for a person and for a program: its code, sentence and ErrorInfo (spec 3.1, 11.1). */
public final class ErrorDetails {
    private ErrorDetails() {}

    /** The google.rpc.ErrorInfo among the status details of {@code t}, or null if it carries none. */
    public static ErrorInfo errorInfo(Throwable t) {
        com.google.rpc.Status s = t == null ? null : StatusProto.fromThrowable(t);
        if (s == null) {
            return null;
        }
        for (Any any : s.getDetailsList()) {
            if (any.is(ErrorInfo.class)) {
                try {
                    return any.unpack(ErrorInfo.class);
                } catch (InvalidProtocolBufferException e) {
                    return null;
                }
            }
        }
        return null;
    }

    /** "CODE: description", for messages. */
    public static String describe(Status s) {
        return s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription());
    }
}
