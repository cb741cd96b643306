package io.machxp.pager.net;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Bounds what the pager's services other than XP (the admin service, health) can make it buffer.
 * The pager's gRPC limit on one inbound message is server-wide
 * ({@link io.machxp.pager.Pager#MAX_KERNEL_MESSAGE_BYTES}, 4 MiB; grpc-java has no limit per
 * service), and gRPC collects a message whole while a call reads it; a client certificate that is
 * not a kernel's may call these services (not XP: {@link KernelsOnly}).
 *
 * <h2>Overview</h2>
 * <pre>
 *  call starts, fewer than max reading   reading (a permit); the service reads its request
 *  call starts, max reading already      refused at once, RESOURCE_EXHAUSTED: nothing of it is read
 *                                        (what the client sends waits in HTTP/2's window, 1 MiB)
 *  reading, client half-closes           done reading: the permit is free (a watch goes on)
 *  reading, call ends or is cancelled    the permit is free
 *  reading for longer than readWithin    ended RESOURCE_EXHAUSTED, the permit free: a client
 *                                        cannot keep the permits by sending nothing
 * </pre>
 * So such clients make the pager hold at most {@code max} messages being read. All of it runs on
 * the pager's one event loop thread (gRPC's and the core's), so the count needs no lock and the
 * timer's close runs on the call's thread.
 */
public final class RequestReadBudget implements ServerInterceptor {
    /** Requests of the admin service and health read at once (4 x 4 MiB at most). */
    public static final int DEFAULT_MAX_READING = 4;
    /** How long a client has to send its whole request (a status request is some bytes). */
    public static final long DEFAULT_READ_WITHIN_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final ScheduledExecutorService loop;
    private final int maxReading;
    private final long readWithinNanos;
    private int reading;

    /**
     * @param loop the event loop the server's calls run on (the pager's one thread)
     */
    public RequestReadBudget(ScheduledExecutorService loop, int maxReading, long readWithinNanos) {
        this.loop = loop;
        this.maxReading = maxReading;
        this.readWithinNanos = readWithinNanos;
    }

    /** Calls reading their request now. */
    public int reading() {
        return reading;
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
            ServerCallHandler<Q, A> next) {
        if (reading >= maxReading) {
            call.close(Status.RESOURCE_EXHAUSTED.withDescription(maxReading + " requests to the pager's admin and "
                    + "health services are being read already (the most at once: each may be as large as a kernel's "
                    + "reclaim); try again"), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        reading++;
        Permit permit = new Permit();
        ServerCall<Q, A> counted = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                permit.free();
                super.close(status, trailers);
            }
        };
        permit.timer = loop.schedule(() -> {
            if (permit.free()) {
                counted.close(Status.RESOURCE_EXHAUSTED.withDescription("the request was not sent whole within "
                        + TimeUnit.NANOSECONDS.toMillis(readWithinNanos) + " ms"), new Metadata());
            }
        }, readWithinNanos, TimeUnit.NANOSECONDS);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(counted, headers)) {
            @Override
            public void onHalfClose() {
                permit.free(); // nothing more is read of this call
                super.onHalfClose();
            }

            @Override
            public void onCancel() {
                permit.free();
                super.onCancel();
            }

            @Override
            public void onComplete() {
                permit.free();
                super.onComplete();
            }
        };
    }

    /** One call's place among those reading; freed once. */
    private final class Permit {
        private boolean held = true;
        private ScheduledFuture<?> timer;

        /** @return whether it was held (this call freed it) */
        boolean free() {
            if (!held) {
                return false;
            }
            held = false;
            reading--;
            if (timer != null) {
                timer.cancel(false);
            }
            return true;
        }
    }
}
