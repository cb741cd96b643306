package io.machxp.chaos;

import java.util.SplittableRandom;

/**
 * A worker thread of a chaos run, in a task of its own on one kernel, as the harness records it:
 * which futex it is locking, owns or unlocking, and whether it is dead (its task died) or finished
 * (its quiet-period lock is made). {@link WorkerLoop} drives it, {@link KernelCalls} records what
 * it owns from the kernel's answers, and {@link ChaosRun#ownerGone} ends its ownership when a
 * fault does.
 */
final class Worker {
    final SimKernelState kernel;
    final long task;
    final int tid;
    /** Where each object is mapped in its task, by pager. */
    final long[] bases;
    final int priority;
    final String name;
    final SplittableRandom rnd;
    /** The futex it owns, or -1. */
    int owns = -1;
    long acquiredAt;
    boolean dead;
    boolean finished;
    /** The futex its last lock call was for. */
    int locking = -1;
    /** The futex of its unlock call not answered yet, or -1. */
    int unlocking = -1;
    /** The answer of its lock call not answered yet (for a cancel by its caller), or null. */
    io.machxp.kernel.core.Reply<?> pendingLock;
    /** The counter its last read under a futex returned. */
    long lastRead;

    Worker(SimKernelState kernel, long task, int tid, long[] bases, int priority, SplittableRandom rnd) {
        this.kernel = kernel;
        this.task = task;
        this.tid = tid;
        this.bases = bases;
        this.priority = priority;
        this.name = kernel.name + "/" + tid;
        this.rnd = rnd;
    }

    /** The address of futex {@code f}'s word: its page in the object of f's pager. */
    long word(int futex) {
        return bases[futex % bases.length] + (long) futex * ChaosRun.PAGE;
    }
}
