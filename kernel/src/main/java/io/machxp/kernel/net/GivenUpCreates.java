package io.machxp.kernel.net;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * A create call (task_create, thread_create) whose caller may give up on it - its deadline
 * passes, it cancels, its connection breaks - before it hears the answer. What the kernel made
 * for a caller that never learnt of it would be kept and counted to its peer with nobody able to
 * name it (review rv58 HIGH-2: 10,000 TaskCreate calls past their deadline left 7,168 tasks no
 * client held a handle of, and the peer could create no more). So what such a call made is
 * undone: never answered, and ended.
 *
 * <pre>
 *   WAITING --made (core thread)--> MADE (undo kept; answer sent) --closed OK--> (the cancel handler never runs)
 *   WAITING --cancelled--> GONE: what is made later is undone at once, never answered
 *   MADE    --cancelled--> GONE: the undo runs (the caller got no answer it could use:
 *                                a cancelled unary call ends with a non-OK status at the client)
 * </pre>
 *
 * The cancel handler is set when the call arrives (gRPC allows it only then); it runs on the
 * transport's thread, {@link #made} on the core thread.
 */
final class GivenUpCreates {
    private final ServerCallStreamObserver<?> call;
    private boolean gone;
    private Runnable undo;

    private GivenUpCreates(ServerCallStreamObserver<?> call) {
        this.call = call;
    }

    /** Watches the call {@code out} from its arrival; calls handed in without a server call are never given up. */
    static GivenUpCreates watch(StreamObserver<?> out) {
        GivenUpCreates c = new GivenUpCreates(out instanceof ServerCallStreamObserver<?> s ? s : null);
        if (c.call != null) {
            c.call.setOnCancelHandler(c::cancelled);
        }
        return c;
    }

    /**
     * Core thread, once the thing is made and before it is answered: true if the caller may still
     * hear of it, and {@code undo} runs if it gives up from now on; false if it already gave up
     * (the caller undoes it at once, and answers nothing).
     */
    synchronized boolean made(Runnable undo) {
        if (gone || (call != null && call.isCancelled())) {
            gone = true;
            return false;
        }
        this.undo = undo;
        return true;
    }

    private void cancelled() {
        Runnable u;
        synchronized (this) {
            gone = true;
            u = undo;
            undo = null;
        }
        if (u != null) {
            u.run();
        }
    }
}
