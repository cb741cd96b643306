package io.machxp.conform;

import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectFutexGranted;
import io.machxp.proto.xp.MemoryObjectReady;
import io.machxp.proto.xp.PagerToKernel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a conformance case works with: fake kernels on the target, fresh pages and futexes of the
 * memory object under test, the case's deadline, and the target's restart. Each case gets its
 * own probe; the kernels it opened are closed cleanly when it ends.
 *
 * <p>Every case uses pages no other case of the run uses (the run starts at a random page of the
 * object, so that runs against one long-lived pager seldom meet), and kernel names of its own.
 */
public final class PagerProbe implements AutoCloseable {
    /** The object id every fake kernel gives the object under test. */
    public static final int OBJECT_ID = 1;

    /** What the cases of one run share: where they are and what they found out about the target. */
    static final class Run {
        final io.grpc.ManagedChannel channel;
        final String runId;
        final String object;
        final ScheduledExecutorService timer;
        final Restarter restarter;
        final AtomicLong nextPage;
        volatile int pageSize;
        volatile long objectSize;
        volatile long leaseMillis;

        Run(io.grpc.ManagedChannel channel, String runId, String object, ScheduledExecutorService timer, Restarter restarter,
                long firstPage) {
            this.channel = channel;
            this.runId = runId;
            this.object = object;
            this.timer = timer;
            this.restarter = restarter;
            this.nextPage = new AtomicLong(firstPage);
        }
    }

    /** How the kit restarts the target (--restart-cmd), for the cases that need it. */
    @FunctionalInterface
    public interface Restarter {
        void restart() throws Exception;
    }

    private final Run run;
    private final String caseId;
    /** Until when the case's kernels wait for answers; moved on by the time a restart took. */
    private long deadlineNanos;
    /** How long the target may take to take connections again after a restart. */
    private final java.time.Duration connectTimeout;
    private final List<FakeKernel> kernels = new ArrayList<>();
    /** When (System.nanoTime) this case's last restart began; 0: none yet. */
    private volatile long restartBegan;
    /** See {@link #lateReclaimMillis}; -1: no reclaim of this case was refused late. */
    private volatile long lateReclaimMillis = -1;

    PagerProbe(Run run, String caseId, long deadlineNanos, java.time.Duration connectTimeout) {
        this.run = run;
        this.caseId = caseId;
        this.deadlineNanos = deadlineNanos;
        this.connectTimeout = connectTimeout;
    }

    /** A kernel with its stream open and nothing sent; {@code role} ends its name. */
    public FakeKernel open(String role) {
        String name = ("cf-" + run.runId + "-" + caseId + "-" + role).replaceAll("[^\\x21-\\x7e]", "_");
        FakeKernel k = new FakeKernel(run.channel, name.length() > 64 ? name.substring(name.length() - 64) : name,
                deadlineNanos, run.timer);
        synchronized (kernels) {
            kernels.add(k);
        }
        return k;
    }

    /** A kernel welcomed by the target with the object under test ready under {@link #OBJECT_ID}. */
    public FakeKernel kernel(String role) {
        return kernel(role, new String[0]);
    }

    /** As {@link #kernel(String)}, with a hello naming {@code features} (spec 6.12). */
    public FakeKernel kernel(String role, String... features) {
        FakeKernel k = open(role);
        return welcomed(k, io.machxp.proto.xp.KernelHello.newBuilder().setKernelName(k.name()).setProtocolVersion(1)
                .addAllFeatures(java.util.List.of(features)).build());
    }

    /** As {@link #kernel(String)}, with {@code resumable} set in its hello (spec 4.7). */
    public FakeKernel resumableKernel(String role) {
        FakeKernel k = open(role);
        return welcomed(k, io.machxp.proto.xp.KernelHello.newBuilder().setKernelName(k.name()).setProtocolVersion(1)
                .setResumable(true).build());
    }

    /** Sends {@code hello} on {@code k}, then memory_object_init of the object under test, and waits for ready. */
    private FakeKernel welcomed(FakeKernel k, io.machxp.proto.xp.KernelHello hello) {
        k.hello(hello);
        run.pageSize = k.welcome().getPageSize();
        run.leaseMillis = k.welcome().getLeaseMillis();
        k.send(Messages.init(OBJECT_ID, run.object, run.pageSize));
        PagerToKernel answer = k.await("memory_object_ready or _destroy for object '" + run.object + "'",
                m -> m.hasMemoryObjectReady() || m.hasMemoryObjectDestroy());
        if (answer.hasMemoryObjectDestroy()) {
            throw new Skipped("the target does not serve object '" + run.object + "' (" + answer
                    .getMemoryObjectDestroy().getReason() + "); name one it serves with --object");
        }
        MemoryObjectReady ready = answer.getMemoryObjectReady();
        run.objectSize = ready.getSize();
        return k;
    }

