package io.machxp.kernel.net;

import io.grpc.stub.StreamObserver;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import java.util.function.Function;

/** Answering gRPC calls from the core thread: the services' one way to respond and to fail. */
final class Answers {
    private Answers() {}

    /** Answers a call; a caller that has gone away is not the core's problem, so never throws. */
    static <T> void respond(StreamObserver<T> out, T value) {
        try {
            out.onNext(value);
            out.onCompleted();
        } catch (RuntimeException callGone) {
            // cancelled or closed meanwhile
        }
    }

    static <V, T> Reply<V> reply(StreamObserver<T> out, Function<V, T> toMessage) {
        return replying(out, v -> respond(out, toMessage.apply(v)));
    }

    /** A reply that runs {@code onComplete} with the value, or fails the call with the error's status. */
    static <V> Reply<V> replying(StreamObserver<?> out, java.util.function.Consumer<V> onComplete) {
        return new Reply<>() {
            @Override
            public void complete(V value) {
                onComplete.accept(value);
            }

            @Override
            public void fail(KernelError error) {
                Answers.fail(out, error);
            }
        };
    }

    /** Fails a call with the error's status; like {@link #respond}, never throws. */
    static void fail(StreamObserver<?> out, KernelError error) {
        try {
            out.onError(KernelStatus.toException(error));
        } catch (RuntimeException callGone) {
            // cancelled or closed meanwhile
        }
    }
}
