package io.machxp.conform;

import com.google.rpc.ErrorInfo;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelKeepalive;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectPagerGrpc;
import io.machxp.proto.xp.PagerToKernel;
import io.machxp.proto.xp.PagerWelcome;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A kernel played by the conformance kit: one XP stream to the pager under test, whose messages it
 * sends by hand and whose answers it waits for.
 *
 * <h2>Overview</h2>
 * <pre>
 *  open      the Connect stream; nothing sent
 *  hello     kernel_hello, then waits for pager_welcome
 *  welcome   any pager_welcome (to a hello, a resume or a reclaim): with a lease, kernel_keepalive
 *            every quarter of it from then on (as a kernel must), until silence() or the end
 *  await     the first message received (and not yet taken) that matches, waiting until the
 *            case's deadline: a Violation naming what was expected and what came instead
 *  sync      a keepalive barrier: kernel_keepalive, then its pager_keepalive; the pager has
 *            handled everything sent before (spec 4.2, 10.1), so a case can then check that
 *            something was NOT sent (expectNone)
 *  close     terminates every object it initialized, then half-closes (a clean end, spec 2.6)
 *  breakStream  cancels the stream (a crash, as the pager sees it)
 * </pre>
 * pager_keepalive messages are consumed here (they answer sync and the timer); every other
 * message goes to the inbox. A kernel whose stream the pager ends with the lease's death
 * (FAILED_PRECONDITION / ETIMEDOUT, spec 4.5) while it keeps alive notes the longest the kit let
 * it go without sending anything ({@link #lostSendGapMillis}: between two of its sends from the
 * welcome on, or from its last send to the end): over half the lease means the kit itself stalled
 * (its keepalive timer fired late, a loaded machine), and the pager may rightly have declared it
 * dead. How long the pager left its keepalives unanswered is no such evidence: a pager that stops
 * answering and drops a kernel that kept sending breaks 4.1. Thread-safe: gRPC delivers on its own threads, the timer on the kit's,
 * the case on its own.
 */
public final class FakeKernel implements AutoCloseable {
    private final String name;
    private final long deadlineNanos;
    private final ScheduledExecutorService timer;
    private final List<PagerToKernel> inbox = new ArrayList<>();
    /**
     * Every pager message after the welcome, in order, pager_keepalive too: what a resumable kernel
     * counts (spec 4.7). A case's kernel lives a few seconds, so the list stays short.
     */
    private final List<PagerToKernel> session = new ArrayList<>();
    private final List<Integer> objects = new ArrayList<>();
    private final CompletableFuture<Status> ended = new CompletableFuture<>();
    private ClientCallStreamObserver<KernelToPager> out;
    private long nextSequence = 1;
    private long answeredSequence;
    private ScheduledFuture<?> keepalives;
    private PagerWelcome welcome;
    /** The kit has half-closed the stream: nothing more may be sent. */
    private boolean halfClosed;
    /** When this kernel last sent anything: the pager cannot have heard from it later. */
    private long lastSentNanos;
    /** What the stream ended with, if it ended with an error. */
    private Throwable lastError;
    /** Keepalives are scheduled and not stopped (by silence, a break, a clean end or the end). */
    private boolean keepingAlive;
    /** When it sent its kernel_hello (System.nanoTime): the welcome answers it. */
    private long helloSentNanos;
    /**
     * When it sent each keepalive not answered yet, by sequence: those at or below an answered one
     * are dropped (the stream is FIFO), and only the last {@link #UNANSWERED_KEPT} are kept (a pager
     * that never answers).
     */
    private final java.util.TreeMap<Long, Long> keepaliveSentNanos = new java.util.TreeMap<>();
    static final int UNANSWERED_KEPT = 64;
    /** When it sent the hello or keepalive the pager answered last: its lease runs a lease from then. */
    private long confirmedNanos;
    /** Its stream ended while it kept alive: how long its lease had gone unconfirmed then (ns); -1: not so. */
    private long lostUnconfirmedNanos = -1;
    /** While it keeps alive: the longest time between two of its sends, the welcome's arrival counting as one (ns). */
    private long longestSendGapNanos;
    /** While it keeps alive: when it last sent, or the welcome came (the keepalives' start). */
    private long gapFromNanos;
    /**
     * Its stream ended with the lease's death (spec 4.5) while it kept alive: the longest the kit let
     * it go without sending, up to the end (ns); -1: not so.
     */
    private long lostSendGapNanos = -1;

    FakeKernel(Channel channel, String name, long deadlineNanos, ScheduledExecutorService timer) {
        this.name = name;
        this.deadlineNanos = deadlineNanos;
        this.timer = timer;
        MemoryObjectPagerGrpc.newStub(channel).withWaitForReady().connect(new ClientResponseObserver<KernelToPager, PagerToKernel>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<KernelToPager> requests) {
                out = requests;
            }

            @Override
            public void onNext(PagerToKernel m) {
                synchronized (FakeKernel.this) {
                    if (!m.hasPagerWelcome()) {
                        session.add(m);
                    } else {
                        welcomed(m.getPagerWelcome());
                    }
                    if (m.hasPagerKeepalive()) {
                        answeredSequence = Math.max(answeredSequence, m.getPagerKeepalive().getSequence());
                        Long sent = keepaliveSentNanos.remove(m.getPagerKeepalive().getSequence());
                        if (sent != null) {
                            confirmedNanos = Math.max(confirmedNanos, sent);
                        }
                        // the stream is FIFO: a keepalive at or below the answered one gets no answer of its own
                        keepaliveSentNanos.headMap(answeredSequence, true).clear();
                    } else {
                        inbox.add(m);
                    }
                    FakeKernel.this.notifyAll();
                }
            }

            @Override
            public void onError(Throwable t) {
                end(Status.fromThrowable(t), t);
            }

            @Override
            public void onCompleted() {
                end(Status.OK, null);
            }
        });
    }

    public String name() {
        return name;
    }

    private synchronized void end(Status status, Throwable t) {
        if (keepingAlive && leaseDeath(status, t)) {
            long now = System.nanoTime();
            lostUnconfirmedNanos = now - confirmedNanos;
            lostSendGapNanos = Math.max(longestSendGapNanos, now - gapFromNanos);
        }
        stopKeepalives();
        lastError = t;
        ended.complete(status);
        notifyAll();
    }

    // ---- sending ------------------------------------------------------------------------------

    /** Sends one message (nothing once the stream has ended). */
    public void send(KernelToPager m) {
        synchronized (this) {
            if (ended.isDone() || halfClosed) {
                return;
            }
            if (m.hasMemoryObjectInit()) {
                objects.add(m.getMemoryObjectInit().getObjectId());
            } else if (m.hasMemoryObjectTerminate()) {
                objects.remove((Integer) m.getMemoryObjectTerminate().getObjectId());
            }
            long now = System.nanoTime();
            if (keepingAlive) {
                longestSendGapNanos = Math.max(longestSendGapNanos, now - gapFromNanos);
                gapFromNanos = now;
            }
            out.onNext(m);
            lastSentNanos = now;
            if (m.hasKernelHello()) {
                helloSentNanos = lastSentNanos;
            } else if (m.hasKernelKeepalive()) {
                keepaliveSentNanos.put(m.getKernelKeepalive().getSequence(), lastSentNanos);
                while (keepaliveSentNanos.size() > UNANSWERED_KEPT) {
                    keepaliveSentNanos.pollFirstEntry();
                }
            }
        }
    }

    /**
     * If the pager ended this kernel's stream with the lease's death while it kept alive (not after
     * {@link #silence}, {@link #breakStream} or {@link #close}): how long its lease had gone
     * unconfirmed by then, from sending the hello or keepalive the pager answered last (spec 4.1: a
     * kernel counts its lease from there); -1 otherwise. It measures the pager's answers, so a
     * pager that stops answering makes it grow: no evidence that the kit stalled
     * ({@link #lostSendGapMillis} is).
     */
    public synchronized long lostUnconfirmedMillis() {
        return lostUnconfirmedNanos < 0 ? -1 : lostUnconfirmedNanos / 1_000_000;
    }

    /**
     * If the pager ended this kernel's stream with the lease's death (FAILED_PRECONDITION /
     * ETIMEDOUT, spec 4.5) while it kept alive: the longest the kit let it go without sending
     * anything, from the welcome's arrival on, between two sends or from the last send to the end (ms); -1
     * otherwise. About a quarter of the lease when the kit keeps up (its keepalive timer); over half
     * of it, the kit itself stalled, and the pager may rightly have declared this kernel dead.
     */
    public synchronized long lostSendGapMillis() {
        return lostSendGapNanos < 0 ? -1 : lostSendGapNanos / 1_000_000;
    }

    /** The status a pager ends the stream of a kernel it declared dead with (spec 4.5). */
    static boolean leaseDeath(Status status, Throwable t) {
        ErrorInfo info = ErrorDetails.errorInfo(t);
        return status.getCode() == Status.Code.FAILED_PRECONDITION && info != null
                && "ETIMEDOUT".equals(info.getReason());
    }

    /** When this kernel last sent a message (System.nanoTime). */
    public synchronized long lastSentNanos() {
        return lastSentNanos;
    }

    public void send(KernelToPager.Builder m) {
        send(m.build());
    }

    /** kernel_hello (version 1, no reclaim) and its pager_welcome; keepalives start if there is a lease. */
    public PagerWelcome hello() {
        return hello(KernelHello.newBuilder().setKernelName(name).setProtocolVersion(1).build());
    }

    /** Sends this hello and waits for the welcome; keepalives start if there is a lease. */
    public PagerWelcome hello(KernelHello h) {
        send(KernelToPager.newBuilder().setKernelHello(h));
        return await("pager_welcome answering kernel_hello", PagerToKernel::hasPagerWelcome).getPagerWelcome();
    }

    /**
     * A pager_welcome arrived, whatever the hello (a resume or a reclaim too): the session is open,
     * so the kernel keeps alive from now on if there is a lease, as a kernel must (spec 4.2). Cases
     * that wait for a reclaim's welcome themselves would otherwise leave the reclaimed kernel silent,
     * and its lease would run out while the case waits for the grace period to end.
     */
    private synchronized void welcomed(PagerWelcome w) {
        if (welcome != null) {
            return; // a second welcome on a stream is the case's to judge; the keepalives run already
        }
        welcome = w;
        long lease = w.getLeaseMillis();
        if (lease > 0 && !ended.isDone() && !halfClosed) {
            long every = Math.max(1, lease / 4);
            keepalives = timer.scheduleAtFixedRate(this::keepalive, every, every, TimeUnit.MILLISECONDS);
            keepingAlive = true;
            confirmedNanos = helloSentNanos; // the welcome answers the hello
            gapFromNanos = System.nanoTime(); // the kit's keepalives are due from here
        }
    }

    /** The welcome this kernel received (to its hello, resume or reclaim); null before one. */
    public synchronized PagerWelcome welcome() {
        return welcome;
    }

    /** Cancels the keepalives. */
    private synchronized void stopKeepalives() {
        keepingAlive = false;
        if (keepalives != null) {
            keepalives.cancel(false);
        }
    }

    /** Sends a keepalive; its sequence. */
    private synchronized long keepalive() {
        long sequence = nextSequence++;
        send(KernelToPager.newBuilder().setKernelKeepalive(KernelKeepalive.newBuilder().setSequence(sequence)));
        return sequence;
    }

    /** Stops the keepalives: the kernel goes silent (its stream stays open), as a hung kernel does. */
    public synchronized void silence() {
        stopKeepalives();
    }

    /**
     * A keepalive barrier: returns once the pager answered a keepalive sent now, so it has handled
     * everything this kernel sent before (spec 4.2).
     */
    public void sync() {
        long sequence = keepalive();
        synchronized (this) {
            while (answeredSequence < sequence) {
                if (ended.isDone()) {
                    throw new Violation(name + ": the stream ended (" + describe(ended.join()) + ") while waiting for "
                            + "pager_keepalive " + sequence);
                }
                waitUntilDeadline("pager_keepalive with sequence " + sequence + " answering kernel_keepalive "
                        + sequence + " (spec 4.2)");
            }
        }
    }

    /** How many keepalives it keeps the send time of, unanswered. */
    synchronized int unansweredKeepalives() {
        return keepaliveSentNanos.size();
    }

    /** The highest keepalive sequence the pager answered so far. */
    public synchronized long answeredSequence() {
        return answeredSequence;
    }

    // ---- receiving ----------------------------------------------------------------------------

    /**
     * Takes the first message received that matches, waiting for one until the case's deadline.
     *
     * @throws Violation if none comes, or the stream ends first
     */
    public PagerToKernel await(String what, Predicate<PagerToKernel> match) {
        synchronized (this) {
            while (true) {
                for (Iterator<PagerToKernel> it = inbox.iterator(); it.hasNext(); ) {
                    PagerToKernel m = it.next();
                    if (match.test(m)) {
                        it.remove();
                        return m;
                    }
                }
                if (ended.isDone()) {
                    throw new Violation(name + " expected " + what + " but the stream ended (" + describe(ended.join())
                            + ")" + received());
                }
                waitUntilDeadline(what);
            }
        }
    }

    /** After a sync: no message received (and not taken) matches; else a Violation. */
    public void expectNone(String what, Predicate<PagerToKernel> match) {
        sync();
        synchronized (this) {
            for (PagerToKernel m : inbox) {
                if (match.test(m)) {
                    throw new Violation(name + " received " + Messages.describe(m) + ": " + what);
                }
            }
        }
    }

    /**
     * How many pager messages of the session (after the welcome, spec 4.7) this kernel had received
     * before the first that matches; a Violation if none has come.
     */
    public synchronized long receivedBefore(String what, Predicate<PagerToKernel> match) {
        for (int i = 0; i < session.size(); i++) {
            if (match.test(session.get(i))) {
                return i;
            }
        }
        throw new Violation(name + " has not received " + what);
    }

    /** Whether a message received and not yet taken matches (nothing is taken, nothing waited for). */
    public synchronized boolean holds(Predicate<PagerToKernel> match) {
        for (PagerToKernel m : inbox) {
            if (match.test(m)) {
                return true;
            }
        }
        return false;
    }

    /** Takes every message received so far (after a sync). */
    public synchronized List<PagerToKernel> drain() {
        List<PagerToKernel> all = new ArrayList<>(inbox);
        inbox.clear();
        return all;
    }

    private void waitUntilDeadline(String what) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            throw new Violation(name + " waited in vain for " + what + received());
        }
        try {
            TimeUnit.NANOSECONDS.timedWait(this, left);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Violation(name + " was interrupted waiting for " + what);
        }
    }

    private String received() {
        if (inbox.isEmpty()) {
            return " (nothing else received)";
        }
        List<String> names = new ArrayList<>();
        for (PagerToKernel m : inbox) {
            names.add(Messages.describe(m));
        }
        return " (received instead: " + String.join(", ", names) + ")";
    }

    /** Waits until the stream ends (until the case's deadline); its status. */
    public Status awaitEnd(String why) {
        synchronized (this) {
            while (!ended.isDone()) {
                waitUntilDeadline("the end of the stream: " + why);
            }
        }
        return ended.join();
    }

    public boolean ended() {
        return ended.isDone();
    }

    /** The ErrorInfo of the status the stream ended with, or null if it carried none. */
    public synchronized ErrorInfo errorInfo() {
        return ErrorDetails.errorInfo(lastError);
    }

    static String describe(Status s) {
        return ErrorDetails.describe(s);
    }

    // ---- ending -------------------------------------------------------------------------------

    /** Cancels the stream without a word: as a crashed kernel, seen from the pager. */
    public void breakStream() {
        synchronized (this) {
            stopKeepalives();
            if (!ended.isDone()) {
                out.cancel("the conformance kit breaks this kernel's stream", null);
                halfClosed = true;
            }
        }
    }

    /**
     * This stream resumed {@code earlier}'s session (spec 4.7): the objects initialized on the
     * earlier stream are this one's to terminate at a clean end, or {@link #close} would half-close
     * holding what the session holds of them (EBUSY, spec 2.6).
     */
    void resumed(FakeKernel earlier) {
        List<Integer> theirs;
        synchronized (earlier) {
            theirs = new ArrayList<>(earlier.objects);
        }
        synchronized (this) {
            for (int id : theirs) {
                if (!objects.contains(id)) {
                    objects.add(id);
                }
            }
        }
    }

    /** A clean end: terminates every object initialized (on this stream or one it resumed), then half-closes (spec 2.6). */
    @Override
    public void close() {
        synchronized (this) {
            stopKeepalives();
            if (ended.isDone() || halfClosed) {
                return; // ended, or already half-closed or broken by the kit (its cancel may not have ended it yet)
            }
            for (int id : new ArrayList<>(objects)) {
                send(KernelToPager.newBuilder().setMemoryObjectTerminate(
                        io.machxp.proto.xp.MemoryObjectTerminate.newBuilder().setObjectId(id)));
            }
            out.onCompleted();
            halfClosed = true;
        }
    }
}
