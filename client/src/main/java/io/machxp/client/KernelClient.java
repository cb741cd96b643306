package io.machxp.client;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.machxp.proto.task.KernelStatisticsReply;
import io.machxp.proto.task.KernelStatisticsRequest;
import io.machxp.proto.task.MachTaskGrpc;
import io.machxp.proto.task.TaskCreateRequest;
import io.machxp.proto.transport.TlsFiles;
import io.machxp.proto.transport.Transport;
import io.machxp.proto.transport.TransportException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A connection to one kernel's task interface. Thread-safe; all calls share one HTTP/2
 * connection. Every failure of a call is a {@link MachxpException}.
 *
 * <p>{@link #connect(String)} talks plaintext, which is allowed only to a loopback address; to a
 * kernel elsewhere give the client's TLS files (mutual TLS: the kernel requires a certificate signed
 * by its CA), or {@link Transport#PLAINTEXT} explicitly.
 *
 * <pre>{@code
 * try (KernelClient kernel = KernelClient.connect("kernel-a.example:7071",
 *         TlsFiles.inDirectory(Path.of("certs"), "client"))) {
 *     TaskClient task = kernel.taskCreate("worker");
 *     long base = task.vmMap("shared");
 *     ThreadClient thread = task.threadCreate();
 *     thread.lockFutex(base);
 *     try { ... } finally { thread.unlockFutex(base); }
 * }
 * }</pre>
 */
public final class KernelClient implements AutoCloseable {
    private final String target;
    private final ManagedChannel channel;
    private final MachTaskGrpc.MachTaskBlockingStub stub;
    final MachTaskGrpc.MachTaskStub async;
    /** Mach IPC (task.proto's MachIpc). */
    final io.machxp.proto.task.MachIpcGrpc.MachIpcBlockingStub ipc;
    /** Every unary call's deadline, or null: none (a call waits as long as its answer takes). */
    private final java.time.Duration callDeadline;
    /** Whether tasks may use memory the kernel shares with this process (else every call is gRPC). */
    private final boolean sharedMemory;
    /** Unary calls made to the kernel (what the shared-memory fast path saves is counted by their absence). */
    private final java.util.concurrent.atomic.LongAdder calls = new java.util.concurrent.atomic.LongAdder();
    /** Of those, the calls made through the call file in shared memory. */
    private final java.util.concurrent.atomic.LongAdder sharedCalls = new java.util.concurrent.atomic.LongAdder();

    /** How a client reaches its tasks' futexes. */
    public enum Memory {
        /** Through memory the kernel shares when it runs on this host (docs/shared-memory.md), else gRPC. */
        SHARED_WHEN_LOCAL,
        /** Every call over gRPC, wherever the kernel runs. */
        GRPC_ONLY
    }

    private KernelClient(String target, Transport transport, java.time.Duration callDeadline) {
        this(target, transport, callDeadline, Memory.SHARED_WHEN_LOCAL);
    }

    private KernelClient(String target, Transport transport, java.time.Duration callDeadline, Memory memory) {
        this.sharedMemory = memory == Memory.SHARED_WHEN_LOCAL;
        this.target = target;
        // the kernel's bound too (CallGate): it answers MACH_RCV_TOO_LARGE rather than send a reply above it
        this.channel = NettyChannelBuilder.forTarget(target, transport.channelCredentials(target, "a client"))
                .maxInboundMessageSize(io.machxp.kernel.net.CallGate.MAX_GRPC_MESSAGE_BYTES).build();
        this.stub = MachTaskGrpc.newBlockingStub(channel);
        this.async = MachTaskGrpc.newStub(channel);
        this.ipc = io.machxp.proto.task.MachIpcGrpc.newBlockingStub(channel);
        this.callDeadline = callDeadline;
    }

    /** The stub for one call: with the call deadline from now, if there is one. */
    MachTaskGrpc.MachTaskBlockingStub stub() {
        return callDeadline == null ? stub
                : stub.withDeadlineAfter(callDeadline.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** At most this long for the undo of a given-up lock ({@link GivenUpLock}), or the call deadline if shorter. */
    static final java.time.Duration UNDO_DEADLINE = java.time.Duration.ofSeconds(5);

    /**
     * The stub for the undo of a given-up lock: always with a deadline (the call deadline, at most
     * {@link #UNDO_DEADLINE}), so a thread that gave up because the kernel is unreachable is not
     * held in its undo for long.
     */
    MachTaskGrpc.MachTaskBlockingStub undoStub() {
        java.time.Duration d = callDeadline == null || callDeadline.compareTo(UNDO_DEADLINE) > 0 ? UNDO_DEADLINE : callDeadline;
        return stub.withDeadlineAfter(d.toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * A plaintext connection, for a kernel on this machine.
     *
     * @param target the kernel's task interface, "host:port"
     * @throws TransportException if the target is not a loopback address
     */
    public static KernelClient connect(String target) {
        return new KernelClient(target, Transport.LOOPBACK_PLAINTEXT, null);
    }

    /**
     * A mutual-TLS connection with the client's certificate, key and CA.
     *
     * @throws TransportException if a file is missing or unreadable, or the key does not match the
     *     certificate (one sentence naming the file)
     */
    public static KernelClient connect(String target, TlsFiles tls) {
        return new KernelClient(target, Transport.mutualTls(tls), null);
    }

    /** A connection with the given transport: mutual TLS, plaintext on loopback, or plaintext anywhere. */
    public static KernelClient connect(String target, Transport transport) {
        return new KernelClient(target, transport, null);
    }

    /**
     * As {@link #connect(String, Transport)}, every call with a deadline: one not answered within
     * {@code callDeadline} fails with DEADLINE_EXCEEDED (a kernel paused or cut off does not hold
     * the caller for as long as the fault lasts). A lock's own timeout should be shorter.
     */
    public static KernelClient connect(String target, Transport transport, java.time.Duration callDeadline) {
        return new KernelClient(target, transport, callDeadline);
    }

    /**
     * As {@link #connect(String, Transport, java.time.Duration)} (a null deadline: none), choosing
     * how tasks reach their futexes: {@link Memory#GRPC_ONLY} makes every call over gRPC even when
     * the kernel shares memory on this host. The answers and errors are the same either way.
     */
    public static KernelClient connect(String target, Transport transport, java.time.Duration callDeadline,
            Memory memory) {
        return new KernelClient(target, transport, callDeadline, memory);
    }

    public String target() {
        return target;
    }

    /**
     * task_create. On the kernel's host (and unless {@link Memory#GRPC_ONLY}) the task is attached
     * to the memory the kernel shares: its threads lock and unlock cached futexes in this process.
     */
    public TaskClient taskCreate(String name) {
        long token = createToken();
        long id = create(() -> stub().taskCreate(TaskCreateRequest.newBuilder().setName(name).setCreateToken(token).build()),
                () -> undoStub().taskTerminate(io.machxp.proto.task.TaskTerminateRequest.newBuilder()
                        .setAbandonedCreateToken(token).build())).getTask();
        return new TaskClient(this, id, sharedMemory ? SharedTaskMemory.attach(this, id) : null);
    }

    /** The kernel's counters: XP messages it sent and received, acquisitions by path. */
    public KernelStatisticsReply statistics() {
        return call(() -> stub().kernelStatistics(KernelStatisticsRequest.getDefaultInstance()));
    }

    /** The kernel's threads now: task names, priorities (boosts), the calls they are blocked in. */
    public io.machxp.proto.task.KernelThreadsReply threads() {
        return call(() -> stub().kernelThreads(io.machxp.proto.task.KernelThreadsRequest.getDefaultInstance()));
    }

    /**
     * How many calls this client has made to the kernel so far (blocking unary calls: futex, memory,
     * task and port calls alike). With the shared-memory fast path an uncontended lock, unlock, read
     * or write makes none; a benchmark divides this by its operations.
     */
    public long callsMade() {
        return calls.sum();
    }

    <T> T call(Supplier<T> rpc) {
        calls.increment();
        return call(target, callDeadline, rpc);
    }

    private static final java.security.SecureRandom TOKENS = new java.security.SecureRandom();

    /** A create_token (task.proto): random, never 0, as secret as a handle. */
    static long createToken() {
        long token;
        do {
            token = TOKENS.nextLong();
        } while (token == 0);
        return token;
    }

    /**
     * A create call (task_create, thread_create, vm_map) that carries a create_token: when the
     * client gives up on it without the kernel's answer (its deadline, a cancel, a broken
     * connection), {@code abandon} (a terminate, or a vm_map, with abandoned_create_token) ends what
     * the kernel may have made for it, before the failure is thrown: a reply on its way when the
     * deadline passed would otherwise leave a task, thread or mapping nobody can name (review rv59
     * MED-1a, LOW-1).
     */
    <T> T create(Supplier<T> rpc, Supplier<?> abandon) {
        calls.increment();
        try {
            return rpc.get();
        } catch (StatusRuntimeException e) {
            MachxpException failure = MachxpException.from(target, callDeadline, e);
            if (GivenUpLock.gaveUp(failure)) {
                calls.increment();
                GivenUpLock.undo(target, abandon, failure);
            }
            throw failure;
        }
    }

    /**
     * A unary call through the call file's {@code slot} (docs/shared-memory.md) when the task's
     * {@code shared} memory (null: none) can carry it, else over gRPC with {@code grpc}: the same
     * reply, the same errors either way. A fault of the call file switches the task to gRPC.
     */
    <Q extends com.google.protobuf.MessageLite, T> T call(SharedTaskMemory shared, CallChannel.Slot slot, int method,
            Q request, com.google.protobuf.Parser<T> parser, java.util.function.Function<Q, T> grpc) {
        return call(shared, slot, method, request, parser, grpc, null);
    }

    /**
     * As {@link #call(SharedTaskMemory, CallChannel.Slot, int, com.google.protobuf.MessageLite, com.google.protobuf.Parser,
     * java.util.function.Function)} for a lock or trylock: when it goes over gRPC and the client
     * gives up on it without the kernel's answer, {@code abandon} (vm_unlock_futex with
     * abandoned_lock_seq; null: none) undoes what the kernel may have granted that lock, before
     * the failure is thrown ({@link GivenUpLock}).
     */
    <Q extends com.google.protobuf.MessageLite, T> T call(SharedTaskMemory shared, CallChannel.Slot slot, int method,
            Q request, com.google.protobuf.Parser<T> parser, java.util.function.Function<Q, T> grpc,
            Supplier<?> abandon) {
        calls.increment();
        CallChannel channel = shared == null || !shared.usable() ? null : shared.calls;
        if (channel != null) {
            try {
                T answer = channel.call(slot, method, request, parser, callDeadline);
                if (answer != null) {
                    sharedCalls.increment();
                    return answer;
                }
            } catch (StatusRuntimeException e) {
                sharedCalls.increment();
                throw MachxpException.from(target, e);
            } catch (InternalError fault) {
                throw shared.fault(target, fault);
            }
        }
        try {
            return grpc.apply(request);
        } catch (StatusRuntimeException e) {
            MachxpException failure = MachxpException.from(target, e);
            if (abandon != null && GivenUpLock.gaveUp(failure)) {
                calls.increment();
                GivenUpLock.undo(target, abandon, failure);
            }
            throw failure;
        }
    }

    /** How many of {@link #callsMade()} went through shared memory instead of gRPC. */
    public long sharedCallsMade() {
        return sharedCalls.sum();
    }

    /** Runs one blocking call to {@code target}; its failure becomes a {@link MachxpException}. */
    static <T> T call(String target, Supplier<T> rpc) {
        return call(target, null, rpc);
    }

    /** As {@link #call(String, Supplier)}, for a call made with {@code deadline} (null: none). */
    static <T> T call(String target, java.time.Duration deadline, Supplier<T> rpc) {
        try {
            return rpc.get();
        } catch (StatusRuntimeException e) {
            throw MachxpException.from(target, deadline, e);
        }
    }

    /** A MachMsgReceiveOnDemand of {@code start}, one message asked for at a time ({@link DemandedReceive}). */
    java.util.Iterator<io.machxp.proto.task.MachMsgReply> receiveOnDemand(io.machxp.proto.task.MachMsgRequest start) {
        return new DemandedReceive(channel, start);
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
