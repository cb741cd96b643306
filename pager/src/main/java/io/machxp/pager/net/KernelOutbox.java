package io.machxp.pager.net;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayDeque;

/**
 * What the pager has sent to one kernel's XP stream and the stream does not take yet: the pager
 * keeps it here, not in gRPC's buffers, so that ending the stream frees it.
 *
 * <h2>Overview</h2>
 * <pre>
 *  send(m)       the call takes more (gRPC's isReady) and nothing waits -> to gRPC at once
 *                otherwise -> waits here, in order; false (m not kept) once more than the bound
 *                would wait: the caller ends the stream
 *  ready()       gRPC's on-ready: the kernel read; what waits goes while the call takes it, and
 *                the patience starts again
 *  fail(status)  what the call takes now goes, and up to 64 KiB more of what waits; the rest
 *                is dropped, then the status
 *  complete()    the same, then the end of the stream
 * </pre>
 * Before, every message went to gRPC at once, and gRPC queues what the kernel's HTTP/2 window
 * does not take, in order, with the status behind it: a stream the pager ended for not reading
 * (256 MiB, or 10 s) kept all of it buffered until the kernel read or its connection closed, and
 * a kernel could do that again on a new stream, sixteen streams a connection, any number of
 * connections ({@code EndedUnreadStreamTest}). Now at most what the call takes while ready
 * (gRPC's on-ready threshold, 32 KiB, plus one message) and the 64 KiB an end still hands on stay
 * in gRPC for a stream that is never read.
 *
 * <p>Not thread-safe: the unreplicated pager uses it on its core thread, a replica's
 * {@code ReplicaStreams} under its stream's lock.
 */
public final class KernelOutbox {
    /** What an ending stream still hands gRPC of what waits, whether the call takes more or not. */
    static final int LAST_BYTES = 64 << 10;

    private final StreamObserver<PagerToKernel> out;
    /** The call, to ask whether it takes more; null: an observer that takes everything (tests). */
    private final ServerCallStreamObserver<PagerToKernel> call;
    private final ArrayDeque<PagerToKernel> waiting = new ArrayDeque<>();
    private long waitingBytes;
    /** Since when (the caller's clock) messages wait without the kernel having read; -1: none wait, or it read. */
    private long unreadSince = -1;
    private boolean ended;

    public KernelOutbox(StreamObserver<PagerToKernel> out) {
        this.out = out;
        this.call = out instanceof ServerCallStreamObserver<PagerToKernel> c ? c : null;
    }

    /**
     * Sends {@code m}, or keeps it until the kernel reads. False, and {@code m} not kept, if more
     * than {@code maxWaitingBytes} would wait: the caller ends the stream ({@link #fail}).
     *
     * @throws RuntimeException what gRPC's onNext throws (a call cancelled or closed)
     */
    public boolean send(PagerToKernel m, long maxWaitingBytes, long now) {
        if (ended) {
            return true;
        }
        drain(); // what waits goes first, if the call takes more now
        if (waiting.isEmpty() && takes()) {
            out.onNext(m);
            return true;
        }
        long size = m.getSerializedSize();
        if (waitingBytes + size > maxWaitingBytes) {
            return false;
        }
        waiting.add(m);
        waitingBytes += size;
        if (unreadSince < 0) {
            unreadSince = now;
        }
        return true;
    }

    /** gRPC's on-ready: the kernel read. What waits goes while the call takes it. */
    public void ready() {
        unreadSince = -1;
        if (!ended) {
            drain();
        }
    }

    /**
     * Whether messages have waited longer than {@code patience} at {@code now} without the kernel
     * reading; after a read, the patience counts from the first time it is asked.
     */
    public boolean unreadLongerThan(long patience, long now) {
        if (ended || waiting.isEmpty()) {
            return false;
        }
        if (unreadSince < 0) {
            unreadSince = now;
        }
        return now - unreadSince > patience;
    }

    /** When the patience of what waits ends ({@link #unreadLongerThan}), or -1 if nothing waits. */
    public long patienceEnds(long patience) {
        return ended || waiting.isEmpty() || unreadSince < 0 ? -1 : unreadSince + patience;
    }

    /** Bytes of messages waiting. */
    public long waitingBytes() {
        return waitingBytes;
    }

    /**
     * Ends the stream with {@code status}: what the call takes now goes first, what it does not is
     * dropped (its session is over at the pager).
     *
     * @throws RuntimeException what gRPC throws (a call cancelled or closed)
     */
    public void fail(Throwable status) {
        if (finish()) {
            out.onError(status);
        }
    }

    /** Ends the stream cleanly, as {@link #fail} does otherwise. */
    public void complete() {
        if (finish()) {
            out.onCompleted();
        }
    }

    public boolean ended() {
        return ended;
    }

    /** The call is gone (cancelled, closed): what waits is dropped, and nothing more is written to it. */
    public void abandon() {
        ended = true;
        waiting.clear();
        waitingBytes = 0;
        unreadSince = -1;
    }

    /**
     * The stream ends here: whether it had not ended before. What the call takes goes, and, taken
     * or not, what waits up to {@link #LAST_BYTES}, so that a short tail (a redirect, an answer
     * just before the end) still reaches a kernel that reads; the rest is dropped.
     */
    private boolean finish() {
        if (ended) {
            return false;
        }
        try {
            drain();
            long last = 0;
            while (!waiting.isEmpty() && last + waiting.peek().getSerializedSize() <= LAST_BYTES) {
                PagerToKernel m = waiting.poll();
                last += m.getSerializedSize();
                out.onNext(m);
            }
        } catch (RuntimeException e) {
            // the call is gone (cancelled, closed): nothing more goes; the end is the caller's to try
        }
        abandon();
        return true;
    }

    private boolean takes() {
        return call == null || call.isReady();
    }

    /** What waits goes while the call takes it; if anything went, the kernel read: the patience starts again. */
    private void drain() {
        while (!waiting.isEmpty() && takes()) {
            PagerToKernel m = waiting.poll();
            waitingBytes -= m.getSerializedSize();
            unreadSince = -1;
            out.onNext(m);
        }
    }
}
