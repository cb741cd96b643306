package io.machxp.kernel.net;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * A create call (task_create, thread_create, vm_map) whose caller may give up on it - its deadline
 * passes, it cancels, its connection breaks - before it hears the answer. What the kernel made
 * for a caller that never learnt of it would be kept and counted to its peer with nobody able to
 * name it (review rv58 HIGH-2: 10,000 TaskCreate calls past their deadline left 7,168 tasks no
 * client held a handle of, and the peer could create no more). So what such a call made is
 * undone: never answered, and ended.
 *
 * <pre>
 *   WAITING --made (core thread)--> MADE (undo kept; answer sent) --closed OK--> (the cancel handler never runs;
 *                                a reply still on its way when the caller's deadline passes is lost to it,
 *                                which the server cannot see: review rv59 MED-1a)
 *   WAITING --cancelled--> GONE: what is made later is undone at once, never answered; a create
 *                                that waits besides the core ({@link #waiting}: a vm_map) is stopped now
 *   MADE    --cancelled--> GONE: the undo runs (the caller got no answer it could use:
 *                                a cancelled unary call ends with a non-OK status at the client)
 * </pre>
 *
 * The cancel handler is set when the call arrives (gRPC allows it only then); it runs on the
 * transport's thread, {@link #made} on the core thread; the undos and stops its callers hand in pass
 * their work to the core thread ({@link ServedKernel#executeUnlessClosing}), where every
 * {@link CreateTokens} transition runs. Everything the undo needs (a task's handle)
 * must exist before {@link #made}: a cancel may run the undo the moment made has returned.
 */
final class GivenUpCreates {
    private final ServerCallStreamObserver<?> call;
    private boolean gone;
    private Runnable undo;
    /** WAITING for something besides the core (a vm_map for its object): stops it if the caller gives up. */
    private Runnable stop;

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
    boolean made(Runnable undo) {
        synchronized (this) {
            if (gone || (call != null && call.isCancelled())) {
                gone = true;
                return false;
            }
            this.undo = undo;
            this.stop = null;
        }
        if (call instanceof Window w) {
            w.afterMade(); // tests only: a cancel landing right after made (rv59 MED-1b)
        }
        return true;
    }

    /**
     * The create now waits for something besides the core (a vm_map for its object's
     * memory_object_ready): if the caller gives up before it is made, {@code stop} runs (it fails
     * the create, which gives back what it held). False if the caller already gave up: the caller
     * does not start the create.
     */
    boolean waiting(Runnable stop) {
        synchronized (this) {
            if (gone || (call != null && call.isCancelled())) {
                gone = true;
                return false;
            }
            this.stop = stop;
            return true;
        }
    }

    /**
     * A test's call that is told when {@link #made} has kept its undo and returned from its lock:
     * the window in which a cancel must find everything the undo needs (review rv59 MED-1b: the
     * handle was issued only after made, and a cancel landing there kept the task).
     */
    interface Window {
        void afterMade();
    }

    private void cancelled() {
        Runnable u;
        synchronized (this) {
            gone = true;
            u = undo != null ? undo : stop;
            undo = null;
            stop = null;
        }
        if (u != null) {
            u.run();
        }
    }
}
