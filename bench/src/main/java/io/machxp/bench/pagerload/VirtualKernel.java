package io.machxp.bench.pagerload;

import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectFutexReleased;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.MemoryObjectLockCompleted;
import io.machxp.proto.xp.MemoryObjectLockFutex;
import io.machxp.proto.xp.MemoryObjectLockRequest;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One virtual kernel of the {@link SyntheticLoad}: one XP session on one gRPC stream, and a
 * number of virtual threads, each a closed loop of lock and unlock on a futex of its own in this
 * kernel (so a kernel never has two lock_futex outstanding for one futex, xp-spec 8.2). No worker
 * threads and no KernelCore: everything runs on the kernel's event loop, the one its channel's
 * I/O runs on, in the gRPC callbacks. Part II (no cache): a grant is given back at once, as a
 * no-cache kernel does when its owner unlocks.
 *
 * <h2>Overview</h2>
 * <pre>
 *  {@link #start}        HELLO: kernel_hello sent (protocol 1, not resumable)
 *  pager_welcome         INIT: memory_object_init of the object as id 1; keepalives every lease/4
 *  memory_object_ready   RUNNING: every virtual thread sends lock_futex (WAITING)
 *  futex_granted         the thread's futex: checked (it waited, the token grows; shared futexes:
 *                        no other kernel holds it), futex_released with the grant's token (handoff
 *                        when the grant said relinquish), one cycle counted; then lock_futex again
 *                        (RUNNING, cycles left) or the thread rests (IDLE)
 *  relinquish_futex      the futex went back with the grant already (it crossed): nothing to do
 *  lock_request          answered as a kernel holding none of the pages: lock_completed if asked
 *  {@link #stop}         DRAINING: no more lock_futex; when every thread rests, half-close
 *  the pager completes   DONE ({@link #done} completes)
 *  anything else         a protocol error: counted with its first description ({@link LoadChecks})
 * </pre>
 */
final class VirtualKernel implements ClientResponseObserver<KernelToPager, PagerToKernel> {
    static final int OBJECT_ID = 1;

    private enum State { HELLO, INIT, RUNNING, DRAINING, DONE }

    private final String name;
    private final String object;
    private final int pageSize;
    private final EventLoop loop;
    private final LoadChecks checks;
    /** The futex word offsets of this kernel's threads, in thread order. */
    private final long[] offsets;
    /** Per thread: whether its lock_futex is outstanding. */
    private final boolean[] waiting;
    /** Per thread: the last token it was granted (tokens grow strictly per futex). */
    private final long[] lastToken;
    /** Per thread: cycles it still runs; Long.MAX_VALUE: until {@link #stop}. */
    private final long[] cyclesLeft;
    /** The offset of thread 0, and the distance between threads' words: offset to thread by arithmetic. */
    private final long base;
    private final long stride;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private ClientCallStreamObserver<KernelToPager> toPager;
    private State state = State.HELLO;
    private int waitingCount;
    /** Threads with cycles left to run. */
    private int threadsWithCycles;
    /** {@link #stop} was called: drain from the ready on, or at once if running. */
    private boolean stopping;
    private long keepaliveSequence;
    private ScheduledFuture<?> keepalives;
    /** Shared futexes: kernel i's number in {@link LoadChecks} holder slots (1..). */
    private final int number;

    /**
     * @param offsets the futex offsets of its threads: {@code base + i * stride}
     * @param cycles per thread; Long.MAX_VALUE to run until {@link #stop}
     */
    VirtualKernel(String name, int number, String object, int pageSize, EventLoop loop, LoadChecks checks,
            long base, long stride, int threads, long cycles) {
        this.name = name;
        this.number = number;
        this.object = object;
        this.pageSize = pageSize;
        this.loop = loop;
        this.checks = checks;
        this.base = base;
        this.stride = stride;
        this.offsets = new long[threads];
        this.waiting = new boolean[threads];
        this.lastToken = new long[threads];
        this.cyclesLeft = new long[threads];
        for (int i = 0; i < threads; i++) {
            offsets[i] = base + i * stride;
            cyclesLeft[i] = cycles;
        }
        this.threadsWithCycles = cycles > 0 ? threads : 0;
    }

    /** Any thread: opens the stream on {@code channel} and sends the hello, on this kernel's loop. */
    void start(ManagedChannel channel) {
        loop.execute(() -> {
            MemoryObjectPagerGrpc.newStub(channel).connect(this);
            send(KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(name)
                    .setProtocolVersion(1)).build());
        });
    }

    /** Any thread: no more lock_futex; the stream half-closes once every thread rests (after the ready, if not yet). */
    void stop() {
        loop.execute(() -> {
            stopping = true;
            if (state == State.RUNNING) {
                state = State.DRAINING;
                closeIfIdle();
            }
        });
    }

    /** Completes when the pager has completed the stream (after {@link #stop}, or every cycle run). */
    CompletableFuture<Void> done() {
        return done;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<KernelToPager> call) {
        toPager = call;
    }

    @Override
    public void onNext(PagerToKernel m) {
        switch (m.getRoutineCase()) {
            case MEMORY_OBJECT_FUTEX_GRANTED -> granted(m.getMemoryObjectFutexGranted());
            case PAGER_KEEPALIVE -> { }
            case MEMORY_OBJECT_RELINQUISH_FUTEX -> checks.relinquishCrossed();
            case PAGER_WELCOME -> welcome(m.getPagerWelcome().getLeaseMillis());
            case MEMORY_OBJECT_READY -> ready();
            case MEMORY_OBJECT_LOCK_REQUEST -> lockRequest(m.getMemoryObjectLockRequest());
            default -> checks.error(name + ": unexpected " + m.getRoutineCase() + " " + m);
        }
    }

    private void welcome(long leaseMillis) {
        if (state != State.HELLO) {
            checks.error(name + ": a second pager_welcome");
            return;
        }
        send(KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder().setObjectId(OBJECT_ID)
                .setName(object).setPageSize(pageSize)).build());
        if (leaseMillis > 0) {
            long period = Math.max(1, leaseMillis / 4);
            keepalives = loop.scheduleAtFixedRate(this::keepalive, period, period, TimeUnit.MILLISECONDS);
        }
        state = State.INIT;
    }

    private void keepalive() {
        if (state != State.DONE) {
            send(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder()
                    .setSequence(++keepaliveSequence)).build());
        }
    }

    private void ready() {
        if (state != State.INIT) {
            checks.error(name + ": memory_object_ready in state " + state);
            return;
        }
        state = stopping ? State.DRAINING : State.RUNNING;
        for (int i = 0; i < offsets.length; i++) {
            lockIfLeft(i);
        }
        closeIfIdle(); // zero cycles
    }

    private void lockIfLeft(int thread) {
        if (state != State.RUNNING || cyclesLeft[thread] == 0) {
            return;
        }
        waiting[thread] = true;
        waitingCount++;
        send(KernelToPager.newBuilder().setMemoryObjectLockFutex(MemoryObjectLockFutex.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(offsets[thread])).build());
    }

    private void granted(MemoryObjectFutexGranted g) {
        int thread = threadOf(g.getObjectId(), g.getOffset());
        if (thread < 0 || !waiting[thread]) {
            checks.error(name + ": futex_granted for a futex no thread waits for: " + g);
            return;
        }
        if (g.getFencingToken() <= lastToken[thread] || g.getOwnerDied()) {
            checks.error(name + ": futex_granted with token " + g.getFencingToken() + " after "
                    + lastToken[thread] + (g.getOwnerDied() ? ", owner_died (no kernel died)" : ""));
        }
        lastToken[thread] = g.getFencingToken();
        checks.acquired(number, thread, g.getFencingToken());
        waiting[thread] = false;
        waitingCount--;
        // The owner unlocks at once: Part II gives the futex back to the pager at every unlock.
        checks.releasing(number, thread);
        send(KernelToPager.newBuilder().setMemoryObjectFutexReleased(MemoryObjectFutexReleased.newBuilder()
                .setObjectId(OBJECT_ID).setOffset(g.getOffset()).setFencingToken(g.getFencingToken())
                .setHandoff(g.getRelinquish())).build());
        checks.cycle();
        if (cyclesLeft[thread] != Long.MAX_VALUE && --cyclesLeft[thread] == 0) {
            threadsWithCycles--;
        }
        lockIfLeft(thread);
        closeIfIdle();
    }

    /** The thread whose futex is at {@code offset}, or -1. */
    private int threadOf(int objectId, long offset) {
        long d = offset - base;
        if (objectId != OBJECT_ID || d < 0 || d % stride != 0 || d / stride >= offsets.length) {
            return -1;
        }
        return (int) (d / stride);
    }

    private void lockRequest(MemoryObjectLockRequest r) {
        // This kernel holds no page: nothing to return or flush; acknowledge if asked (xp-spec 6.4).
        if (r.getReply()) {
            send(KernelToPager.newBuilder().setMemoryObjectLockCompleted(MemoryObjectLockCompleted.newBuilder()
                    .setObjectId(r.getObjectId()).setOffset(r.getOffset()).setLength(r.getLength())).build());
        }
    }

    /** Half-closes once no thread waits and none will lock again (draining, or every cycle run). */
    private void closeIfIdle() {
        if (waitingCount > 0 || state == State.DONE || state == State.HELLO || state == State.INIT) {
            return;
        }
        if (state == State.RUNNING && threadsWithCycles > 0) {
            return;
        }
        state = State.DONE;
        if (keepalives != null) {
            keepalives.cancel(false);
        }
        toPager.onCompleted();
    }

    private void send(KernelToPager m) {
        toPager.onNext(m);
    }

    @Override
    public void onError(Throwable t) {
        if (keepalives != null) {
            keepalives.cancel(false);
        }
        checks.error(name + ": the stream failed: " + io.grpc.Status.fromThrowable(t));
        done.complete(null);
    }

    @Override
    public void onCompleted() {
        if (state != State.DONE) {
            checks.error(name + ": the pager ended the stream in state " + state);
        }
        done.complete(null);
    }
}
