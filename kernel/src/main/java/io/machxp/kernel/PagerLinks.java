package io.machxp.kernel;

import io.grpc.ChannelCredentials;
import io.machxp.kernel.core.KernelCore;
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
 * (its pages go back and its objects are terminated, each on its pager's stream), then ends every
 * stream and waits a few seconds at most for each pager to end its side.
 */
final class PagerLinks {
    private static final long CLOSE_WAIT_SECONDS = 5;
    private final PagerLink[] links;
    private final EventLoop loop;
    private final KernelCore core;

    private final XpTap tap;

    PagerLinks(List<ReplicaChoice> targets, ChannelCredentials credentials, EventLoopGroup coreGroup, KernelCore core,
            XpTap tap, XpSendLimits limits) {
        this.loop = coreGroup.next();
        this.core = core;
        this.tap = tap;
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
            core.start();
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
        tap.sent(pager, message);
        links[pager].send(message);
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
     * Returns dirty pages, terminates every object and ends the streams; waits (a few seconds at
     * most per pager) until each pager has ended its side, so that what the kernel sent has arrived.
     */
    void close() {
        CompletableFuture<boolean[]> halfClosed = new CompletableFuture<>();
        loop.execute(() -> {
            boolean[] open = new boolean[links.length];
            boolean any = false;
            for (int p = 0; p < links.length; p++) {
                open[p] = links[p].streamOpen();
                any |= open[p];
            }
            if (any) {
                try {
                    core.shutdown();
                } catch (RuntimeException gone) {
                    // a stream went away meanwhile: the others still end below
                }
                for (int p = 0; p < links.length; p++) {
                    open[p] = open[p] && links[p].halfClose();
                }
            }
            for (PagerLink l : links) {
                l.closeAllButCurrent(); // replaced connections and the spare
            }
            halfClosed.complete(open);
        });
        boolean[] open = new boolean[links.length];
        if (!loop.inEventLoop()) {
            try {
                open = halfClosed.get(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                // the core did not answer in time: close anyway
            }
        }
        for (int p = 0; p < links.length; p++) {
            links[p].awaitEnd(open[p]);
        }
    }
}
