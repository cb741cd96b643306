package io.machxp.pager.replica;

import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * How much of one kernel stream a replicated pager's leader has appended and not yet seen applied:
 * at most {@link #DEFAULT_IN_FLIGHT} messages, and no further message is taken once
 * {@link #MAX_BYTES} are (so at most {@code MAX_BYTES} plus one message, under 6.1 MiB). The
 * stream's messages are taken with gRPC's manual inbound flow control, one requested at a time
 * (as gRPC's automatic flow control does) while the window has room: when a message is taken and
 * when an append of it completes (applied, or refused). The group's log is one queue for every
 * kernel, so without a bound one kernel's burst (65,536 back-to-back lock_futex, the xpprobe's
 * {@code cache_stall}) was appended ahead of every later keepalive of every other kernel, which
 * waited for the whole burst to be committed and applied, longer than a lease (docs/limits.md).
 * With it, another kernel's keepalive waits behind at most {@code inFlight} entries of each
 * stream. The byte bound keeps a flush of large data_returns (up to 4 MiB each) under Ratis's
 * pending-write byte limit ({@link RaftSettings}): before, 64 of them were 256 MiB, and the append
 * past the limit failed and ended the stream, which the kernel resumed and sent again. What the
 * kernel sends meanwhile waits in HTTP/2's window, which holds it back. A stream's message is
 * appended only if its peer and the group have room too ({@link AppendBudget}): else it is held,
 * and the stream's end (half-close, cancel) waits for it, so that the end follows it in the log.
 *
 * <p>Thread-safe: the append's completion runs on the group's client threads, the stream's
 * messages on gRPC's, a held one's append on the budget's executor; one lock, the budget's, for
 * all; {@code request} and the appends are called outside it (a request may deliver inline).
 */
final class AppendWindow {
    /** Messages of one stream appended and not yet applied, at most. */
    static final int DEFAULT_IN_FLIGHT = 64;
    /** Bytes of one stream's messages appended and not applied past which no more is taken. */
    static final int MAX_BYTES = 2 << 20;

    private final ServerCallStreamObserver<?> call;
    private final AppendBudget budget;
    /** The stream's peer's part of the budget. */
    final AppendBudget.Peer peer;
    // Under the budget's lock:
    /** Taken and not yet completed: messages, and their bytes. */
    private int inFlight;
    private long bytes;
    /** Whether one message is requested and not yet taken. */
    private boolean requested;
    /** A message taken and not appended yet (no room), with how to append it, or null. */
    private Object heldMessage;
    private int heldSize;
    private Function<Object, CompletableFuture<Boolean>> heldAppend;
    /** Whether the held message is being appended (on the budget's executor, beside gRPC's thread). */
    private boolean appendingHeld;
    /** The stream's end, to run once the held message is appended. */
    private Runnable endAfter;
    private boolean ended;

    private AppendWindow(ServerCallStreamObserver<?> call, AppendBudget budget, Object peerKey) {
        this.call = call;
        this.budget = budget;
        synchronized (budget) {
            this.peer = budget.join(peerKey);
        }
    }

    /**
     * Automatic inbound flow control off for the stream, whose peer is {@code peerKey} (null: a
     * peer of its own): call within the service method, then {@link #open()}. Null for an observer
     * that is not a server call's (a simulation's): no window.
     */
    static AppendWindow of(Object toKernel, AppendBudget budget, Object peerKey) {
        if (toKernel instanceof ServerCallStreamObserver<?> call) {
            call.disableAutoRequest();
            AppendWindow w = new AppendWindow(call, budget, peerKey);
            // grpc-java gives neither onError nor onCompleted to a call the pager closed itself (a
            // failed append, a redirect): only this, on every close (review tb LOW-2).
            call.setOnCloseHandler(w::callClosed);
            return w;
        }
        return null;
    }

    /** The stream may send its first message. */
    void open() {
        synchronized (budget) {
            requested = true;
        }
        call.request(1);
    }

    /**
     * A message of {@code size} bytes was taken: {@code append} runs now if the stream's peer and
     * the group have room (it returns the append's future, or null if it appended nothing), else
     * once they have; the next message is asked for once it ran, if the stream has room.
     */
    @SuppressWarnings("unchecked")
    <M> void taken(M message, int size, Function<M, CompletableFuture<Boolean>> append) {
        synchronized (budget) {
            requested = false;
            if (!budget.admit(peer, size)) {
                heldMessage = message;
                heldSize = size;
                heldAppend = (Function<Object, CompletableFuture<Boolean>>) (Function<?, ?>) append;
                budget.hold(this);
                return;
            }
            inFlight++;
            bytes += size;
        }
        append(message, size, append);
        requestIfRoom();
    }

    /**
     * The kernel ended the stream (half-close, cancel): {@code ending} runs now, or once the held
     * message is appended (so that what it appends follows that message in the log).
     */
    void close(Runnable ending) {
        synchronized (budget) {
            if (heldMessage != null || appendingHeld) {
                endAfter = ending;
                return;
            }
            end();
        }
        ending.run();
    }

    /**
     * The call closed (the pager ended it, or it completed): the stream leaves its peer, once its
     * held message, if any, is appended; an end already waiting for that message is kept.
     */
    void callClosed() {
        synchronized (budget) {
            if (heldMessage != null || appendingHeld) {
                if (endAfter == null) {
                    endAfter = () -> { };
                }
                return;
            }
            end();
        }
    }

    /** Size of the held message (under the budget's lock). */
    int heldSize() {
        return heldSize;
    }

    /** The budget counted the held message (it has room now): it is appended, here. */
    void appendHeld() {
        Object message;
        int size;
        Function<Object, CompletableFuture<Boolean>> append;
        synchronized (budget) {
            message = heldMessage;
            size = heldSize;
            append = heldAppend;
            heldMessage = null;
            heldAppend = null;
            appendingHeld = true; // an end arriving meanwhile waits for it
            inFlight++;
            bytes += size;
        }
        try {
            append(message, size, append);
        } finally {
            Runnable ending;
            synchronized (budget) {
                appendingHeld = false;
                ending = endAfter;
                endAfter = null;
                if (ending != null) {
                    end();
                }
            }
            if (ending != null) {
                ending.run();
            } else {
                requestIfRoom();
            }
        }
    }

    private <M> void append(M message, int size, Function<M, CompletableFuture<Boolean>> append) {
        CompletableFuture<Boolean> appended;
        try {
            appended = append.apply(message);
        } catch (RuntimeException e) {
            appendDone(size, false);
            throw e;
        }
        if (appended == null) { // nothing appended (a redirect): the stream takes nothing more
            synchronized (budget) {
                end();
            }
            appendDone(size, false);
        } else {
            // applied (or not): room for the next
            appended.whenComplete((ok, e) -> appendDone(size, e == null && Boolean.TRUE.equals(ok)));
        }
    }

    /**
     * The append of a message of {@code size} bytes completed ({@code applied}, or not: failed,
     * refused): room for the next, here and in the budget.
     */
    private void appendDone(int size, boolean applied) {
        synchronized (budget) {
            inFlight--;
            bytes -= size;
            budget.release(peer, size, applied);
        }
        budget.serve();
        requestIfRoom();
    }

    /** Under the lock: the stream ended; it leaves its peer. */
    private void end() {
        if (!ended) {
            ended = true;
            budget.leave(peer);
        }
    }

    private void requestIfRoom() {
        synchronized (budget) {
            if (ended || requested || heldMessage != null || appendingHeld || inFlight >= DEFAULT_IN_FLIGHT
                    || bytes >= MAX_BYTES) {
                return;
            }
            requested = true;
        }
        call.request(1);
    }
}
