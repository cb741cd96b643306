package io.machxp.client;

import static io.machxp.proto.shm.ShmLayout.INT;
import static io.machxp.proto.shm.ShmLayout.LONG;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.machxp.proto.shm.CallLayout;
import io.machxp.proto.shm.Futex;
import io.machxp.proto.shm.ShmLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The client's side of the call file ({@link CallLayout}, docs/shared-memory.md): a task-interface
 * call to a kernel on this host through shared memory, with a futex system call to wait for the
 * answer and a byte on the kernel's bell socket to wake it, instead of gRPC. The request and the answer are the gRPC messages; an error comes back as the
 * status gRPC would carry, thrown as the same {@link StatusRuntimeException}.
 *
 * <p>A call: take a free slot of the task (its thread's own first), write the request, post it,
 * ring the doorbell (a byte on the kernel's bell socket, {@link CallBell}, if its core thread said
 * it is asleep), and sleep on the slot's state word (FUTEX_WAIT) until it is ANSWERED. It
 * gives up as a gRPC call does: when the call's deadline passes (DEADLINE_EXCEEDED), when the
 * calling thread is interrupted (CANCELLED), or when the kernel is gone - its end of the bell's
 * connection ended (its process exited), or its session closed the file (UNAVAILABLE; later calls
 * use gRPC). No process id is used: from another PID namespace (containers that share
 * {@code /dev/shm}) the kernel's pid names another process or none (review M3). A call it cannot
 * carry (no free slot, too large, the file closed) returns null: the caller uses gRPC.
 * Thread-safe; each slot carries one call at a time.
 */
final class CallChannel {
    /** How long a waiting call sleeps before it looks at its deadline, interrupts and the kernel's bell connection. */
    private static final long SLICE = TimeUnit.MILLISECONDS.toNanos(50);
    /**
     * Polls of the answer before the first sleep; none by default. Measured in the demo on 2 busy
     * cores (docs/shared-memory.md, "Where the demo waits"): under 4% of calls were answered
     * within 200 polls (the kernel's own wake-up takes longer), and the polls' CPU delayed the
     * threads that answer; with none the demo ran faster.
     */
    private static final int SPINS = Integer.getInteger("machxp.shm.callSpins", 0);

    private final ByteBuffer file;
    private final long base;
    private final String bellPath;
    private final CallBell bell;
    private volatile Slot[] slots = new Slot[0];
    private volatile boolean closed;

    /** One call slot this process owns: a thread's, or the task's own. */
    static final class Slot {
        final int index;
        private final AtomicBoolean busy = new AtomicBoolean();

        Slot(int index) {
            this.index = index;
        }
    }

    private CallChannel(ByteBuffer file, String bellPath, CallBell bell) {
        this.file = file;
        this.bellPath = bellPath;
        this.bell = bell;
        this.base = Futex.address(file);
    }

    /** The channel of the call file {@code path}, or null if this process cannot use it (then gRPC). */
    static CallChannel open(String path) {
        if (path.isEmpty() || !Futex.AVAILABLE || !Boolean.parseBoolean(System.getProperty("machxp.shm.calls", "true"))) {
            return null;
        }
        try {
            ByteBuffer file = ShmLayout.map(Path.of(path));
            if ((long) LONG.getVolatile(file, 0) != CallLayout.MAGIC) {
                return null;
            }
            String bellPath = CallLayout.bellFile(path);
            return new CallChannel(file, bellPath, CallBell.of(bellPath));
        } catch (IOException | RuntimeException cannotMap) {
            return null;
        }
    }

    /**
     * Slot {@code index} (a slot of the kernel file the kernel gave this task or one of its threads).
     * The kernel gives an ended thread's slot to a later thread of the same task (ThreadSlots): the
     * slot this channel already has for that index is given back, so its one busy flag keeps two
     * callers of this task out of each other's calls.
     */
    synchronized Slot add(int index) {
        for (Slot s : slots) {
            if (s.index == index) {
                return s;
            }
        }
        Slot slot = new Slot(index);
        Slot[] next = java.util.Arrays.copyOf(slots, slots.length + 1);
        next[next.length - 1] = slot;
        slots = next;
        return slot;
    }

    /**
     * Makes the call through a slot ({@code preferred} first, else any free one of the task):
     * its reply, or null if it cannot be made here (the caller makes it over gRPC).
     *
     * @param deadline the call's deadline, or null: none
     * @throws StatusRuntimeException the kernel's error, or DEADLINE_EXCEEDED / CANCELLED / UNAVAILABLE
     */
    <T> T call(Slot preferred, int method, MessageLite request, Parser<T> parser, Duration deadline) {
        if (closed || request.getSerializedSize() > CallLayout.PAYLOAD) {
            return null;
        }
        if ((int) INT.getVolatile(file, CallLayout.CLOSED) != 0) {
            closed = true; // the kernel's session ended: gRPC from now on
            CallBell.closed(bellPath);
            return null;
        }
        Slot slot = acquire(preferred);
        if (slot == null) {
            return null;
        }
        try {
            return make(CallLayout.slot(slot.index), method, request, parser,
                    deadline == null ? Long.MAX_VALUE : System.nanoTime() + deadline.toNanos());
        } finally {
            slot.busy.set(false);
        }
    }

    private Slot acquire(Slot preferred) {
        if (preferred != null && preferred.busy.compareAndSet(false, true)) {
            return preferred;
        }
        for (Slot s : slots) {
            if (s.busy.compareAndSet(false, true)) {
                return s;
            }
        }
        return null;
    }

    private <T> T make(int at, int method, MessageLite request, Parser<T> parser, long deadlineAt) {
        int call = (CallLayout.call((int) INT.getVolatile(file, at)) + 1) & (-1 >>> 3);
        byte[] bytes = request.toByteArray();
        INT.set(file, at + CallLayout.METHOD, method);
        INT.set(file, at + CallLayout.REQUEST_LENGTH, bytes.length);
        file.put(at + CallLayout.PAYLOAD_AT, bytes);
        INT.setVolatile(file, at, CallLayout.state(call, CallLayout.POSTED));
        ring();
        int answered = CallLayout.state(call, CallLayout.ANSWERED);
        for (int i = 0; i < SPINS; i++) {
            if ((int) INT.getVolatile(file, at) == answered) {
                return answer(at, parser);
            }
            Thread.onSpinWait();
        }
        Status giveUp = null; // why the client gave the call up, once it has tried to cancel it
        long lookedAtKernel = System.nanoTime();
        while (true) {
            int s = (int) INT.getVolatile(file, at);
            if (s == answered) {
                return answer(at, parser);
            }
            long now = System.nanoTime();
            Status why = giveUp != null ? null : now - deadlineAt >= 0
                    ? Status.DEADLINE_EXCEEDED.withDescription("deadline exceeded: no answer through shared memory in time")
                    : Thread.interrupted() ? Status.CANCELLED.withDescription("Thread interrupted") : null;
            if (why != null) {
                if (cancel(at, call)) {
                    if (why.getCode() == Status.Code.CANCELLED) {
                        Thread.currentThread().interrupt();
                    }
                    throw why.asRuntimeException();
                }
                giveUp = why; // answered meanwhile: the answer is the call's outcome, as it is coming
                continue;
            }
            if (now - lookedAtKernel >= SLICE) {
                lookedAtKernel = now;
                if (kernelGone()) {
                    closed = true;
                    cancel(at, call);
                    CallBell.closed(bellPath);
                    throw Status.UNAVAILABLE.withDescription("the kernel went away during a call through "
                            + "shared memory (its bell's connection ended)").asRuntimeException();
                }
            }
            Futex.await(base + at, s, Math.min(SLICE, giveUp != null ? SLICE : deadlineAt - now));
        }
    }

    /** Gives a call up, if it is not being answered: true if the kernel will not answer it. */
    private boolean cancel(int at, int call) {
        int cancelled = CallLayout.state(call, CallLayout.CANCELLED);
        if (INT.compareAndSet(file, at, CallLayout.state(call, CallLayout.POSTED), cancelled)
                || INT.compareAndSet(file, at, CallLayout.state(call, CallLayout.TAKEN), cancelled)) {
            ring(); // the core runs the call's cancel handler (a lock that waits stops waiting)
            return true;
        }
        return false;
    }

    private void ring() {
        INT.getAndAdd(file, CallLayout.DOORBELL, 1);
        if ((int) INT.getVolatile(file, CallLayout.ASLEEP) != 0) {
            bell.ring();
        }
    }

    private boolean kernelGone() {
        return (int) INT.getVolatile(file, CallLayout.CLOSED) != 0 || bell.gone();
    }

    private <T> T answer(int at, Parser<T> parser) {
        int kind = (int) INT.get(file, at + CallLayout.ANSWER_KIND);
        int length = (int) INT.get(file, at + CallLayout.ANSWER_LENGTH);
        try {
            if (length < 0 || length > CallLayout.PAYLOAD) {
                throw new InvalidProtocolBufferException("answer length " + length);
            }
            byte[] bytes = new byte[length];
            file.get(at + CallLayout.PAYLOAD_AT, bytes);
            if (kind == CallLayout.REPLY) {
                return parser.parseFrom(bytes);
            }
            throw StatusProto.toStatusRuntimeException(com.google.rpc.Status.parseFrom(bytes));
        } catch (InvalidProtocolBufferException e) {
            throw Status.INTERNAL.withDescription("an unreadable answer through shared memory: " + e.getMessage())
                    .asRuntimeException();
        }
    }
}