    public int pageSize() {
        return run.pageSize;
    }

    public String object() {
        return run.object;
    }

    public String runId() {
        return run.runId;
    }

    public long objectSize() {
        return run.objectSize;
    }

    /** The lease the target gives; a Skipped if it gives none (the case needs one). */
    public long leaseMillis() {
        if (run.leaseMillis <= 0) {
            throw new Skipped("the target gives no lease (lease_millis 0 in its welcome); run it with a short lease");
        }
        return run.leaseMillis;
    }

    /** The offset of a page no other case of this run uses (call after a kernel has been welcomed). */
    public long freshPage() {
        long pages = Math.max(1, run.objectSize / Math.max(1, run.pageSize));
        return (run.nextPage.getAndIncrement() % pages) * run.pageSize;
    }

    /**
     * Restarts the target and waits until it takes connections again; a Skipped without
     * --restart-cmd. The kernels opened before go silent (their streams go with the target); the
     * kernels opened afterwards wait as long as the case would have, counted from now.
     *
     * @return when (System.nanoTime) the restarted target took a connection
     */
    public long restart() throws Exception {
        if (run.restarter == null) {
            throw new Skipped("needs the target restarted: give --restart-cmd");
        }
        synchronized (kernels) {
            for (FakeKernel k : kernels) {
                // their streams go with the target: a kernel lost so is no stall (lostUnconfirmedMillis)
                k.silence();
            }
        }
        long started = System.nanoTime();
        restartBegan = started;
        run.restarter.restart();
        try {
            ConformRunner.awaitReady(run.channel, connectTimeout);
        } catch (ConformRunner.Unreachable e) {
            throw new Violation("the target did not take connections after its restart: " + e.getMessage());
        }
        long reachable = System.nanoTime();
        deadlineNanos += reachable - started;
        return reachable;
    }

    /** Asks for the futex at {@code offset} and waits for its grant. */
    public MemoryObjectFutexGranted lock(FakeKernel k, long offset) {
        k.send(Messages.lockFutex(OBJECT_ID, offset, false, 0));
        return granted(k, offset, "memory_object_lock_futex of a free futex (spec 8.3)");
    }

    /**
     * {@code holder} gets the futex at {@code offset}, then {@code waiter} asks for it and the
     * holder is asked to relinquish it (spec 8.4).
     *
     * @return the holder's fencing token
     */
    public long lockWithWaiter(FakeKernel holder, FakeKernel waiter, long offset) {
        long token = lock(holder, offset).getFencingToken();
        waiter.send(Messages.lockFutex(OBJECT_ID, offset, false, 0));
        relinquish(holder, offset, waiter.name() + " waits for the futex (spec 8.4)");
        return token;
    }

    /** data_request(READ) of the page at {@code offset}, and its answer. */
    Check.Page read(FakeKernel k, long offset, String why) {
        k.send(Messages.dataRequest(OBJECT_ID, offset, pageSize(), io.machxp.proto.xp.VmProt.VM_PROT_READ));
        return Check.supplied(k, offset, pageSize(), why);
    }

    /** data_request(READ_WRITE) of the page at {@code offset}, and its answer. */
    Check.Page write(FakeKernel k, long offset, String why) {
        k.send(Messages.dataRequest(OBJECT_ID, offset, pageSize(), io.machxp.proto.xp.VmProt.VM_PROT_READ_WRITE));
        return Check.supplied(k, offset, pageSize(), why);
    }

    /** Waits for a grant of the futex at {@code offset}. */
    public MemoryObjectFutexGranted granted(FakeKernel k, long offset, String why) {
        return k.await("futex_granted at 0x" + Long.toHexString(offset) + ": " + why,
                m -> m.hasMemoryObjectFutexGranted() && m.getMemoryObjectFutexGranted().getOffset() == offset)
                .getMemoryObjectFutexGranted();
    }

    /** Waits for a futex_busy of the futex at {@code offset}. */
    public void busy(FakeKernel k, long offset, String why) {
        k.await("futex_busy at 0x" + Long.toHexString(offset) + ": " + why,
                m -> m.hasMemoryObjectFutexBusy() && m.getMemoryObjectFutexBusy().getOffset() == offset);
    }

    /** Waits for a relinquish_futex of the futex at {@code offset}. */
    public PagerToKernel relinquish(FakeKernel k, long offset, String why) {
        return k.await("relinquish_futex at 0x" + Long.toHexString(offset) + ": " + why,
                m -> m.hasMemoryObjectRelinquishFutex() && m.getMemoryObjectRelinquishFutex().getOffset() == offset);
    }

