package io.machxp.kernel;

import io.grpc.ChannelCredentials;
import io.machxp.kernel.core.KernelCore;
import io.machxp.kernel.core.KernelXp;
import io.machxp.proto.xp.KernelToPager;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A kernel's XP streams, one {@link PagerLink} per pager it uses, in the order of its
 * configuration (0: the primary, whose kernel id makes its TIDs; see docs/multi-pager.md). With
 * one pager, one link: what a kernel always had.
 *
 * <p>Opening connects every stream and then starts the core, which sends kernel_hello to the
 * primary and, once it has welcomed the kernel, to every other pager (with the TID prefix its
 * kernel id makes); the session is open when every pager has welcomed the kernel, and the start
 * fails at the first pager that fails. Closing shuts the core down once
 * (its pages go back and its objects are terminated, each on its pager's stream, then a keepalive
 * goes to each), ends each stream once its keepalive is answered (what the kernel gave back is then
 * stored), and waits a few seconds at most for each pager to end its side.
 */
final class PagerLinks {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PagerLinks.class);
    /** How long the closing thread waits for the core loop to run one of its steps. */
    private static final long CORE_STEP_SECONDS = 5;
    /** A clean end's bound, per pager: for a resume to be taken, then for the end's keepalive answer. */
    private final long closeWaitNanos;
    private final PagerLink[] links;
    private final EventLoop loop;
    private final KernelCore core;

    PagerLinks(List<ReplicaChoice> targets, ChannelCredentials credentials, EventLoopGroup coreGroup, KernelCore core,
            XpTap tap, XpSendLimits limits, java.time.Duration closeWait) {
        this.closeWaitNanos = closeWait.toNanos();
        this.loop = coreGroup.next();
        this.core = core;
        this.links = new PagerLink[targets.size()];
        for (int p = 0; p < links.length; p++) {
            links[p] = new PagerLink(targets.get(p), credentials, coreGroup, core, p, tap, limits);
        }
    }

    /** Each link's opening (null before {@link #open}), to say which pager a failed start is about. */
    private volatile CompletableFuture<?>[] opening;
    /** The pager whose opening failed first (-1: none): the one whose failure the start reports. */
    private final java.util.concurrent.atomic.AtomicInteger firstFailed = new java.util.concurrent.atomic.AtomicInteger(-1);

    /** Opens every stream and starts the core; completes with the kernel id once every pager welcomed it. */
    CompletableFuture<Integer> open() {
        CompletableFuture<Integer> welcomed = new CompletableFuture<>();
        loop.execute(() -> {
            CompletableFuture<?>[] each = new CompletableFuture<?>[links.length];
            for (int p = 0; p < links.length; p++) {
                each[p] = links[p].open();
            }
            opening = each;
            core.xp().start();
            // The first failure fails the start at once: the other pagers' hellos wait for the
            // primary's welcome (their TID prefix), so a primary that fails leaves them unanswered.
            for (int p = 0; p < each.length; p++) {
                int pager = p;
                each[p].whenComplete((v, error) -> {
                    if (error != null && firstFailed.compareAndSet(-1, pager)) {
                        welcomed.completeExceptionally(error instanceof java.util.concurrent.CompletionException c
                                && c.getCause() != null ? c.getCause() : error);
                    }
                });
            }
            CompletableFuture.allOf(each).whenComplete((v, error) -> {
                if (error == null) {
                    welcomed.complete(core.kernelId());
                }
            });
        });
        return welcomed;
    }

    /**
     * After {@link #open} failed or timed out: the pager whose opening failed first (the failure
     * the start reports), else the first that has not welcomed the kernel yet; -1 if neither (or
     * not opened). Any thread.
     */
    int pagerNotWelcoming() {
        CompletableFuture<?>[] each = opening;
        if (each == null) {
            return -1;
        }
        if (firstFailed.get() >= 0) {
            return firstFailed.get();
        }
        for (int p = 0; p < each.length; p++) {
            if (!each[p].isDone()) {
                return p;
            }
        }
        return -1;
    }

    /** Core thread only: {@code message} on the stream to pager {@code pager}. */
    void send(int pager, KernelToPager message) {
        links[pager].send(message); // the link's tap hears it when it goes onto the stream
    }

    /** Core thread: a new stream to pager {@code pager}, to reclaim what the kernel holds there. */
    boolean reconnect(int pager) {
        return links[pager].reconnect();
    }

    /**
     * Core thread: a new connection and stream to pager {@code pager} for a resume of its session;
     * the other pagers' streams are not touched (each session resumes on its own).
     */
    boolean resume(int pager) {
        return links[pager].resume();
    }

    /** Core thread: whether the resume's stream to pager {@code pager} is up (see {@link PagerLink#resumeAwaited}). */
    boolean resumeAwaited(int pager) {
        return links[pager].resumeAwaited();
    }

    /** Core thread: the resume at pager {@code pager} goes to its next replica (see {@link PagerLink#nextReplica}). */
    boolean nextReplica(int pager) {
        return links[pager].nextReplica();
    }

    /** Whether pager {@code pager} has several replicas (its --pager entry lists them joined by '+'). */
    boolean replicated(int pager) {
        return links[pager].replicated();
    }

    /** Core thread: pager {@code pager} took the resume; its replaced connections close. */
    void resumed(int pager) {
        links[pager].resumed();
    }

    /** Core thread: the core ended the resume of pager {@code pager}'s session (see {@link PagerLink#resumeOver}). */
    void resumeOver(int pager) {
        links[pager].resumeOver();
    }

    /** Core thread: pager {@code pager}'s session, ending, was lost for good (see {@link PagerLink#endOver}). */
    void endOver(int pager) {
        links[pager].endOver();
    }

    /** Core thread: stops every link for good without waiting; idempotent. */
    void dispose() {
        for (PagerLink l : links) {
            l.dispose();
        }
    }

    /** Cuts every stream without a word to the pagers, as a crashed kernel would. */
    void abort() {
        for (PagerLink l : links) {
            l.abort();
        }
    }

    /**
     * Returns dirty pages, terminates every object and ends the streams, each once the pager
     * answered the keepalive the core sent after its last return there (xp-spec 2.6: what the
     * kernel gave back is then stored, so the copies it drops now are not the last); then waits
     * until each pager has ended its side. Each wait is bounded (the close wait,
     * {@link KernelConfig#closeWait}, the pagers in parallel; first for a session's resume to be
     * taken, then for the answers): an answer that does not come is logged, naming the pager and
     * how many returns may not be on its disk, and the stream ends anyway.
     */
    void close() {
        if (loop.inEventLoop()) { // nobody to wait: every stream ends at once
            shutDown();
            boolean[] open = finish();
            for (int p = 0; p < links.length; p++) {
                links[p].awaitEnd(open[p], 0);
            }
            return;
        }
        long waitNanos = closeWaitNanos;
        CompletableFuture<Ending> shutDown = new CompletableFuture<>();
        long resumeDeadline = System.nanoTime() + waitNanos;
        loop.execute(() -> shutDownOnceResumed(shutDown, resumeDeadline));
        Ending ending = null;
        try {
            ending = shutDown.get(waitNanos + TimeUnit.SECONDS.toNanos(CORE_STEP_SECONDS), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // the core did not answer in time: close anyway
        }
        long waitFrom = System.nanoTime();
        long deadline = waitFrom + waitNanos;
        boolean[] open = new boolean[links.length];
        if (ending != null) {
            awaitBarriers(ending, waitFrom, deadline);
        }
        // The second part runs also when the first did not answer in time (it may have run since):
        // no session stays ending, and the spare streams close.
        CompletableFuture<boolean[]> halfClosed = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                halfClosed.complete(finish());
            } catch (RuntimeException ex) {
                halfClosed.completeExceptionally(ex);
            }
        });
        try {
            open = halfClosed.get(CORE_STEP_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException ex) {
            // the core did not answer in time: close anyway
        }
        // The pager ends its side once what the stream carried is stored: after the answer, at once.
        long endDeadline = Math.max(deadline,
                System.nanoTime() + TimeUnit.SECONDS.toNanos(PAGER_SIDE_MIN_WAIT_SECONDS));
        for (int p = 0; p < links.length; p++) {
            links[p].awaitEnd(open[p], endDeadline);
        }
    }

    /**
     * Core thread: the core's shutdown ({@link #shutDown}) once no session is being resumed, or at
     * {@code deadline} (System.nanoTime). A session being resumed only keeps what the kernel sends
     * until the pager takes the resume (xp-spec 4.7): its returns, terminates and last keepalive
     * would go nowhere, and the stream would end under them. Once the resume is taken they go on
     * the resumed stream and the end waits for their answer as always; if it is not taken in
     * time, the core says in its log what it could not send. The core is asked again at each
     * event that may end the resume of the session waited for ({@link PagerLink#resumeOutcome}):
     * the link's (taken, refused, broken, not started, the link stopped), the core's own (the
     * session lost, say its lease ran out, or replaced by a rejoin: {@link #resumeOver}), and at
     * the deadline.
     */
    private void shutDownOnceResumed(CompletableFuture<Ending> done, long deadline) {
        var atDeadline = loop.schedule(() -> shutDownNow(done), Math.max(0, deadline - System.nanoTime()),
                TimeUnit.NANOSECONDS);
        done.whenComplete((ending, error) -> atDeadline.cancel(false));
        shutDownUnlessResuming(done, deadline, new boolean[links.length]);
    }

    /** Core thread: the shutdown now if no session is being resumed (or the deadline passed), else at the next word. */
    private void shutDownUnlessResuming(CompletableFuture<Ending> done, long deadline, boolean[] told) {
        if (done.isDone()) {
            return; // the deadline came first
        }
        int resuming;
        try {
            resuming = System.nanoTime() - deadline < 0 ? firstResuming(told) : -1;
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
            return;
        }
        if (resuming < 0) {
            shutDownNow(done);
            return;
        }
        Runnable again = () -> shutDownUnlessResuming(done, deadline, told);
        // on the loop, not inside the link's call that completes it (the core's handling of a welcome, say)
        links[resuming].resumeOutcome().thenRun(() -> loop.execute(again));
    }

    /** Core thread: the first pager whose session is being resumed (its wait logged once: {@code told}); -1: none. */
    private int firstResuming(boolean[] told) {
        for (int p = 0; p < links.length; p++) {
            int kept = core.xp().keptWhileResuming(p);
            if (kept < 0) {
                continue;
            }
            if (!told[p]) {
                told[p] = true;
                log.info("kernel {}: its close waits for the resume of its session with pager {} ({}), which "
                        + "keeps {} messages until the pager takes it", core.name(), p, links[p].target(), kept);
            }
            return p;
        }
        return -1;
    }

    /** Core thread: the core's shutdown, unless it ran already; {@code done} completes with its ending. */
    private void shutDownNow(CompletableFuture<Ending> done) {
        if (done.isDone()) {
            return;
        }
        try {
            done.complete(shutDown());
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
        }
    }

    /**
     * How long the kernel waits at least, once it half-closed a stream, for the pager to end its
     * side (even when the close wait is spent): the pager ends it once what the stream carried is
     * durable, at once after the end's keepalive was answered. Not the pager's own bound for that
     * end (XpService.CLEAN_END_DURABLE_WAIT_SECONDS).
     */
    private static final long PAGER_SIDE_MIN_WAIT_SECONDS = 1;

    /** What the core's shutdown left: the streams open then, and the keepalives each end awaits. */
    private record Ending(boolean[] open, io.machxp.kernel.core.EndBarrier[] barriers,
            CompletableFuture<Boolean>[] answered, String[] targets) {}

    /**
     * Core thread: the core's shutdown (returns, terminates, a last keepalive per pager), and the
     * answers the ends await. Called on the core loop itself (no caller to wait), every stream
     * ends at once, as before the clean end waited.
     */
    private Ending shutDown() {
        boolean[] open = new boolean[links.length];
        String[] targets = new String[links.length];
        boolean any = false;
        for (int p = 0; p < links.length; p++) {
            open[p] = links[p].streamOpen();
            targets[p] = links[p].target(); // read on the loop, which writes it
            any |= open[p];
        }
        io.machxp.kernel.core.EndBarrier[] barriers = new io.machxp.kernel.core.EndBarrier[links.length];
        @SuppressWarnings({"unchecked", "rawtypes"})
        CompletableFuture<Boolean>[] answered = new CompletableFuture[links.length];
        if (any) {
            try {
                for (io.machxp.kernel.core.EndBarrier b : core.xp().shutdown()) {
                    barriers[b.pager()] = b;
                }
            } catch (RuntimeException gone) {
                // a stream went away meanwhile: the others still end
            }
        }
        for (int p = 0; p < links.length; p++) {
            answered[p] = open[p] && barriers[p] != null ? links[p].awaitEndBarrier(barriers[p])
                    : CompletableFuture.completedFuture(true);
        }
        return new Ending(open, barriers, answered, targets);
    }

    /**
     * Core thread: the core's shutdown's second part at each pager (its terminates; the session
     * stops, see {@link KernelXp#finishShutdown}), then each stream still open ends. Which ended.
     */
    private boolean[] finish() {
        boolean[] closed = new boolean[links.length];
        // the primary last, as the first part goes: its stop would end the others' sessions
        for (int p = links.length - 1; p >= 0; p--) {
            try {
                core.xp().finishShutdown(p);
            } catch (RuntimeException e) {
                log.error("kernel {}: its shutdown failed at pager {}; the stream ends anyway", core.name(), p, e);
            }
            links[p].closeAllButCurrent();
            closed[p] = links[p].streamOpen() && links[p].halfClose();
        }
        return closed;
    }

    /** Waits until {@code deadline} at most for each pager's answer (from {@code from}); logs each that did not come. */
    private void awaitBarriers(Ending ending, long from, long deadline) {
        for (int p = 0; p < links.length; p++) {
            io.machxp.kernel.core.EndBarrier b = ending.barriers[p];
            if (b == null || !ending.open[p]) {
                continue;
            }
            Boolean answered;
            try {
                answered = ending.answered[p].get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                answered = null;
            } catch (ExecutionException | TimeoutException e) {
                answered = null;
            }
            if (Boolean.TRUE.equals(answered)) {
                continue;
            }
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - from);
            String what = answered == null
                    ? "pager " + p + " (" + ending.targets[p] + ") did not answer within " + waitedMillis
                            + " ms the keepalive sent after the kernel's last return (sequence " + b.keepalive() + ")"
                    : "the session with pager " + p + " (" + ending.targets[p] + ") ended (its stream broke, and "
                            + "no resume or reclaim, or none in time) before the pager answered the keepalive sent "
                            + "after the kernel's last return (sequence " + b.keepalive() + ")";
            if (b.returns() == 0) {
                log.info("kernel {}: {}; no page it gave back with its data waited for that answer", core.name(), what);
            } else {
                log.warn("kernel {}: {}; the stream ends anyway: {} pages it gave back with their data (dirty or "
                        + "precious) since the last keepalive "
                        + "that pager answered may not be in its store, and a crash of the pager now would lose them",
                        core.name(), what, b.returns());
            }
        }
    }
}
