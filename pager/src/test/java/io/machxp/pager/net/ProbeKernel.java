package io.machxp.pager.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A kernel written from xp.proto alone, for probing the pager as an outside party would: it sends
 * whatever a test gives it (nonsense included), keeps what the pager sends, and uses a keepalive
 * as a barrier (the pager answers it only after everything sent before it was handled), so that a
 * test can tell "dropped" from "not handled yet" without timing.
 */
public final class ProbeKernel implements AutoCloseable {
    public final ManagedChannel channel;
    public final StreamObserver<KernelToPager> out;
    private final LinkedBlockingQueue<PagerToKernel> in = new LinkedBlockingQueue<>();
    /** The status the stream ended with: OK (code 0) if the pager completed it. */
    public final CompletableFuture<com.google.rpc.Status> end = new CompletableFuture<>();
    private final java.util.concurrent.atomic.AtomicLong sequence = new java.util.concurrent.atomic.AtomicLong();
    private java.util.concurrent.ScheduledExecutorService keepalives;
    /** When each keepalive not answered yet was sent (System.nanoTime), by its sequence. */
    private final java.util.concurrent.ConcurrentHashMap<Long, Long> keepaliveSentAt =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** When the latest keepalive the pager answered was sent (System.nanoTime); Long.MIN_VALUE: none yet. */
    private final java.util.concurrent.atomic.AtomicLong answeredKeepaliveSentAt =
            new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE);

    /**
     * How long the probe waits for one message (or the stream's end): a wait on a condition, so a
     * hang's bound only; a loaded machine (a load of 20 on 2 cores) holds a first welcome up for
     * seconds, a starved one (load 50) for more than a minute (LargeStatusTest's first welcome, 60 s
     * before, ran out so in a JVM's first test).
     */
    private static final long PATIENCE_SECONDS = 300;

    public ProbeKernel(String target) {
        channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
        out = MemoryObjectPagerGrpc.newStub(channel).connect(new StreamObserver<>() {
            @Override
            public void onNext(PagerToKernel m) {
                if (m.hasPagerKeepalive()) {
                    Long sentAt = keepaliveSentAt.remove(m.getPagerKeepalive().getSequence());
                    if (sentAt != null) {
                        answeredKeepaliveSentAt.accumulateAndGet(sentAt, Math::max);
                    }
                }
                in.add(m);
            }

            @Override
            public void onError(Throwable t) {
                com.google.rpc.Status s = StatusProto.fromThrowable(t);
                end.complete(s != null ? s : com.google.rpc.Status.newBuilder()
                        .setCode(io.grpc.Status.fromThrowable(t).getCode().value()).build());
            }

            @Override
            public void onCompleted() {
                end.complete(com.google.rpc.Status.getDefaultInstance());
            }
        });
    }

    /** A welcomed session of {@code name} with object "obj" as id 1. */
    public static ProbeKernel welcomed(String target, String name) throws InterruptedException {
        ProbeKernel k = new ProbeKernel(target);
        k.send(hello(name).build());
        assertThat(k.await(PagerToKernel::hasPagerWelcome).getPagerWelcome().getKernelId()).isPositive();
        k.send(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(1)
                .setName("obj").setPageSize(4096)).build());
        k.await(PagerToKernel::hasMemoryObjectReady);
        return k;
    }

    public static KernelToPager.Builder hello(String name) {
        return KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                .setProtocolVersion(1));
    }

    public static KernelToPager lock(long offset) {
        return KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(1).setOffset(offset)).build();
    }

    public void send(KernelToPager m) {
        synchronized (out) {
            out.onNext(m);
        }
    }

    /**
     * The next message the pager sent that matches, skipping others ({@link #PATIENCE_SECONDS} at
     * most); fails at once, with the stream's end, if the pager ended the stream before one came.
     */
    public PagerToKernel await(Predicate<PagerToKernel> wanted) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PATIENCE_SECONDS);
        while (true) {
            PagerToKernel m = in.poll(10, TimeUnit.MILLISECONDS);
            if (m == null) {
                if (end.isDone() && in.isEmpty()) {
                    throw new AssertionError("a message from the pager was awaited, and the pager ended the stream: "
                            + end.getNow(null));
                }
                assertThat(System.nanoTime() - deadline).as("a message from the pager within %d s", PATIENCE_SECONDS)
                        .isNegative();
                continue;
            }
            if (wanted.test(m)) {
                return m;
            }
        }
    }

    /** The next message the pager sent, or null once the stream has ended without one ({@link #PATIENCE_SECONDS} at most). */
    public PagerToKernel awaitOrEnd() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PATIENCE_SECONDS);
        while (System.nanoTime() < deadline) {
            PagerToKernel m = in.poll(10, TimeUnit.MILLISECONDS);
            if (m != null) {
                return m;
            }
            if (end.isDone()) {
                return in.poll();
            }
        }
        throw new AssertionError("neither a message from the pager nor the end of the stream in " + PATIENCE_SECONDS
                + " s");
    }

    /**
     * Sends a keepalive and waits for its answer: every message the pager sent before it (so, in
     * answer to everything this kernel sent before it) is returned, and no longer awaited.
     */
    public List<PagerToKernel> barrier() throws InterruptedException {
        long seq = keepalive();
        List<PagerToKernel> before = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PATIENCE_SECONDS);
        while (true) {
            PagerToKernel m = in.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            assertThat(m).as("the answer to keepalive " + seq).isNotNull();
            if (m.hasPagerKeepalive() && m.getPagerKeepalive().getSequence() == seq) {
                return before;
            }
            if (!m.hasPagerKeepalive()) {
                before.add(m);
            }
        }
    }

    /** Sends a keepalive of the next sequence, noting when (before it goes); returns its sequence. */
    private long keepalive() {
        synchronized (out) {
            long seq = sequence.incrementAndGet();
            keepaliveSentAt.put(seq, System.nanoTime());
            out.onNext(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(seq))
                    .build());
            return seq;
        }
    }

    /**
     * When (System.nanoTime, the pager's clock in the same JVM) the latest keepalive the pager
     * answered was sent: the pager heard this kernel no earlier, so its lease, counted from when
     * the pager last heard it, ends no earlier than this plus the lease. Long.MIN_VALUE if none
     * was answered.
     */
    public long answeredKeepaliveSentNanos() {
        return answeredKeepaliveSentAt.get();
    }

    /** Ends the stream as a crashed kernel's would: the connection goes. */
    public void crash() {
        close();
    }

    /**
     * Keeps the session's lease, as a kernel does: a keepalive every {@code periodMillis}. Call it
     * after the hello was sent (a keepalive before it breaks XP).
     */
    public ProbeKernel keepingAlive(long periodMillis) {
        keepalives = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        keepalives.scheduleAtFixedRate(this::keepalive, 0, periodMillis, TimeUnit.MILLISECONDS);
        return this;
    }

    @Override
    public void close() {
        if (keepalives != null) {
            keepalives.shutdownNow();
        }
        channel.shutdownNow();
    }

    /** The metadata of a stream's end's ErrorInfo (empty without one). */
    public static java.util.Map<String, String> metadata(com.google.rpc.Status status) throws Exception {
        for (var detail : status.getDetailsList()) {
            if (detail.is(com.google.rpc.ErrorInfo.class)) {
                return detail.unpack(com.google.rpc.ErrorInfo.class).getMetadataMap();
            }
        }
        return java.util.Map.of();
    }

    /**
     * The errno-like reason of a stream's end (its ErrorInfo, which must be of domain machxp, as
     * xp-spec 3.1 asks of every status a pager ends a stream with), or null if it has none.
     */
    public static String reason(com.google.rpc.Status status) throws Exception {
        for (var detail : status.getDetailsList()) {
            if (detail.is(com.google.rpc.ErrorInfo.class)) {
                com.google.rpc.ErrorInfo info = detail.unpack(com.google.rpc.ErrorInfo.class);
                assertThat(info.getDomain()).isEqualTo("machxp");
                return info.getReason();
            }
        }
        return null;
    }
}