    /**
     * Of the kernels of this case whose streams the target ended with the lease's death while they
     * kept alive, the longest any had gone with its lease unconfirmed by then (ms,
     * {@link FakeKernel#lostUnconfirmedMillis}); -1: none was lost so. For the note of a run again
     * only: it measures the target's answers, so it is no evidence that the kit stalled
     * ({@link #lostSendGapMillis} is).
     */
    long lostUnconfirmedMillis() {
        synchronized (kernels) {
            return kernels.stream().mapToLong(FakeKernel::lostUnconfirmedMillis).max().orElse(-1);
        }
    }

    /**
     * Of the kernels of this case whose streams the target ended with the lease's death (spec 4.5)
     * while they kept alive, the longest the kit let any go without sending (ms,
     * {@link FakeKernel#lostSendGapMillis}); -1: none was lost so. Over half the lease, the kit
     * itself stalled, and the target may rightly have declared that kernel dead.
     */
    long lostSendGapMillis() {
        synchronized (kernels) {
            return kernels.stream().mapToLong(FakeKernel::lostSendGapMillis).max().orElse(-1);
        }
    }

    /**
     * What a reclaim the restarted target refused (ESTALE) says about it. The grace period starts no
     * earlier than the restart and lasts at least the lease (spec 9.2), so a refusal seen less than a
     * lease after the restart began came inside it: the target takes no reclaims, and the case is
     * skipped. Seen later, the grace period may have ended before the reclaim arrived (a loaded
     * machine, a slow restart command): the refusal proves nothing either way, the kit notes how late
     * it was ({@link #lateReclaimMillis}) and runs the case again ({@link ConformRunner}).
     */
    Skipped reclaimRefused() {
        Skipped late = lateRefusal("the reclaim");
        return late != null ? late : new Skipped("the restarted target refuses reclaims (ESTALE: a pager without "
                + "stored pages, spec 9.2, or one that takes none, 9.4)");
    }

    /**
     * The SKIP of {@link #reclaimRefused} for a refusal (ESTALE) of {@code what} seen a lease or
     * more after the restart began (its grace period may have ended first; the kit notes how late
     * and runs the case again), or null if it came sooner, inside the grace period: a case that
     * has seen the target take reclaims then has a refusal to judge.
     */
    Skipped lateRefusal(String what) {
        long after = millisSinceRestart();
        long lease = run.leaseMillis;
        if (after < 0 || lease <= 0 || after < lease) {
            return null;
        }
        lateReclaimMillis = after;
        return new Skipped("the restarted target refused " + what + " (ESTALE) " + after + " ms after its restart "
                + "began, a lease (" + lease + " ms) or more: its grace period may have ended before the reclaim "
                + "arrived (a loaded machine or a slow restart command), so the case could not be checked here; a "
                + "longer lease gives the kit more time");
    }

    /**
     * The SKIP for {@code what}, answered {@code afterMillis} after the restart began, a lease
     * ({@code leaseMillis}) or more, where the rule holds it in the grace period: the grace period may have ended first (a
     * loaded machine, a slow restart command), so the answer proves nothing; the kit notes how late
     * ({@link #lateReclaimMillis}) and runs the case again, as for a late refusal.
     */
    Skipped lateAnswer(String what, long afterMillis, long leaseMillis) {
        lateReclaimMillis = afterMillis;
        return new Skipped(what + " was answered " + afterMillis + " ms after the target's restart began, a lease ("
                + leaseMillis + " ms) or more: its grace period may have ended before it arrived (a loaded "
                + "machine or a slow restart command), so the case could not be checked here; a longer lease gives "
                + "the kit more time");
    }

    /** Milliseconds since this case's last restart began; -1 before any. */
    long millisSinceRestart() {
        long began = restartBegan;
        return began == 0 ? -1 : (System.nanoTime() - began) / 1_000_000;
    }

    /**
     * How long after its restart began the target refused a reclaim of this case when that may have
     * been after its grace period (ms, {@link #reclaimRefused}); -1: none was. The case's SKIP then
     * says nothing about the target, and the kit runs it again.
     */
    long lateReclaimMillis() {
        return lateReclaimMillis;
    }

    /** Sends a message built by the caller. */
    public void send(FakeKernel k, KernelToPager m) {
        k.send(m);
    }

    @Override
    public void close() {
        synchronized (kernels) {
            for (FakeKernel k : kernels) {
                try {
                    k.close();
                } catch (RuntimeException e) {
                    // its stream went away while it closed: nothing is left to end
                }
            }
        }
    }
}
